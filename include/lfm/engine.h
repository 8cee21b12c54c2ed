// The Engine: load a model directory once, then tokenize and generate.
//
//   auto engine = lfm::Engine::Load("/models/LFM2.5-VL-450M");
//   if (!engine.ok()) { fprintf(stderr, "%s\n", engine.status().ToString().c_str()); return 1; }
//   lfm::GenerateOptions opts;
//   opts.max_tokens = 64;
//   auto out = (*engine)->Complete("The capital of France is", opts,
//                                  [](int32_t id, std::string_view piece) { fwrite(...); return true; });
//
// Thread safety
// - An Engine is immutable after Load (its caches are locked inside): every Engine method may be
//   called from several threads at once, including Complete, GenerateFromIds and Chat, which each use
//   a fresh Session of their own. The usual server shape: one Engine shared by every thread, one
//   Session or Conversation per request or per client.
// - A Session or a Conversation is used by one thread at a time (no internal locking): different
//   sessions of one Engine may generate concurrently, the same session may not. Callbacks run on the
//   thread that called Generate/Complete/Chat.
// - Several Engines may be loaded, used and destroyed concurrently, and Load may run while other
//   engines generate. An Engine must outlive its Sessions and Conversations, and must not be
//   destroyed while another thread is still inside one of its methods.
// - Compute threads: kernels share one process-wide pool. LoadOptions::threads caps the threads an
//   engine's work uses (the pool grows to the largest count asked for and never shrinks under running
//   work). Parallel regions run one at a time.
// - Continuous batching: concurrent generations on one Engine (any mix of Complete, Chat, sessions and
//   conversations, from any threads) share the decoder: the decode steps of every sequence that is
//   generating run as one batched pass (the weights are read once for all of them), and prompts are
//   prefilled one LoadOptions::ubatch chunk per pass in between, so a long prompt does not stall the
//   others (policy: src/engine/decode_batcher.h). The outputs are exactly those each generation gets
//   alone; the total decode throughput grows with the number of concurrent generations.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lfm/admission.h"
#include "lfm/grammar.h"
#include "lfm/sampling.h"
#include "lfm/status.h"

namespace lfm {

// Engine::Load refuses out-of-range values (InvalidArgument naming the field and the limit).
struct LoadOptions {
  int threads = 0;                    // 0 = every hardware thread; 1..MaxLoadThreads() (see "Thread safety")
  // "auto" (as stored), "f32", "bf16", "f16", "q8_0", "q4_0": the decoder's matrices are converted
  // at load (the token embedding table stays as stored). A VL model's vision tower and projector take
  // the float types too; with q8_0 / q4_0 they stay as stored (as llama.cpp keeps an mmproj
  // unquantized): their GEMM has no int8 kernel, so quantizing would only cost accuracy and, widened
  // for it, memory.
  std::string weight_dtype = "auto";
  int max_context = 0;                // 0 = the config's max_position_embeddings; never negative
  // Prefill runs the prompt through the model at most `ubatch` positions at a time (a micro-batch):
  // the forward pass's scratch memory is bounded by it, not by the prompt length, and between two
  // chunks the progress callback is told and may stop the run. Results equal a one-pass prefill.
  int ubatch = 512;                   // [1, 65536]
  // How the KV cache stores keys and values: "f32", or "bf16" (rounded to nearest even on write;
  // half the cache memory and half the bytes decode attention reads per earlier position; the
  // logits move by the rounding, see tests/model/kv_bf16_test.cpp). Anything else is refused.
  std::string kv_type = "f32";
  // Limits every chat request to this engine is checked against before any work (lfm/admission.h).
  AdmissionLimits admission;
  // LFM2-VL as llama.cpp GGUFs: the path of the mmproj-*.gguf (vision tower + projector) that goes
  // with a text .gguf model. Its hyper-parameters come from its clip.* metadata; the image
  // processor settings it does not state (tiling, min/max tiles and image tokens, thumbnail) are
  // the published models' preprocessor_config.json values. Empty: no vision (a model directory
  // holds its own vision tower; giving both is an error).
  std::string mmproj;
};

// The largest LoadOptions::threads accepted: 4x the hardware threads, at most 1024. More threads than
// cores only slows decoding down (1000 threads on 2 cores ran 250x slower).
int MaxLoadThreads();

// Progress of a long step, reported between its units of work.
struct Progress {
  std::string_view stage;   // "prefill" (units: prompt tokens) or "vision" (units: image crops)
  int64_t done = 0;         // units finished so far (0 on the first report of a stage)
  int64_t total = 0;
  double elapsed_ms = 0;    // since the stage began
};
// Called when a stage begins and after each of its chunks (prefill: every `ubatch` tokens; vision:
// every image crop). Return false to stop: the run then ends without generating, finish_reason
// "callback". A stopped prefill keeps the positions already run in the session; the rest stays
// queued (the next Generate() resumes it, Session::Reset() drops it).
using ProgressCallback = std::function<bool(const Progress&)>;

struct GenerateOptions {
  int max_tokens = 256;
  // Unset: the model's generation_config.json (greedy when it states nothing, as HF does).
  std::optional<SamplingParams> sampling;
  std::vector<std::string> stop;    // stop strings; the text ends before the first one found
  bool ignore_eos = false;          // keep going past the model's EOS ids
  // EOS ids are masked until this many tokens are generated (HF's min_new_tokens). Under a grammar,
  // EOS stays allowed where the grammar allows nothing else.
  int min_new_tokens = 0;
  bool add_special_tokens = true;   // raw completion: the tokenizer's post-processor adds BOS
  // Constrain the output to a grammar (Engine::CompileGrammar). The output then matches it in full
  // when the run ends with EOS (finish_reason "eos"); a run cut by max_tokens is a valid prefix.
  std::shared_ptr<const CompiledGrammar> grammar;
  // Copy the logits at the last prompt position into Generation::prompt_logits (parity checks).
  bool return_prompt_logits = false;
  // Progress of prefill (and, through Engine::Chat, of image encoding); may stop them, which ends
  // the run with finish_reason "callback" and no generated ids.
  ProgressCallback on_progress;
  // Polled (every ~20 ms) while this run waits for its turn on the engine's shared decoder (other
  // sequences' passes); once it returns true the run stops at once without waiting further, as a
  // stopping callback would (finish_reason "callback"). The server passes "the client went away".
  std::function<bool()> cancelled;
};

struct Timings {
  int prompt_tokens = 0;
  int cached_prompt_tokens = 0;  // of prompt_tokens, restored from the engine's prefix cache (not prefilled)
  int generated_tokens = 0;
  double prefill_ms = 0;  // prompt processing
  double decode_ms = 0;   // every token after the first
  std::vector<double> image_encode_ms;  // chat with images: vision tower time per image, in order
  double prefill_tokens_per_s() const { return prefill_ms > 0 ? prompt_tokens * 1e3 / prefill_ms : 0; }
  double decode_tokens_per_s() const {
    return decode_ms > 0 && generated_tokens > 1 ? (generated_tokens - 1) * 1e3 / decode_ms : 0;
  }
};

// Errors before decoding starts (bad options, bad prompt, a failed prefill) are returned as a Status.
// An error once decoding has started (non-finite logits, a failed forward pass, a grammar error)
// ends the run but keeps what was generated: finish_reason is then "error" and `error` says why.
struct Generation {
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> ids;     // generated ids, including a final EOS id if one ended the run
  std::string text;             // decoded generated text (special tokens skipped, stop string cut)
  // "eos", "stop" (a stop string), "length" (max_tokens), "callback", "context" (context full), "error"
  std::string finish_reason;
  std::string error;            // with finish_reason "error": the cause, e.g. "logits at generated
                                // token 3 are not finite (NaN at id 17)"; empty otherwise
  Timings timings;
  // With a grammar: whether the output is a complete match; for JSON Schema, also the verdict of an
  // independent JSON Schema validator on the parsed output ("" when not checked).
  bool grammar_complete = false;
  std::string schema_validation;  // "valid", or the first validation error
  std::vector<float> prompt_logits;  // [vocab] when GenerateOptions::return_prompt_logits
};

// Called once per generated token with the newly complete text (empty while a UTF-8 character or
// a possible stop string is still pending), and once more with id -1 if held-back text remains at
// the end. Return false to stop generating.
using TokenCallback = std::function<bool(int32_t id, std::string_view text)>;

struct ModelInfo {
  std::string path;
  std::string model_type;  // "lfm2", "lfm2_vl", ...
  int vocab_size = 0, hidden_size = 0, num_layers = 0, num_attention_layers = 0;
  int max_context = 0;
  bool random_weights = false;  // written by `lfm make-test-model`
  std::vector<int32_t> eos_ids;
  // What one decoded token reads from memory, for honest GB/s figures: the decoder's weights at
  // their in-memory dtype (every matrix, plus the embedding row and the lm_head), and the KV cache
  // bytes each earlier position adds (all attention layers, keys and values).
  std::string weight_dtype;  // of the decoder's matrices in memory: "f32", "bf16", "q8_0", ...
  std::string kv_type;       // of the KV cache: "f32" or "bf16" (LoadOptions::kv_type)
  int64_t decode_weight_bytes = 0;
  int64_t kv_bytes_per_position = 0;
  // Every weight as held in memory once loaded (decoder matrices at their in-memory dtype, the whole
  // embedding table, norms, the vision tower and projector): the fixed part of MemoryUse.
  int64_t weight_bytes = 0;
  int64_t vision_weight_bytes = 0;  // of weight_bytes: the vision tower and projector (0 without vision)
  bool has_vision = false;  // LFM2-VL: Chat() takes images
};

// What the engine's continuous batcher did so far (all sessions together): decoder passes run,
// decode steps they carried (a pass with B concurrent sequences carries B), prefill chunks.
struct BatchStats {
  int64_t passes = 0;
  int64_t decode_steps = 0;
  int64_t prefill_chunks = 0;
  int max_batch = 0;  // the most decode steps one pass carried
};

// What the engine holds in memory, for peak-RSS checks (`lfm bench` prints it next to the measured
// peak): the weights as loaded, the largest decoder state (KV cache + conv state) one session has
// held so far, and the largest forward-pass scratch (activation buffers and logits) one session has
// held so far plus the batched decoder's scratch and the kernels' per-thread workspaces (those are
// process-wide: shared by every engine in the process). Sessions that live at the same time each hold
// their own state and scratch, so with several the sum is higher; the shared caches (CacheOptions)
// are not counted here (CacheStats has their bytes).
struct MemoryUse {
  int64_t weight_bytes = 0;
  int64_t kv_cache_bytes = 0;
  int64_t scratch_bytes = 0;
  int64_t total() const { return weight_bytes + kv_cache_bytes + scratch_bytes; }
};

// Caches shared by all requests to one Engine (both off by default; `lfm serve` turns them on):
// - prefix cache: decoder-state snapshots at the end of each prompt, of each reply and at the start
//   of a chat's last user turn; a later Chat/Complete/GenerateFromIds whose tokens (and images)
//   start with a cached sequence restores it and prefills only the rest. Bit-exact: the outputs are
//   those of a full prefill.
// - image cache: the vision tower's rows per image (keyed by a hash of the preprocessed pixels), so
//   an image sent again is not encoded again.
// Each is bounded by its byte budget (least recently used evicted first); 0 turns it off.
struct CacheOptions {
  size_t prefix_cache_bytes = 0;
  size_t image_cache_bytes = 0;
};

struct CacheStats {
  uint64_t prefix_hits = 0, prefix_misses = 0;
  uint64_t prefix_tokens_reused = 0;  // prompt positions restored instead of prefilled
  uint64_t prefix_evictions = 0;
  size_t prefix_entries = 0, prefix_bytes = 0, prefix_max_bytes = 0;
  uint64_t image_hits = 0, image_misses = 0;  // a miss is an image run through the vision tower
  uint64_t image_evictions = 0;
  size_t image_entries = 0, image_bytes = 0, image_max_bytes = 0;
};

class Engine;
class Conversation;
struct ChatOptions;
struct ChatResult;

// One conversation's decoder state (the HybridCache) plus the tokens it holds. Tokens appended are
// processed lazily by the next Generate() (one batched prefill), so a multi-turn chat only pays for
// the new turn, never for the history again.
class Session {
 public:
  ~Session();
  // Queues tokens after everything the session holds.
  Status Append(const std::vector<int32_t>& ids);
  // Same, with the embedding rows of the image placeholder tokens among them given explicitly
  // (LFM2-VL): rows [n_placeholders, hidden] replace the placeholders' text embeddings in order.
  Status AppendWithImageRows(const std::vector<int32_t>& ids, std::vector<float> image_rows);
  // Runs the queued tokens (prefill), then generates. Generated tokens, including a final EOS, become
  // part of the session, so the next turn continues from them.
  Result<Generation> Generate(const GenerateOptions& options, const TokenCallback& on_token = nullptr);
  // Every token of the session, processed or queued.
  const std::vector<int32_t>& tokens() const;
  // Forgets everything (positions restart at 0).
  void Reset();
  // Tokens run through the model's prefill over the session's life (a counter for tests and stats).
  int64_t prefilled_tokens() const;

  struct Impl;

 private:
  friend class Engine;
  friend void UsePrefixCache(Session& session, std::vector<size_t> snapshot_points);
  explicit Session(std::unique_ptr<Impl> impl);
  Status AppendTokens(const std::vector<int32_t>& ids);  // no image-placeholder check
  std::unique_ptr<Impl> impl_;
};

// Text entering the library (prompts, chat requests, messages, stop strings) must be valid UTF-8;
// other bytes are refused with InvalidArgument("<input>: invalid UTF-8 at byte N"), never replaced.
class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Load(const std::string& model_dir, const LoadOptions& options = {});
  ~Engine();

  // Raw completion of `prompt` (no chat template).
  Result<Generation> Complete(const std::string& prompt, const GenerateOptions& options,
                              const TokenCallback& on_token = nullptr);
  // Generation from prompt ids (a fresh sequence).
  Result<Generation> GenerateFromIds(const std::vector<int32_t>& prompt_ids, const GenerateOptions& options,
                                     const TokenCallback& on_token = nullptr);

  // A fresh conversation state for multi-turn use (chat). Sessions must not outlive the Engine.
  std::unique_ptr<Session> NewSession();

  // --- chat (lfm/chat.h) ---
  // Renders a chat request (JSON, OpenAI shapes) with the model's template. With expand_images, each
  // image placeholder is replaced by the LFM2-VL tile/thumbnail expansion of its image.
  Result<std::string> RenderChat(const std::string& request_json, bool expand_images = false,
                                 const ChatOptions* options = nullptr) const;
  // One stateless chat completion.
  Result<ChatResult> Chat(const std::string& request_json, const ChatOptions& options,
                          const TokenCallback& on_token = nullptr);
  // A conversation that keeps the decoder cache across turns.
  std::unique_ptr<Conversation> NewConversation();

  // Compiles a grammar against this model's vocabulary. Unsupported JSON Schema keywords are refused
  // with the keyword and its JSON pointer.
  Result<std::shared_ptr<const CompiledGrammar>> CompileGrammar(GrammarKind kind, const std::string& source);

  // Fails only if a tokenizer regex hits a PCRE2 resource limit on this text.
  Result<std::vector<int32_t>> Tokenize(std::string_view text, bool add_special_tokens) const;
  std::string Detokenize(const std::vector<int32_t>& ids, bool skip_special_tokens) const;
  // The vocabulary string of one token ("Ġhello", "<|im_end|>").
  std::string TokenString(int32_t id) const;
  // Sampling defaults from generation_config.json.
  SamplingParams DefaultSampling() const;
  const ModelInfo& info() const;
  BatchStats batch_stats() const;
  MemoryUse memory_use() const;

  // Sets the shared caches' budgets (see CacheOptions); safe while requests run (a smaller budget
  // evicts at once).
  void SetCacheOptions(const CacheOptions& options);
  CacheStats cache_stats() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lfm
