// Engine internals shared by engine.cpp (load, sessions, generation) and chat.cpp (templates,
// images, tool calls). Not part of the public API.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/peak_bytes.h"
#include "lfm/engine.h"
#include "lfm/grammar.h"
#include "engine/decode_batcher.h"
#include "engine/image_embedding_cache.h"
#include "engine/prefix_cache.h"
#include "grammar/grammar.h"
#include "model/generation_config.h"
#include "image/lfm2vl_processor.h"
#include "model/lfm2_model.h"
#include "model/lfm2_vl_vision.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace lfm {

struct Engine::Impl {
  ModelInfo info;
  std::unique_ptr<Lfm2Model> model;
  // Every pass of the decoder goes through it, so concurrent sessions share their decode steps
  // (engine/decode_batcher.h). Made right after the model.
  std::unique_ptr<DecodeBatcher> batcher;
  Tokenizer tokenizer;
  GenerationConfig generation;
  // Threads this engine's parallel regions use (LoadOptions::threads resolved): the process-wide
  // pool is shared, so each entry point that runs the model caps its regions with ScopedThreadLimit.
  int threads = 1;
  // The model's chat template; absent when the directory has none (chat then refuses with an error).
  std::optional<ChatTemplate> chat_template;
  Status chat_template_error;  // why chat_template is absent
  // Special-token strings user text may not contain (tokenizer.json and tokenizer_config.json).
  std::vector<std::string> special_tokens;
  // Request limits of this engine (LoadOptions::admission); ChatOptions::admission overrides them.
  AdmissionLimits admission;

  // LFM2-VL only: the vision tower + projector, the image processor settings, and the id of the
  // image placeholder token whose embedding rows the image features replace.
  std::unique_ptr<Lfm2VlVision> vision;
  Lfm2VlProcessorConfig processor;
  int32_t image_token_id = -1;

  // The vocabulary's token trie for constrained decoding, built on first use.
  std::mutex trie_mu;
  std::shared_ptr<const TokenTrie> trie;
  std::map<std::pair<int, std::string>, std::shared_ptr<const CompiledGrammar>> grammar_cache;

  // Shared across requests, off until Engine::SetCacheOptions (lfm/engine.h CacheOptions).
  PrefixCache prefix_cache;
  ImageEmbeddingCache image_cache;

  // The largest decoder state and scratch one session has held (MemoryUse), noted after each
  // Generate and when a session ends.
  PeakBytes peak_session_state_bytes;
  PeakBytes peak_session_scratch_bytes;

  explicit Impl(Tokenizer t) : tokenizer(std::move(t)) {}
};

SamplingParams SamplingParamsFromGeneration(const GenerationConfig& g);

// Turns on prefix reuse for a fresh session (Engine::Chat, Complete, GenerateFromIds): its next
// Generate() restores the longest cached prefix of its tokens, stores snapshots at the end of the
// prompt, at each of `snapshot_points` (positions inside the prompt) and at the end of the reply.
void UsePrefixCache(Session& session, std::vector<size_t> snapshot_points = {});

// The vision tower's and projector's dtype for a decoder dtype (LoadOptions::weight_dtype): float types
// carry over, quantized ones leave the tower as stored (kAuto).
inline DType VisionDTypeFor(DType decoder) { return DTypeIsQuantized(decoder) ? DType::kAuto : decoder; }

// The engine internals of a llama.cpp .gguf text model (+ LoadOptions::mmproj for LFM2-VL):
// everything but threads and ModelInfo, which Engine::Load fills as for a directory.
Result<std::unique_ptr<Engine::Impl>> LoadGgufEngineImpl(const std::string& path, const LoadOptions& options,
                                                         const ModelLoadOptions& mo);

// Parses a chat request (JSON) under the admission limits (steps 1-6 of lfm/admission.h), checks
// the roles, applies the special-token guard to every string that enters the template and renders
// it; needs only the template, so `lfm render` can use it on a directory without weights.
Result<std::string> RenderChatRequest(const ChatTemplate& tmpl, const std::vector<std::string>& special_tokens,
                                      const std::string& request_json, bool escape_special_tokens,
                                      const AdmissionLimits& limits = {});

}  // namespace lfm
