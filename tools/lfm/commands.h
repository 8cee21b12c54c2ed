// Each `lfm` subcommand lives in its own cmd_*.cpp and registers itself on the CLI11 app here.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace lfm::cli {

// Registers a subcommand; the returned callback runs it (after parsing) and gives the exit code.
using CommandRunner = std::function<int()>;
using Runners = std::vector<std::pair<CLI::App*, CommandRunner>>;
void RegisterMakeTestModel(CLI::App& app, Runners& runners);
void RegisterGenerate(CLI::App& app, Runners& runners);
void RegisterTokenize(CLI::App& app, Runners& runners);
void RegisterBench(CLI::App& app, Runners& runners);
void RegisterPreprocess(CLI::App& app, Runners& runners);
void RegisterRun(CLI::App& app, Runners& runners);
void RegisterChat(CLI::App& app, Runners& runners);
void RegisterRender(CLI::App& app, Runners& runners);

}  // namespace lfm::cli
