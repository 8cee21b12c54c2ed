// The `lfm` command: a thin dispatcher over subcommands, each in its own cmd_*.cpp.
#include <cstdio>
#include <exception>
#include <new>
#include <string_view>
#include <vector>

#include "commands.h"
#include "common_options.h"

int main(int argc, char** argv) {
  CLI::App app{
      "lfm - run LiquidAI LFM2 / LFM2-VL models on the CPU.\n"
      "Point -m at a Hugging Face model directory (config.json, model.safetensors, tokenizer.json, ...).\n"
      "No model at hand? `lfm make-test-model --shape tiny --out /tmp/tiny` writes a random one.\n"
      "Text arguments and files must be UTF-8 (other bytes are refused, naming the byte offset).\n"
      "`lfm SUBCOMMAND --help` lists its options and examples."};
  lfm::cli::SetExamples(&app, {
      R"ex(lfm make-test-model --shape tiny --out /tmp/tiny)ex",
      R"ex(lfm generate -m /tmp/tiny -p "Hello" -n 16)ex",
      R"ex(lfm run -m /tmp/tiny -p "Hi" --json)ex",
  });
  app.require_subcommand(1);
  app.set_version_flag("--version", "lfm.cpp 0.1.0");
  std::vector<std::pair<CLI::App*, lfm::cli::CommandRunner>> runners;
  lfm::cli::RegisterRun(app, runners);
  lfm::cli::RegisterChat(app, runners);
  lfm::cli::RegisterGenerate(app, runners);
  lfm::cli::RegisterRender(app, runners);
  lfm::cli::RegisterServe(app, runners);
  lfm::cli::RegisterBatch(app, runners);
  lfm::cli::RegisterInspect(app, runners);
  lfm::cli::RegisterTokenize(app, runners);
  lfm::cli::RegisterPreprocess(app, runners);
  lfm::cli::RegisterBench(app, runners);
  lfm::cli::RegisterQuantize(app, runners);
  lfm::cli::RegisterMakeTestModel(app, runners);
  // llama.cpp's spelling of the prefill micro-batch flag; CLI11 takes only one-letter short options.
  std::vector<char*> args(argv, argv + argc);
  static char ubatch_flag[] = "--ubatch";
  for (auto& a : args)
    if (std::string_view(a) == "-ub") a = ubatch_flag;
  try {
    app.parse(argc, args.data());
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (105, 106, ...) mean nothing to a shell script: every usage error is 2.
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && argc > 1 && argv[1][0] != '-' &&
        app.get_subcommands().empty()) {
      std::fprintf(stderr, "lfm: unknown subcommand '%s' (`lfm --help` lists them)\n", argv[1]);
      return lfm::cli::kExitUsage;
    }
    const int code = app.exit(e);
    return code == 0 ? lfm::cli::kExitOk : lfm::cli::kExitUsage;
  }
  // A last resort, not the error path: every known failure is a Status with its own message. An
  // exception reaching here is a bug, but it must still end in a message and exit 1, not an abort.
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "lfm: internal error: out of memory\n");
    return lfm::cli::kExitFailure;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lfm: internal error: %s\n", e.what());
    return lfm::cli::kExitFailure;
  }
  return lfm::cli::kExitFailure;
}
