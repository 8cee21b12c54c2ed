#include "common_options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <random>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "base/timer.h"
#include "base/utf8.h"
#include "progress_line.h"

namespace lfm::cli {

std::string MmprojHelp() {
  return "LFM2-VL from llama.cpp GGUFs: the mmproj-*.gguf (vision tower + projector) that goes with the "
         ".gguf text model given to -m. Its clip.* metadata gives the tower's sizes, patch size, downsample "
         "factor and image mean/std; the image settings it does not state (tiling, 2..10 tiles of 512 px, "
         "64..256 image tokens, thumbnail) are those of the published preprocessor_config.json";
}

void ModelOptions::Add(CLI::App* sub) {
  sub->add_option("-m,--model", model_dir, "Model directory (Hugging Face layout: config.json, model.safetensors, "
                                           "tokenizer.json, ...) or a llama.cpp .gguf file")
      ->required();
  sub->add_option("--mmproj", mmproj, MmprojHelp());
  sub->add_option("-t,--threads", threads,
                  "Threads (0 = all cores; at most " + std::to_string(MaxLoadThreads()) +
                      " = 4x this machine's hardware threads)")
      ->capture_default_str();
  sub->add_option("--dtype", dtype, "Weight dtype in memory: auto (as stored), f32, bf16, f16, q8_0, q4_0 (a VL model's vision tower takes the float types; with q8_0 / q4_0 it stays as stored, as llama.cpp keeps an mmproj)")->capture_default_str();
  sub->add_option("-c,--ctx-size", max_context, "Context length (0 = the model's max_position_embeddings)")
      ->capture_default_str();
  sub->add_flag("-v,--verbose", verbose, "Print load and image-encode times to stderr even when it is not a terminal");
  sub->add_option("--ubatch", ubatch,
                  "(also -ub) Prefill micro-batch: prompt tokens run through the model at once (bounds scratch memory)")
      ->capture_default_str();  // range checked by Engine::Load, which names the value
  sub->add_option("--kv-type", kv_type,
                  "KV cache type: f32, or bf16 (keys and values rounded to bf16: half the cache memory and half "
                  "the bytes each decoded token reads from it; logits move by that rounding)")
      ->capture_default_str();  // checked by Validate, which names the flag
  sub->add_flag_callback("--progress", ForceProgressLines,
                         "Print progress lines (prefill, image encoding, grammar compilation) on stderr "
                         "even when it is not a terminal (default: on a terminal, for steps over ~2 s)");
}

Status ModelOptions::Validate() const {
  if (threads < 0)
    return InvalidArgument("-t/--threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  if (threads > MaxLoadThreads())
    return InvalidArgument("-t/--threads " + std::to_string(threads) + " is more than the limit of " +
                           std::to_string(MaxLoadThreads()) + " (4x this machine's hardware threads, at most 1024)");
  if (max_context < 0)
    return InvalidArgument("-c/--ctx-size must be >= 0 (0 = the model's maximum), got " + std::to_string(max_context));
  if (kv_type != "f32" && kv_type != "bf16")
    return InvalidArgument("--kv-type must be f32 or bf16, got '" + kv_type + "'");
  return Status::Ok();
}

bool ModelOptions::ShowProgress() const { return verbose || isatty(STDERR_FILENO); }

std::unique_ptr<Engine> ModelOptions::Load() const {
  LoadOptions lo;
  lo.threads = threads;
  lo.weight_dtype = dtype;
  lo.max_context = max_context;
  lo.mmproj = mmproj;
  Timer timer;
  lo.ubatch = ubatch;
  lo.kv_type = kv_type;
  auto engine = Engine::Load(model_dir, lo);
  if (!engine.ok()) {
    std::fprintf(stderr, "lfm: cannot load model: %s\n", engine.status().ToString().c_str());
    return nullptr;
  }
  if (ShowProgress()) std::fprintf(stderr, "lfm: loaded %s in %.0f ms\n", model_dir.c_str(), timer.Millis());
  if ((*engine)->info().random_weights)
    std::fprintf(stderr,
                 "lfm: note: %s holds RANDOM weights (made by `lfm make-test-model`): its text is meaningless.\n"
                 "     For real output, download e.g. LiquidAI/LFM2.5-VL-450M from Hugging Face and pass its "
                 "directory to -m.\n",
                 model_dir.c_str());
  return std::move(*engine);
}

void SamplingOptions::Add(CLI::App* sub) {
  sub->add_option_function<int>(
         "-n,--max-tokens",
         [this](int n) {
           max_tokens = n;
           max_tokens_set = true;
         },
         "Maximum tokens to generate (default 256; 1024 for --task)");
  sub->add_option("--temp", temperature, "Temperature (0 = greedy). Default: generation_config.json, else greedy");
  sub->add_option("--top-k", top_k, "Top-k (0 = off)");
  sub->add_option("--top-p", top_p, "Top-p / nucleus (1 = off)");
  sub->add_option("--min-p", min_p, "Min-p (0 = off); Liquid recommends 0.15 with --temp 0.1");
  sub->add_option("--repeat-penalty", repeat_penalty, "Repetition penalty, HF semantics (1 = off)");
  sub->add_option("--repeat-last-n", repeat_last_n,
                  "Window of --repeat-penalty: the last N ids of the context (prompt and output) are penalised; "
                  "-1 = the whole context (default, as HF's repetition_penalty), 0 = off. llama.cpp's default is 64");
  // A string, so that -1 can mean "random" (llama.cpp's convention) next to the full uint64 range.
  sub->add_option_function<std::string>(
      "--seed",
      [this](const std::string& v) {
        if (v == "-1") {
          seed = std::random_device{}() * 0x100000000ull + std::random_device{}();
          seed_random = true;
          return;
        }
        uint64_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (v.empty() || ec != std::errc() || end != v.data() + v.size())
          throw CLI::ValidationError("--seed", "must be -1 (random) or an integer in [0, 2^64), got '" + v + "'");
        seed = n;
        seed_random = false;
      },
      "Random seed (same seed, same output); -1 = a random seed, printed with --json and -v");
  sub->add_option("--min-new-tokens", min_new_tokens,
                  "End-of-sequence is masked until N tokens are generated (HF min_new_tokens; default 0)");
  sub->add_option("--stop", stop, "Stop string (repeatable); the output ends before it");
  sub->add_flag("--ignore-eos", ignore_eos, "Keep generating past the model's end-of-sequence token");
}

namespace {
// 7 -> "7", 0.15 -> "0.15", NaN -> "nan" (std::to_string would print "7.000000").
std::string Num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}
}  // namespace

Status SamplingOptions::Validate() const {
  auto bad = [](const std::string& what) { return InvalidArgument(what); };
  if (max_tokens < 0) return bad("-n/--max-tokens must be >= 0, got " + std::to_string(max_tokens));
  // Written as !(x >= lo) so that NaN fails too.
  if (temperature && !(*temperature >= 0.0f && std::isfinite(*temperature)))
    return bad("--temp must be a finite number >= 0 (0 = greedy), got " + Num(*temperature));
  if (top_k && *top_k < 0) return bad("--top-k must be >= 0 (0 = off), got " + std::to_string(*top_k));
  if (top_p && !(*top_p > 0.0f && *top_p <= 1.0f))
    return bad("--top-p must be in (0, 1] (1 = off), got " + Num(*top_p));
  if (min_p && !(*min_p >= 0.0f && *min_p <= 1.0f))
    return bad("--min-p must be in [0, 1] (0 = off), got " + Num(*min_p));
  if (repeat_penalty && !(*repeat_penalty > 0.0f && std::isfinite(*repeat_penalty)))
    return bad("--repeat-penalty must be a finite number > 0 (1 = off), got " + Num(*repeat_penalty));
  if (repeat_last_n && *repeat_last_n < -1)
    return bad("--repeat-last-n must be -1 (whole context), 0 (off) or a window > 0, got " +
               std::to_string(*repeat_last_n));
  if (min_new_tokens < 0) return bad("--min-new-tokens must be >= 0, got " + std::to_string(min_new_tokens));
  for (size_t i = 0; i < stop.size(); ++i) {
    if (stop[i].empty()) return bad("--stop: an empty stop string would match everywhere");
    LFM_RETURN_IF_ERROR(CheckUtf8(stop[i], "--stop"));
  }
  return Status::Ok();
}

GenerateOptions SamplingOptions::Resolve(const Engine& engine, const ModelOptions* model) const {
  GenerateOptions o;
  SamplingParams p = engine.DefaultSampling();
  if (temperature) p.temperature = *temperature;
  // Asking for a sampling filter without a temperature means sampling at temperature 1, not greedy.
  if (!temperature && p.greedy() && (top_k || top_p || min_p)) p.temperature = 1.0f;
  if (top_k) p.top_k = *top_k;
  if (top_p) p.top_p = *top_p;
  if (min_p) p.min_p = *min_p;
  if (repeat_penalty) p.repetition_penalty = *repeat_penalty;
  if (repeat_last_n) p.repeat_last_n = *repeat_last_n;
  p.seed = seed.value_or(0);
  if (seed_random && model != nullptr && model->ShowProgress())
    std::fprintf(stderr, "lfm: random seed %llu (--seed %llu repeats this run)\n", static_cast<unsigned long long>(p.seed),
                 static_cast<unsigned long long>(p.seed));
  o.sampling = p;
  o.max_tokens = max_tokens;
  o.min_new_tokens = min_new_tokens;
  o.stop = stop;
  o.ignore_eos = ignore_eos;
  o.on_progress = TerminalProgress();
  return o;
}

void ConstraintOptions::Add(CLI::App* sub) {
  auto* js = sub->add_option("--json-schema", json_schema,
                             "Constrain the output to JSON valid under this JSON Schema (draft 2020-12 / 07): inline "
                             "JSON when the value starts with '{' or is true/false, else a file path");
  auto* lark = sub->add_option("--grammar", grammar,
                               "Constrain the output to this Lark grammar: a file path when the value names an "
                               "existing file, else inline Lark text (e.g. 'start: \"yes\" | \"no\"')");
  auto* lark_file = sub->add_option("--grammar-file", grammar_file,
                                    "Constrain the output to the Lark grammar in this file (Lark, not GBNF)");
  auto* re = sub->add_option("--regex", regex, "Constrain the output to match this regular expression in full");
  js->excludes(lark)->excludes(lark_file)->excludes(re);
  lark->excludes(lark_file)->excludes(re);
  lark_file->excludes(re);
}

namespace {

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// llama.cpp's --grammar takes GBNF ("root ::= ..."); the same text given here would fail deep in the
// Lark parser with a message that does not say why. Lark never contains "::=".
Status RefuseGbnf(const std::string& source, const std::string& where) {
  if (source.find("::=") == std::string::npos) return Status::Ok();
  return InvalidArgument(where +
                         " looks like GBNF (llama.cpp's 'rule ::= ...'); lfm expects Lark syntax: write "
                         "'rule: ...' instead of 'rule ::= ...' and name the top rule 'start' instead of 'root'");
}

Result<std::string> ReadConstraintFile(const std::string& path) {
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, file_limits::kRequest));
  LFM_RETURN_IF_ERROR(CheckUtf8(text, path));
  return text;
}

}  // namespace

Result<ConstraintOptions::Source> ConstraintOptions::Resolve() const {
  Source src;
  if (!json_schema.empty()) {
    src.kind = GrammarKind::kJsonSchema;
    const size_t first = json_schema.find_first_not_of(" \t\r\n");
    const std::string_view head = first == std::string::npos ? "" : std::string_view(json_schema).substr(first);
    if (head.rfind('{', 0) == 0 || head == "true" || head == "false") {
      LFM_RETURN_IF_ERROR(CheckUtf8(json_schema, "--json-schema"));
      src.text = json_schema;
      src.where = "--json-schema (inline)";
    } else {
      LFM_ASSIGN_OR_RETURN(src.text, ReadConstraintFile(json_schema));
      src.where = json_schema;
    }
  } else if (!grammar_file.empty() || !grammar.empty()) {
    src.kind = GrammarKind::kLark;
    if (!grammar_file.empty() || IsRegularFile(grammar)) {
      src.where = grammar_file.empty() ? grammar : grammar_file;
      LFM_ASSIGN_OR_RETURN(src.text, ReadConstraintFile(src.where));
    } else {
      LFM_RETURN_IF_ERROR(CheckUtf8(grammar, "--grammar"));
      src.text = grammar;
      src.where = "--grammar (inline)";
    }
    LFM_RETURN_IF_ERROR(RefuseGbnf(src.text, src.where));
  } else if (regex) {
    LFM_RETURN_IF_ERROR(CheckUtf8(*regex, "--regex"));
    src.kind = GrammarKind::kRegex;
    src.text = *regex;
    src.where = "--regex";
  }
  return src;
}

bool ConstraintOptions::Apply(Engine& engine, GenerateOptions* opts) const {
  auto src = Resolve();
  if (!src.ok()) {
    std::fprintf(stderr, "lfm: %s\n", src.status().message().c_str());
    return false;
  }
  if (src->text.empty() && src->where.empty()) return true;
  auto g = [&] {
    SlowStepNotice notice(std::string("compiling the ") + GrammarKindName(src->kind));
    return engine.CompileGrammar(src->kind, src->text);
  }();
  if (!g.ok()) {
    std::fprintf(stderr, "lfm: cannot compile the %s %s: %s\n", GrammarKindName(src->kind), src->where.c_str(),
                 g.status().ToString().c_str());
    return false;
  }
  opts->grammar = std::move(g).value();
  return true;
}

int UsageError(const char* cmd, const Status& st) {
  if (st.ok()) return kExitOk;
  std::fprintf(stderr, "lfm %s: %s\n", cmd, st.message().c_str());
  return kExitUsage;
}

void PrintImageEncodeTimes(const ModelOptions& model, const Timings& t) {
  if (!model.ShowProgress()) return;
  for (size_t i = 0; i < t.image_encode_ms.size(); ++i)
    std::fprintf(stderr, "image %zu: encoded in %.0f ms\n", i, t.image_encode_ms[i]);
}

void PrintTimings(const Timings& t) {
  std::fprintf(stderr, "\nprefill: %d tokens in %.1f ms (%.1f tok/s) | decode: %d tokens in %.1f ms (%.1f tok/s)\n",
               t.prompt_tokens, t.prefill_ms, t.prefill_tokens_per_s(), t.generated_tokens, t.decode_ms,
               t.decode_tokens_per_s());
}

std::string GenerationJson(const Generation& g, const GenerateOptions& opts) {
  nlohmann::ordered_json j;
  j["prompt_ids"] = g.prompt_ids;
  j["ids"] = g.ids;
  j["text"] = g.text;
  j["finish_reason"] = g.finish_reason;
  if (!g.error.empty()) j["error"] = g.error;
  if (opts.grammar) {
    j["grammar"] = GrammarKindName(opts.grammar->kind());
    j["grammar_complete"] = g.grammar_complete;
    if (!g.schema_validation.empty()) j["schema_validation"] = g.schema_validation;
  }
  const SamplingParams& p = *opts.sampling;
  j["sampling"] = {{"temperature", p.temperature}, {"top_k", p.top_k},   {"top_p", p.top_p},
                   {"min_p", p.min_p},             {"repeat_penalty", p.repetition_penalty}, {"repeat_last_n", p.repeat_last_n},
                   {"seed", p.seed}};
  if (opts.min_new_tokens > 0) j["sampling"]["min_new_tokens"] = opts.min_new_tokens;
  const Timings& t = g.timings;
  j["timings"] = {{"prompt_tokens", t.prompt_tokens},
                  {"generated_tokens", t.generated_tokens},
                  {"prefill_ms", t.prefill_ms},
                  {"decode_ms", t.decode_ms},
                  {"prefill_tokens_per_s", t.prefill_tokens_per_s()},
                  {"decode_tokens_per_s", t.decode_tokens_per_s()}};
  // Chat with images: the vision tower time per image, in order.
  if (!t.image_encode_ms.empty()) j["timings"]["image_encode_ms"] = t.image_encode_ms;
  // Invalid UTF-8 (a random model can emit half a character at the very end) must not abort the dump.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace lfm::cli
