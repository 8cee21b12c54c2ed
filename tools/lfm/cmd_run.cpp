// lfm run: one chat turn through the model's chat template (system prompt, messages file, tools,
// images), streamed to stdout or printed as JSON.
#include <cstdio>
#include <optional>
#include <string>

#include "admission_options.h"
#include "base/mapped_file.h"
#include "chat_output.h"
#include "chat_request.h"
#include "commands.h"
#include "common_options.h"
#include "finish_report.h"
#include "lfm/chat.h"
#include "lfm/task.h"
#include "peak_rss.h"
#include "stream_output.h"

#include <nlohmann/json.hpp>

namespace lfm::cli {

void RegisterRun(CLI::App& app, Runners& runners) {
  struct Opts {
    ModelOptions model;
    SamplingOptions sampling;
    ConstraintOptions constraint;
    ChatRequestOptions request;
    AdmissionOptions admission;
    bool json = false, show_tokens = false;
    std::optional<bool> split_image;
    std::string task;
    int image_min_tokens = 0, image_max_tokens = 0;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "One chat turn: the prompt goes through the model's chat template (BOS, roles, tools, image\n"
      "placeholders) and the reply streams to stdout. Tool calls in the reply are parsed (--json).");
  SetExamples(sub, {
      R"ex(lfm run -m models/LFM2-350M -p "Write a haiku about CPUs" --system "You are a poet.")ex",
      R"ex(lfm run -m models/LFM2-350M --messages chat.json --tools tools.json --json)ex",
      R"ex(lfm run -m models/LFM2-350M -p "Pick a colour" --regex "(red|green|blue)")ex",
      R"ex(lfm run -m models/LFM2.5-VL-450M --image photo.jpg -p "Describe this image." --temp 0.1 --min-p 0.15)ex",
      R"ex(lfm run -m models/LFM2.5-VL-450M --image photo.jpg -p "List the objects." --json-schema objects.schema.json --json)ex",
      R"ex(lfm run -m models/LFM2.5-VL-450M --task image-analysis --image photo.jpg --json)ex",
      R"ex(lfm run -m models/LFM2-350M -p "Yes or no?" --json-schema '{"enum": ["yes", "no"]}' --seed -1 --json)ex",
      R"ex(lfm run -m models/LFM2-350M -f prompt.txt --grammar 'start: "yes" | "no"' --show-tokens)ex",
      R"ex(lfm run -m models/LFM2-350M -p "Tell a story" --repeat-penalty 1.1 --repeat-last-n 64 --min-new-tokens 4)ex",
      R"ex(lfm run -m models/LFM2.5-VL-450M --image photo.jpg -p "Describe it." --no-split-image)ex",
  });
  o->model.Add(sub);
  o->request.Add(sub);
  o->sampling.Add(sub);
  o->constraint.Add(sub);
  o->admission.Add(sub);
  sub->add_option("--task", o->task,
                  "Built-in task: image-analysis (needs --image; -p adds a hint). Prints the parsed result "
                  "{caption, objects, visible_text, tags}, produced under its JSON Schema")
      ->check(CLI::IsMember({"image-analysis"}));
  sub->add_option("--image-min-tokens", o->image_min_tokens, "Override min_image_tokens (VL models)");
  sub->add_option("--image-max-tokens", o->image_max_tokens, "Override max_image_tokens (VL models)");
  auto* split = sub->add_flag_callback(
      "--split-image", [o] { o->split_image = true; },
      "VL models: cut a large image into 512x512 tiles plus a thumbnail (do_image_splitting; default: the "
      "model's preprocessor config, true for LFM2-VL)");
  auto* no_split =
      sub->add_flag_callback("--no-split-image", [o] { o->split_image = false; },
                             "VL models: one resized image, no tiles (fewer image tokens, less detail)");
  split->excludes(no_split);
  sub->add_flag("--show-tokens", o->show_tokens, "Print each generated token as [id 'piece'] instead of plain text");
  sub->add_flag("--json", o->json,
                "Print one JSON object: prompt_ids, ids, text, content, tool_calls, tool_call_errors, prompt, "
                "finish_reason, sampling, timings");
  runners.emplace_back(sub, [o]() {
    if (Status st = o->model.Validate(); !st.ok()) return UsageError("run", st);
    if (Status st = o->sampling.Validate(); !st.ok()) return UsageError("run", st);
    if (!o->task.empty()) {
      if (o->request.images.empty()) {
        std::fprintf(stderr, "lfm run: --task image-analysis needs at least one --image\n");
        return 2;
      }
      if (o->constraint.any()) {
        std::fprintf(stderr, "lfm run: --task brings its own grammar; drop --json-schema/--grammar/--regex\n");
        return 2;
      }
    }
    auto request = o->request.Build(o->admission.limits);
    if (!request.ok()) {
      std::fprintf(stderr, "lfm run: %s\n", request.status().message().c_str());
      return 2;
    }
    // The request limits need no model: refuse an oversized request before loading one.
    if (Status st = CheckChatRequest(*request, o->admission.limits); !st.ok()) {
      std::fprintf(stderr, "lfm run: %s\n", st.ToString().c_str());
      return 2;
    }
    auto engine = o->model.Load();
    if (!engine) return 1;
    ChatOptions co;
    co.generate = o->sampling.Resolve(*engine, &o->model);
    if (!o->constraint.Apply(*engine, &co.generate)) return 2;
    co.escape_special_tokens = o->request.escape_special;
    co.image_min_tokens = o->image_min_tokens;
    co.image_max_tokens = o->image_max_tokens;
    co.image_splitting = o->split_image;
    co.admission = o->admission.limits;
    if (!o->task.empty()) {
      std::string hint = o->request.prompt;
      if (!o->request.prompt_file.empty()) {  // read and checked by request.Build() above
        auto text = ReadFileToString(o->request.prompt_file, file_limits::kRequest);
        if (text.ok()) hint = std::move(text).value();
      }
      ImageAnalysisTask task(o->request.images, hint);
      if (!o->sampling.max_tokens_set) co.generate.max_tokens = 1024;  // the schema's worst case fits
      auto a = RunTask(*engine, task, co);
      if (!a.ok()) {
        std::fprintf(stderr, "lfm run: %s\n", a.status().ToString().c_str());
        return 1;
      }
      nlohmann::ordered_json j = {{"caption", a->caption}, {"objects", a->objects},
                                  {"visible_text", a->visible_text}, {"tags", a->tags}};
      std::printf("%s\n", j.dump(o->json ? -1 : 2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
      return 0;
    }
    const TokenCallback cb = StdoutTokenPrinter(*engine, o->show_tokens, o->json);
    auto r = engine->Chat(*request, co, cb);
    if (!r.ok()) {
      std::fprintf(stderr, "lfm run: %s\n", r.status().ToString().c_str());
      return 1;
    }
    if (o->json) {
      // The run's memory next to its timings: the peak RSS of the whole process (load included) and
      // what the engine accounts for (lfm/engine.h MemoryUse).
      auto j = nlohmann::ordered_json::parse(ChatResultJson(*r, co.generate));
      const MemoryUse mem = engine->memory_use();
      j["memory"] = {{"peak_rss_bytes", PeakRssBytes()},
                     {"weight_bytes", mem.weight_bytes},
                     {"kv_cache_bytes", mem.kv_cache_bytes},
                     {"scratch_bytes", mem.scratch_bytes}};
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
      return r->generation.finish_reason == "error" ? kExitFailure : kExitOk;
    }
    std::printf("\n");
    std::fflush(stdout);
    for (const auto& c : r->tool_calls)
      std::fprintf(stderr, "tool call: %s(%s)\n", c.name.c_str(), c.arguments_json.c_str());
    for (const auto& e : r->tool_call_errors) std::fprintf(stderr, "malformed tool call %s\n", e.c_str());
    const int code = ReportFinish("run", *engine, r->generation, co.generate);
    PrintImageEncodeTimes(o->model, r->generation.timings);
    PrintTimings(r->generation.timings);
    return code;
  });
}

}  // namespace lfm::cli
