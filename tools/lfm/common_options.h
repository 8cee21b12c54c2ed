// Options shared by the generating subcommands (generate, run, chat): model, threads, sampling.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "lfm/engine.h"

namespace lfm::cli {

// Exit codes of every subcommand (documented in `lfm --help` and the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime or input error: model load, generation error, ...
inline constexpr int kExitUsage = 2;    // usage error: bad flag, flag value or command-line text

struct ModelOptions {
  std::string model_dir;
  std::string mmproj;  // --mmproj: LFM2-VL vision tower + projector GGUF for a .gguf text model
  int threads = 0;
  std::string dtype = "auto";
  int max_context = 0;
  bool verbose = false;
  int ubatch = 512;
  std::string kv_type = "f32";  // --kv-type f32|bf16 (LoadOptions::kv_type)
  void Add(CLI::App* sub);
  // Flag values out of range (checked before any work): InvalidArgument naming the flag.
  Status Validate() const;
  // Loads the engine; prints the error and returns null on failure. Warns about random weights.
  // Prints the load time when stderr is a terminal or with -v.
  std::unique_ptr<Engine> Load() const;
  // Timing notes (load time, image encode time) go to stderr on a terminal or with -v only, so
  // scripted runs keep a quiet stderr.
  bool ShowProgress() const;
};

struct SamplingOptions {
  std::optional<float> temperature, top_p, min_p, repeat_penalty;
  std::optional<int> top_k, repeat_last_n;
  std::optional<uint64_t> seed;
  bool seed_random = false;  // --seed -1: `seed` holds the seed drawn at parse time
  int max_tokens = 256;
  bool max_tokens_set = false;  // -n given explicitly
  int min_new_tokens = 0;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  void Add(CLI::App* sub);
  // Flag values out of range, NaN, or stop strings that are empty or not UTF-8: InvalidArgument
  // naming the flag (checked before any work).
  Status Validate() const;
  // Flags override the model's generation_config.json defaults. With --seed -1 the seed drawn is
  // printed to stderr when `model` shows progress (-v or a terminal); --json prints it always.
  GenerateOptions Resolve(const Engine& engine, const ModelOptions* model = nullptr) const;
};

// --json-schema JSON|FILE | --grammar LARK|FILE | --grammar-file FILE | --regex RE: constrains the
// output (at most one).
struct ConstraintOptions {
  std::string json_schema;  // inline JSON (starts with '{', or is true/false) or a file path
  std::string grammar;      // inline Lark text, or a file path when it names an existing file
  std::string grammar_file;
  std::optional<std::string> regex;
  bool any() const { return !json_schema.empty() || !grammar.empty() || !grammar_file.empty() || regex.has_value(); }
  void Add(CLI::App* sub);
  // The constraint's kind and source text (files read, inline values taken as they are); `where`
  // names it in messages ("--grammar (inline)", a path). Empty `where`: no constraint given.
  struct Source {
    GrammarKind kind = GrammarKind::kRegex;
    std::string text, where;
  };
  Result<Source> Resolve() const;
  // Compiles the constraint, if any, into opts->grammar; prints the error and returns false on failure.
  bool Apply(Engine& engine, GenerateOptions* opts) const;
};

// The --mmproj help text (shared by the subcommands and `lfm bench`).
std::string MmprojHelp();

// Prints "lfm CMD: MESSAGE" to stderr and returns kExitUsage if st is an error (else kExitOk).
int UsageError(const char* cmd, const Status& st);

// Prints "image I: encoded in X ms" per image to stderr when model.ShowProgress().
void PrintImageEncodeTimes(const ModelOptions& model, const Timings& t);

// Prints "prefill: N tokens in X ms (Y tok/s) | decode: ..." to stderr.
void PrintTimings(const Timings& t);
// The generation as one JSON object (prompt_ids, ids, text, finish_reason, timings, sampling).
std::string GenerationJson(const Generation& g, const GenerateOptions& opts);

}  // namespace lfm::cli
