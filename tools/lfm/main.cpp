// The `lfm` command: a thin dispatcher over subcommands, each in its own cmd_*.cpp.
#include <cstdio>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "lfm - run LiquidAI LFM2 / LFM2-VL models on the CPU.\n"
      "Point -m at a Hugging Face model directory (config.json, model.safetensors, tokenizer.json, ...).\n"
      "No model at hand? `lfm make-test-model --shape tiny --out /tmp/tiny` writes a random one."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lfm.cpp 0.1.0");
  std::vector<std::pair<CLI::App*, lfm::cli::CommandRunner>> runners;
  lfm::cli::RegisterRun(app, runners);
  lfm::cli::RegisterChat(app, runners);
  lfm::cli::RegisterGenerate(app, runners);
  lfm::cli::RegisterRender(app, runners);
  lfm::cli::RegisterTokenize(app, runners);
  lfm::cli::RegisterPreprocess(app, runners);
  lfm::cli::RegisterBench(app, runners);
  lfm::cli::RegisterMakeTestModel(app, runners);
  CLI11_PARSE(app, argc, argv);
  for (auto& [sub, run] : runners)
    if (sub->parsed()) return run();
  return 1;
}
