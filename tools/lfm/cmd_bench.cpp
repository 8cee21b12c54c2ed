// lfm bench: end-to-end speed of a model directory: prefill tok/s, decode tok/s, the decode memory
// bandwidth achieved (weight bytes x tok/s) and peak RSS. Medians over repetitions.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <sys/stat.h>

#include "base/cpu_features.h"
#include "base/mapped_file.h"
#include "commands.h"
#include "common_options.h"
#include "engine/random_model.h"

namespace lfm::cli {

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double PeakRssMb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // Linux reports KiB
}

size_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

}  // namespace

// Medians settle within a few runs; a bound keeps a mistyped -r from running for days.
constexpr int kMaxReps = 1000;

void RegisterBench(CLI::App& app, Runners& runners) {
  struct Opts {
    ModelOptions model;
    std::string shape;
    int prompt_tokens = 512, gen_tokens = 64, reps = 3;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Measure prefill and decode speed (median of --reps runs), decode bandwidth and peak RSS.\n"
      "With --shape, a random model of that shape is written first to the -m directory if it has none.");
  SetExamples(sub, {
      R"ex(lfm bench -m /tmp/tiny --shape tiny -p 64 -n 16)ex",
      R"ex(lfm bench -m /tmp/lfm2-350m --shape lfm2-350m -p 512 -n 64)ex",
  });
  o->model.Add(sub);
  sub->add_option("--shape", o->shape, "Write a random model of this shape to -m DIR first if it has no weights");
  sub->add_option("-p,--prompt-tokens", o->prompt_tokens, "Prompt length for the prefill measurement")
      ->capture_default_str();
  sub->add_option("-n,--gen-tokens", o->gen_tokens, "Tokens to decode")->capture_default_str();
  sub->add_option("-r,--reps", o->reps, "Repetitions (the median is reported), at most 1000")->capture_default_str();
  sub->add_flag("--json", o->json, "Print the results as one JSON object");
  runners.emplace_back(sub, [o]() {
    if (Status st = o->model.Validate(); !st.ok()) return UsageError("bench", st);
    // Flags first, before a random model is written or a model is loaded.
    if (o->prompt_tokens < 1 || o->gen_tokens < 2 || o->reps < 1 || o->reps > kMaxReps) {
      std::fprintf(stderr, "lfm bench: need -p >= 1, -n >= 2, 1 <= -r <= %d (got -p %d, -n %d, -r %d)\n", kMaxReps,
                   o->prompt_tokens, o->gen_tokens, o->reps);
      return 2;
    }
    if (!o->shape.empty() && !FileExists(o->model.model_dir + "/model.safetensors")) {
      auto shape = RandomModelShapeByName(o->shape);
      if (!shape.ok()) {
        std::fprintf(stderr, "lfm bench: %s\n", shape.status().message().c_str());
        return 2;
      }
      std::fprintf(stderr, "lfm bench: writing random '%s' model to %s\n", o->shape.c_str(),
                   o->model.model_dir.c_str());
      Status st = WriteRandomModel(*shape, o->model.model_dir, {});
      if (!st.ok()) {
        std::fprintf(stderr, "lfm bench: %s\n", st.ToString().c_str());
        return 1;
      }
    }
    auto engine = o->model.Load();
    if (!engine) return 1;
    const ModelInfo& info = engine->info();
    // Checked before the prompt is allocated: -p 2000000000 would otherwise ask for 8 GB of ids.
    if (info.max_context > 0 && static_cast<int64_t>(o->prompt_tokens) + o->gen_tokens > info.max_context) {
      std::fprintf(stderr, "lfm bench: -p %d + -n %d tokens exceed the model's context of %d tokens\n",
                   o->prompt_tokens, o->gen_tokens, info.max_context);
      return 2;
    }
    std::mt19937 rng(1234);
    // Ordinary (non-special) ids only, so the run looks like text.
    std::uniform_int_distribution<int32_t> pick(std::min(501, info.vocab_size - 1), info.vocab_size - 1);
    std::vector<int32_t> prompt(o->prompt_tokens);
    for (auto& id : prompt) id = pick(rng);
    GenerateOptions go;
    go.max_tokens = o->gen_tokens;
    go.ignore_eos = true;
    go.sampling = SamplingParams{.temperature = 0};
    std::vector<double> prefill, decode;
    for (int r = 0; r < o->reps + 1; ++r) {  // the first run warms caches and page-ins, not counted
      auto g = engine->GenerateFromIds(prompt, go);
      if (!g.ok()) {
        std::fprintf(stderr, "lfm bench: %s\n", g.status().ToString().c_str());
        return 1;
      }
      if (g->finish_reason == "error") {
        std::fprintf(stderr, "lfm bench: %s\n", g->error.c_str());
        return 1;
      }
      if (r == 0) continue;
      prefill.push_back(g->timings.prefill_tokens_per_s());
      decode.push_back(g->timings.decode_tokens_per_s());
    }
    const double weight_gb = FileSize(o->model.model_dir + "/model.safetensors") / 1e9;
    const double pp = Median(prefill), tg = Median(decode);
    if (o->json) {
      nlohmann::ordered_json j = {{"model", o->model.model_dir},        {"threads", o->model.threads},
                                  {"prompt_tokens", o->prompt_tokens}, {"gen_tokens", o->gen_tokens},
                                  {"reps", o->reps},                   {"kernel_isa", IsaName(ActiveIsa())},
                                  {"cpu_isa", IsaName(DetectCpuIsa())}, {"prefill_tok_s", pp},
                                  {"decode_tok_s", tg},                {"weights_gb", weight_gb},
                                  {"decode_gb_s", weight_gb * tg},     {"peak_rss_mb", PeakRssMb()},
                                  {"prefill_all", prefill},            {"decode_all", decode}};
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("model        %s (%s, %d layers, hidden %d)\n", o->model.model_dir.c_str(), info.model_type.c_str(),
                  info.num_layers, info.hidden_size);
      std::printf("kernels      %s  (CPU supports %s; LFM_ISA=scalar|avx2|avx512 lowers it)\n", IsaName(ActiveIsa()),
                  IsaName(DetectCpuIsa()));
      std::printf("prefill      %.1f tok/s  (median of %d, %d-token prompt)\n", pp, o->reps, o->prompt_tokens);
      std::printf("decode       %.1f tok/s  (median of %d, %d tokens)\n", tg, o->reps, o->gen_tokens);
      std::printf("bandwidth    %.1f GB/s   (%.2f GB of weights file x decode tok/s)\n", weight_gb * tg, weight_gb);
      std::printf("peak RSS     %.0f MB\n", PeakRssMb());
    }
    return 0;
  });
}

}  // namespace lfm::cli
