// lfm generate: raw completion (no chat template). The tokenizer's post-processor adds BOS.
#include <cstdio>
#include <string>

#include "base/mapped_file.h"
#include "base/utf8.h"
#include "commands.h"
#include "common_options.h"
#include "finish_report.h"
#include "stream_output.h"

namespace lfm::cli {

void RegisterGenerate(CLI::App& app, std::vector<std::pair<CLI::App*, CommandRunner>>& runners) {
  struct Opts {
    ModelOptions model;
    SamplingOptions sampling;
    ConstraintOptions constraint;
    std::string prompt, prompt_file;
    bool show_tokens = false, json = false, no_bos = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "generate",
      "Raw text completion: the prompt is tokenized as is (BOS added by the tokenizer, no chat template)\n"
      "and the continuation streams to stdout; timings go to stderr.");
  SetExamples(sub, {
      R"ex(lfm generate -m models/LFM2-350M -p "The capital of France is" -n 32)ex",
      R"ex(lfm generate -m models/LFM2-350M -p "Hello world" -n 32 --temp 0.7 --seed 1 --stop ".")ex",
      R"ex(lfm generate -m models/LFM2-350M -f prompt.txt --grammar answer.lark --json)ex",
  });
  o->model.Add(sub);
  auto* p = sub->add_option("-p,--prompt", o->prompt, "Prompt text");
  auto* f = sub->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
  p->excludes(f);
  o->sampling.Add(sub);
  o->constraint.Add(sub);
  sub->add_flag("--show-tokens", o->show_tokens, "Print each generated token as [id 'piece'] instead of plain text");
  sub->add_flag("--json", o->json,
                "Print one JSON object (prompt_ids, ids, text, finish_reason, sampling, timings) instead of streaming");
  sub->add_flag("--no-bos", o->no_bos, "Do not apply the tokenizer's post-processor (no BOS)");
  runners.emplace_back(sub, [o]() {
    if (Status st = o->model.Validate(); !st.ok()) return UsageError("generate", st);
    if (Status st = o->sampling.Validate(); !st.ok()) return UsageError("generate", st);
    if (Status st = CheckUtf8(o->prompt, "--prompt"); !st.ok()) return UsageError("generate", st);
    std::string prompt = o->prompt;
    if (!o->prompt_file.empty()) {
      auto text = ReadFileToString(o->prompt_file, file_limits::kRequest);
      if (!text.ok()) {
        std::fprintf(stderr, "lfm generate: %s\n", text.status().ToString().c_str());
        return 2;
      }
      prompt = *text;
      if (Status st = CheckUtf8(prompt, o->prompt_file); !st.ok()) return UsageError("generate", st);
    }
    if (prompt.empty()) {
      std::fprintf(stderr, "lfm generate: give a prompt with -p TEXT or -f FILE\n");
      return 2;
    }
    auto engine = o->model.Load();
    if (!engine) return 1;
    GenerateOptions go = o->sampling.Resolve(*engine, &o->model);
    go.add_special_tokens = !o->no_bos;
    if (!o->constraint.Apply(*engine, &go)) return 2;
    const TokenCallback cb = StdoutTokenPrinter(*engine, o->show_tokens, o->json);
    auto g = engine->Complete(prompt, go, cb);
    if (!g.ok()) {
      std::fprintf(stderr, "\nlfm generate: %s\n", g.status().ToString().c_str());
      return 1;
    }
    if (o->json) {
      std::printf("%s\n", GenerationJson(*g, go).c_str());
      return g->finish_reason == "error" ? kExitFailure : kExitOk;
    }
    std::printf("\n");
    std::fflush(stdout);
    const int code = ReportFinish("generate", *engine, *g, go);
    PrintTimings(g->timings);
    return code;
  });
}

}  // namespace lfm::cli
