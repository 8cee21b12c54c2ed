// Each `lfm` subcommand lives in its own cmd_*.cpp and registers itself on the CLI11 app here.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <initializer_list>
#include <string>

namespace lfm::cli {

// Registers a subcommand; the returned callback runs it (after parsing) and gives the exit code.
using CommandRunner = std::function<int()>;
using Runners = std::vector<std::pair<CLI::App*, CommandRunner>>;
// Ends `lfm CMD --help` with an "Examples:" section (one command per line) and the exit codes.
// tests/e2e/cli_examples_test.cpp runs every example line against the tiny test models, so an
// example that stops working fails the build's tests.
inline void SetExamples(CLI::App* app, std::initializer_list<const char*> commands) {
  std::string footer = "Examples:\n";
  for (const char* c : commands) footer += std::string("  ") + c + "\n";
  footer += "\nExit codes: 0 ok, 1 runtime or input error, 2 usage error (bad flag or value).";
  app->footer(footer);
}

void RegisterMakeTestModel(CLI::App& app, Runners& runners);
void RegisterGenerate(CLI::App& app, Runners& runners);
void RegisterTokenize(CLI::App& app, Runners& runners);
void RegisterBench(CLI::App& app, Runners& runners);
void RegisterPreprocess(CLI::App& app, Runners& runners);
void RegisterRun(CLI::App& app, Runners& runners);
void RegisterChat(CLI::App& app, Runners& runners);
void RegisterRender(CLI::App& app, Runners& runners);
void RegisterServe(CLI::App& app, Runners& runners);
void RegisterBatch(CLI::App& app, Runners& runners);
void RegisterInspect(CLI::App& app, Runners& runners);
void RegisterQuantize(CLI::App& app, Runners& runners);

}  // namespace lfm::cli
