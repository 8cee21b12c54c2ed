// Options shared by the generating subcommands (generate, run, chat): model, threads, sampling.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "lfm/engine.h"

namespace lfm::cli {

struct ModelOptions {
  std::string model_dir;
  int threads = 0;
  std::string dtype = "auto";
  int max_context = 0;
  void Add(CLI::App* sub);
  // Loads the engine; prints the error and returns null on failure. Warns about random weights.
  std::unique_ptr<Engine> Load() const;
};

struct SamplingOptions {
  std::optional<float> temperature, top_p, min_p, repeat_penalty;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  int max_tokens = 256;
  bool max_tokens_set = false;  // -n given explicitly
  std::vector<std::string> stop;
  bool ignore_eos = false;
  void Add(CLI::App* sub);
  // Flags override the model's generation_config.json defaults.
  GenerateOptions Resolve(const Engine& engine) const;
};

// --json-schema FILE | --grammar FILE.lark | --regex RE: constrains the output (at most one).
struct ConstraintOptions {
  std::string json_schema_file, lark_file;
  std::optional<std::string> regex;
  void Add(CLI::App* sub);
  // Compiles the constraint, if any, into opts->grammar; prints the error and returns false on failure.
  bool Apply(Engine& engine, GenerateOptions* opts) const;
};

// Prints "prefill: N tokens in X ms (Y tok/s) | decode: ..." to stderr.
void PrintTimings(const Timings& t);
// The generation as one JSON object (prompt_ids, ids, text, finish_reason, timings, sampling).
std::string GenerationJson(const Generation& g, const GenerateOptions& opts);

}  // namespace lfm::cli
