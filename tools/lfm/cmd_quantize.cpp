// lfm quantize: a model directory written as a llama.cpp GGUF text model (engine/gguf_export.h).
#include <cstdio>
#include <string>

#include "base/timer.h"
#include "commands.h"
#include "common_options.h"
#include "engine/gguf_export.h"
#include "progress_line.h"
#include "tensor/dtype.h"

namespace lfm::cli {

void RegisterQuantize(CLI::App& app, Runners& runners) {
  struct Opts {
    std::string model_dir, type, out;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "quantize",
      "Write a model directory as a llama.cpp GGUF text model (loads in lfm and in llama.cpp): lfm2.* "
      "hyper-parameters, the tokenizer (tokens, types, merges, special ids) and chat template as metadata. "
      "The decoder's matrices become --type (q8_0/q4_0 exactly as `--dtype q8_0|q4_0` quantizes at load, "
      "the embedding then kept as stored); norms and the conv kernel stay f32. For an LFM2-VL directory the "
      "text model is written (its vision tower is not).");
  SetExamples(sub, {
      R"ex(lfm quantize -m models/LFM2-350M --type q8_0 --out /tmp/lfm2-350m-q8_0.gguf)ex",
  });
  sub->add_option("-m,--model", o->model_dir, "Model directory (Hugging Face layout)")->required();
  sub->add_option("--type", o->type, "Type of the decoder's matrices: q8_0, q4_0, bf16, f16, f32")->required();
  sub->add_option("--out", o->out, "The .gguf file to write")->required();
  runners.emplace_back(sub, [o]() {
    std::optional<DType> t = ParseDTypeName(o->type);
    if (!t) return UsageError("quantize", InvalidArgument("--type must be q8_0, q4_0, bf16, f16 or f32, got '" +
                                                          o->type + "'"));
    Timer timer;
    Status st;
    {
      SlowStepNotice notice("writing " + o->out);
      st = ExportLfm2TextGguf(o->model_dir, *t, o->out);
    }
    if (!st.ok()) {
      std::fprintf(stderr, "lfm quantize: %s\n", st.ToString().c_str());
      return kExitFailure;
    }
    std::fprintf(stderr, "lfm quantize: wrote %s (%s) in %.1f s\n", o->out.c_str(), DTypeName(*t),
                 timer.Millis() / 1e3);
    return kExitOk;
  });
}

}  // namespace lfm::cli
