// lfm make-test-model: writes a seeded random-weight HF model directory for tests and benchmarks.
#include <cstdio>
#include <string>

#include "commands.h"
#include "engine/random_model.h"

namespace lfm::cli {

void RegisterMakeTestModel(CLI::App& app, std::vector<std::pair<CLI::App*, CommandRunner>>& runners) {
  struct Opts {
    std::string shape = "tiny", out, dtype = "auto";
    uint64_t seed = 20251122;
    bool quiet = false;
  };
  auto opts = std::make_shared<Opts>();
  std::string shapes;
  for (const auto& n : RandomModelShapeNames()) shapes += (shapes.empty() ? "" : ", ") + n;
  CLI::App* sub = app.add_subcommand(
      "make-test-model",
      "Write a random-weight model directory with the real file layout and tensor shapes.\n"
      "Its output is meaningless text: it exists to test and benchmark the engine without real weights.");
  SetExamples(sub, {
      R"ex(lfm make-test-model --shape tiny --out /tmp/tiny)ex",
      R"ex(lfm make-test-model --shape tiny-vl --out /tmp/tiny-vl)ex",
  });
  sub->add_option("--shape", opts->shape, "Model shape: " + shapes)->capture_default_str();
  sub->add_option("--out", opts->out, "Output directory (created if missing)")->required();
  sub->add_option("--dtype", opts->dtype, "Weight dtype: f32, bf16, or auto (f32 for tiny shapes, bf16 otherwise)")
      ->capture_default_str();
  sub->add_option("--seed", opts->seed, "Random seed")->capture_default_str();
  sub->add_flag("-q,--quiet", opts->quiet, "No progress output");
  runners.emplace_back(sub, [opts]() {
    auto shape = RandomModelShapeByName(opts->shape);
    if (!shape.ok()) {
      std::fprintf(stderr, "lfm make-test-model: %s\n", shape.status().message().c_str());
      return 2;
    }
    RandomModelOptions ro;
    ro.dtype = opts->dtype;
    ro.seed = opts->seed;
    int last_pct = -1;
    if (!opts->quiet) {
      ro.progress = [&last_pct](size_t done, size_t total) {
        int pct = total ? static_cast<int>(100.0 * done / total) : 100;
        if (pct / 5 != last_pct / 5) {
          std::fprintf(stderr, "\rwriting weights: %3d%% (%.1f / %.1f MB)", pct, done / 1e6, total / 1e6);
          last_pct = pct;
        }
      };
    }
    Status st = WriteRandomModel(*shape, opts->out, ro);
    if (!opts->quiet) std::fprintf(stderr, "\n");
    if (!st.ok()) {
      std::fprintf(stderr, "lfm make-test-model: %s\n", st.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote random-weight model '%s' to %s (random weights: output text is meaningless)\n",
                 opts->shape.c_str(), opts->out.c_str());
    return 0;
  });
}

}  // namespace lfm::cli
