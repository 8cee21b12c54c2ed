#include "lfm/engine.h"

#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <cmath>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/content_hash.h"
#include "base/json_input.h"
#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "base/timer.h"
#include "base/utf8.h"
#include "engine/constrained.h"
#include "engine/engine_impl.h"
#include "engine/gguf_tokenizer.h"
#include "engine/model_consistency.h"
#include "model/lfm2_gguf.h"
#include "tensor/dtype.h"
#include "weights/gguf.h"
#include "engine/stop_strings.h"
#include "kernels/workspace.h"
#include "model/lfm2_vl_config.h"
#include "weights/weight_store.h"
#include "model/generation_config.h"
#include "model/lfm2_model.h"
#include "sample/sampler.h"
#include "text/detokenizer.h"
#include "text/tokenizer.h"

namespace lfm {


Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

namespace {

// The image placeholder id: config.json's image_token_id (or the older image_token_index) must name the
// same token as the processor's image_token string in the tokenizer.
Result<int32_t> ResolveImageTokenId(const std::string& dir, const Tokenizer& tokenizer,
                                    const Lfm2VlProcessorConfig& processor) {
  auto by_string = tokenizer.TokenToId(processor.image_token);
  if (!by_string)
    return InvalidArgument(dir + "/tokenizer.json has no token '" + processor.image_token +
                           "' (the processor's image_token)");
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(dir + "/config.json", file_limits::kConfig));
  LFM_ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(text, dir + "/config.json"));
  for (const char* key : {"image_token_id", "image_token_index"}) {
    if (j.is_object() && j.contains(key) && j[key].is_number_integer() && j[key].get<int32_t>() != *by_string)
      return InvalidArgument(dir + "/config.json: " + key + " is " + std::to_string(j[key].get<int32_t>()) +
                             " but the tokenizer gives '" + processor.image_token + "' id " +
                             std::to_string(*by_string));
  }
  return *by_string;
}

// Refuses absurd load options before any work: a negative count used to mean "all cores" silently,
// and a huge one spawned threads until std::system_error aborted the process.
Status ValidateLoadOptions(const LoadOptions& options) {
  const int max_threads = MaxLoadThreads();
  if (options.threads < 0)
    return InvalidArgument("threads must be >= 0 (0 = every hardware thread), got " + std::to_string(options.threads));
  if (options.threads > max_threads)
    return InvalidArgument("threads " + std::to_string(options.threads) + " is more than the limit of " +
                           std::to_string(max_threads) + " (4x this machine's " + std::to_string(HardwareThreads()) +
                           " hardware threads, at most 1024)");
  if (options.max_context < 0)
    return InvalidArgument("max_context must be >= 0 (0 = the model's max_position_embeddings), got " +
                           std::to_string(options.max_context));
  // Lfm2Model checks ubatch again for its direct users; here it is refused before any file is read.
  if (options.ubatch < 1 || options.ubatch > ModelLoadOptions::kMaxUbatch)
    return InvalidArgument("ubatch " + std::to_string(options.ubatch) + " is outside [1, " +
                           std::to_string(ModelLoadOptions::kMaxUbatch) + "]");
  if (!ParseKvType(options.kv_type))
    return InvalidArgument("kv_type must be f32 or bf16, got '" + options.kv_type + "'");
  return Status::Ok();
}

// NaN or Inf logits mean the weights or the arithmetic broke; sampling from them picks garbage or
// nothing. One pass over the vocabulary is cheap next to the forward pass that made them.
Status CheckLogitsFinite(const float* logits, int vocab, int generated_index) {
  for (int i = 0; i < vocab; ++i) {
    if (std::isfinite(logits[i])) continue;
    const char* what = std::isnan(logits[i]) ? "NaN" : (logits[i] > 0 ? "+Inf" : "-Inf");
    return Internal("logits at generated token " + std::to_string(generated_index) + " are not finite (" + what +
                    " at id " + std::to_string(i) + ")");
  }
  return Status::Ok();
}

// The model-dependent facts of ModelInfo (both the directory and the .gguf path), and the model's
// batcher.
void FillModelInfo(const std::string& path, Engine::Impl& impl) {
  impl.batcher = std::make_unique<DecodeBatcher>(*impl.model);
  const Lfm2Config& c = impl.model->config();
  ModelInfo& info = impl.info;
  info.path = path;
  info.model_type = c.model_type;
  info.vocab_size = c.vocab_size;
  info.hidden_size = c.hidden_size;
  info.num_layers = c.num_hidden_layers;
  info.num_attention_layers = c.num_attention_layers();
  info.max_context = impl.model->NewCache()->max_context();
  // EOS: generation_config.json wins (it is what HF generate() uses), then config.json.
  for (int id : impl.generation.eos_token_ids) info.eos_ids.push_back(id);
  if (info.eos_ids.empty())
    for (int id : c.eos_token_ids) info.eos_ids.push_back(id);
  info.weight_dtype = DTypeName(impl.model->weight_dtype());
  info.decode_weight_bytes = impl.model->weight_bytes();
  info.vision_weight_bytes = impl.vision ? impl.vision->resident_weight_bytes() : 0;
  info.weight_bytes = impl.model->resident_weight_bytes() + info.vision_weight_bytes;
  // The cache holds keys and values for every attention layer, f32 or bf16 (model/hybrid_cache.h).
  info.kv_type = KvTypeName(impl.model->kv_type());
  info.kv_bytes_per_position = static_cast<int64_t>(c.num_attention_layers()) * 2 * c.num_key_value_heads *
                               c.head_dim * KvTypeBytes(impl.model->kv_type());
  info.has_vision = impl.vision != nullptr;
}

// min_new_tokens: EOS ids get -inf logits, unless a grammar allows nothing but EOS here (then the
// grammar wins: masking would leave the sampler no candidate).
void MaskEos(const std::vector<int32_t>& eos_ids, int vocab, const std::vector<uint32_t>* allowed, float* logits) {
  if (allowed != nullptr) {
    bool other = false;
    for (int w = 0; w < static_cast<int>(allowed->size()) && !other; ++w) {
      uint32_t bits = (*allowed)[w];
      for (int32_t id : eos_ids)
        if (id >= 0 && id / 32 == w) bits &= ~(1u << (id % 32));
      other = bits != 0;
    }
    if (!other) return;
  }
  for (int32_t id : eos_ids)
    if (id >= 0 && id < vocab) logits[id] = -std::numeric_limits<float>::infinity();
}

}  // namespace

int MaxLoadThreads() { return std::min(1024, 4 * HardwareThreads()); }

Result<std::unique_ptr<Engine>> Engine::Load(const std::string& model_dir, const LoadOptions& options) {
  LFM_RETURN_IF_ERROR(ValidateLoadOptions(options));
  const int threads = options.threads > 0 ? options.threads : HardwareThreads();
  // The kernels' pool is process-wide and other engines may be running on it: it only grows (once no
  // region runs), and this engine caps its own regions at `threads`.
  LFM_RETURN_IF_ERROR(DefaultThreadPool().EnsureThreads(threads));
  ScopedThreadLimit thread_limit(threads);
  ModelLoadOptions mo;
  if (options.weight_dtype != "auto") {
    std::optional<DType> dt = ParseDTypeName(options.weight_dtype);
    if (!dt) return InvalidArgument("weight dtype must be auto, f32, bf16, f16, q8_0 or q4_0, got '" +
                                    options.weight_dtype + "'");
    mo.weight_dtype = *dt;
  }
  mo.max_context = options.max_context;
  mo.ubatch = options.ubatch;
  mo.kv_type = *ParseKvType(options.kv_type);  // checked by ValidateLoadOptions
  struct stat st {};
  const bool is_file = ::stat(model_dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
  const bool is_gguf = is_file && model_dir.size() > 5 && model_dir.compare(model_dir.size() - 5, 5, ".gguf") == 0;
  if (is_gguf) {
    // A llama.cpp text-model file: config, weights, tokenizer and chat template all come from it
    // (engine_gguf.cpp); LFM2-VL adds its mmproj GGUF (LoadOptions::mmproj).
    LFM_ASSIGN_OR_RETURN(std::unique_ptr<Impl> impl, LoadGgufEngineImpl(model_dir, options, mo));
    impl->threads = threads;
    FillModelInfo(model_dir, *impl);
    if (impl->vision) impl->info.model_type = "lfm2_vl";
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
  }
  if (!options.mmproj.empty())
    return InvalidArgument("mmproj '" + options.mmproj + "' goes with a llama.cpp .gguf text model, but '" + model_dir +
                           "' is not a .gguf file (a model directory holds its own vision tower)");
  if (is_file)
    return InvalidArgument("'" + model_dir + "' is a file, not a model directory (give the directory that holds " +
                           "config.json, model.safetensors and tokenizer.json, or a llama.cpp .gguf file)");
  if (!FileExists(model_dir + "/config.json"))
    return NotFound("'" + model_dir + "' is not a model directory: no config.json there "
                    "(expected a Hugging Face directory with config.json, model.safetensors and tokenizer.json)");
  LFM_ASSIGN_OR_RETURN(Lfm2Config text_config, LoadLfm2Config(model_dir + "/config.json"));
  // After config.json: a broken config is reported without first parsing a large tokenizer.json.
  LFM_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::FromFile(model_dir + "/tokenizer.json"));
  auto impl = std::make_unique<Impl>(std::move(tokenizer));
  impl->threads = threads;

  impl->admission = options.admission;
  if (text_config.is_vl) {
    // One mapping of the weights serves the text decoder and the vision tower.
    LFM_ASSIGN_OR_RETURN(std::unique_ptr<WeightStore> store, WeightStore::OpenDirectory(model_dir));
    std::shared_ptr<const WeightStore> shared(std::move(store));
    LFM_ASSIGN_OR_RETURN(impl->model, Lfm2Model::FromWeights(text_config, shared, mo));
    LFM_ASSIGN_OR_RETURN(Lfm2VlVisionConfig vcfg,
                         ParseLfm2VlVisionConfig(text_config.vl_config_json, model_dir + "/config.json"));
    VisionLoadOptions vo;
    vo.weight_dtype = VisionDTypeFor(mo.weight_dtype);
    LFM_ASSIGN_OR_RETURN(impl->vision, Lfm2VlVision::FromWeights(vcfg, shared, vo));
    LFM_ASSIGN_OR_RETURN(impl->processor, Lfm2VlProcessorConfig::FromModelDir(model_dir));
    LFM_RETURN_IF_ERROR(impl->processor.Validate());
    LFM_RETURN_IF_ERROR(CheckProcessorMatchesVision(model_dir, impl->processor, vcfg));
    LFM_ASSIGN_OR_RETURN(impl->image_token_id, ResolveImageTokenId(model_dir, impl->tokenizer, impl->processor));
  } else {
    LFM_ASSIGN_OR_RETURN(impl->model, Lfm2Model::Load(model_dir, mo));
  }

  const std::string gen_path = model_dir + "/generation_config.json";
  if (FileExists(gen_path)) {
    LFM_ASSIGN_OR_RETURN(impl->generation, LoadGenerationConfig(gen_path));
  }

  const Lfm2Config& c = impl->model->config();
  LFM_RETURN_IF_ERROR(CheckSpecialIdsInVocab(model_dir, impl->generation, c));
  FillModelInfo(model_dir, *impl);
  ModelInfo& info = impl->info;
  {
    // Parsed successfully once already by LoadLfm2Config.
    LFM_ASSIGN_OR_RETURN(std::string raw, ReadFileToString(model_dir + "/config.json", file_limits::kConfig));
    LFM_ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(raw, model_dir + "/config.json"));
    const auto it = j.is_object() ? j.find("lfm_cpp_random_weights") : j.end();
    info.random_weights = it != j.end() && it->is_boolean() && it->get<bool>();
  }
  // Chat is optional: a base model may ship no template. Remember why, to say so when chat is asked for.
  auto tmpl = ChatTemplate::FromModelDir(model_dir);
  if (tmpl.ok()) {
    impl->chat_template = std::move(tmpl).value();
    impl->special_tokens = impl->chat_template->special_tokens();
  } else {
    impl->chat_template_error = tmpl.status();
  }
  for (const auto& t : impl->tokenizer.SpecialTokenStrings())
    if (std::find(impl->special_tokens.begin(), impl->special_tokens.end(), t) == impl->special_tokens.end())
      impl->special_tokens.push_back(t);
  ReleaseResidentPagesAgain();  // every copied tensor is read: drop what later reads mapped back
  if (impl->tokenizer.vocab_size() > c.vocab_size)
    return InvalidArgument(model_dir + "/tokenizer.json: tokenizer has " +
                           std::to_string(impl->tokenizer.vocab_size()) + " tokens but config.json vocab_size is " +
                           std::to_string(c.vocab_size));
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const ModelInfo& Engine::info() const { return impl_->info; }

void Engine::SetCacheOptions(const CacheOptions& options) {
  impl_->prefix_cache.SetMaxBytes(options.prefix_cache_bytes);
  impl_->image_cache.SetMaxBytes(options.image_cache_bytes);
}

CacheStats Engine::cache_stats() const {
  const PrefixCache::Stats p = impl_->prefix_cache.stats();
  const ImageEmbeddingCache::Stats i = impl_->image_cache.stats();
  CacheStats c;
  c.prefix_hits = p.hits;
  c.prefix_misses = p.misses;
  c.prefix_tokens_reused = p.tokens_reused;
  c.prefix_evictions = p.evictions;
  c.prefix_entries = p.entries;
  c.prefix_bytes = p.bytes;
  c.prefix_max_bytes = p.max_bytes;
  c.image_hits = i.hits;
  c.image_misses = i.misses;
  c.image_evictions = i.evictions;
  c.image_entries = i.entries;
  c.image_bytes = i.bytes;
  c.image_max_bytes = i.max_bytes;
  return c;
}

MemoryUse Engine::memory_use() const {
  MemoryUse m;
  m.weight_bytes = impl_->info.weight_bytes;
  m.kv_cache_bytes = impl_->peak_session_state_bytes.value();
  m.scratch_bytes = impl_->peak_session_scratch_bytes.value() +
                    static_cast<int64_t>(impl_->batcher->scratch_bytes()) + KernelWorkspaceBytes() +
                    (impl_->vision ? impl_->vision->peak_scratch_bytes() : 0);
  return m;
}

BatchStats Engine::batch_stats() const {
  const DecodeBatcher::Stats s = impl_->batcher->stats();
  return BatchStats{s.passes, s.decode_rows, s.prefill_chunks, s.max_batch};
}

SamplingParams SamplingParamsFromGeneration(const GenerationConfig& g) {
  SamplingParams p;
  // HF generate(): greedy unless do_sample is true.
  p.temperature = g.do_sample.value_or(false) ? g.temperature.value_or(1.0f) : 0.0f;
  p.top_k = g.top_k.value_or(0);
  p.top_p = g.top_p.value_or(1.0f);
  p.min_p = g.min_p.value_or(0.0f);
  p.repetition_penalty = g.repetition_penalty.value_or(1.0f);
  return p;
}

SamplingParams Engine::DefaultSampling() const { return SamplingParamsFromGeneration(impl_->generation); }

Result<std::vector<int32_t>> Engine::Tokenize(std::string_view text, bool add_special_tokens) const {
  return impl_->tokenizer.Encode(text, add_special_tokens);
}

std::string Engine::Detokenize(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  return impl_->tokenizer.Decode(ids, skip_special_tokens);
}

std::string Engine::TokenString(int32_t id) const { return impl_->tokenizer.IdToToken(id); }

Result<Generation> Engine::Complete(const std::string& prompt, const GenerateOptions& options,
                                    const TokenCallback& on_token) {
  LFM_RETURN_IF_ERROR(CheckUtf8(prompt, "prompt"));
  LFM_ASSIGN_OR_RETURN(std::vector<int32_t> ids, Tokenize(prompt, options.add_special_tokens));
  return GenerateFromIds(ids, options, on_token);
}

struct Session::Impl {
  Engine::Impl* engine;
  std::unique_ptr<HybridCache> cache;
  std::vector<int32_t> tokens;  // processed + queued
  size_t processed = 0;         // tokens[0, processed) are in the cache
  int64_t prefilled = 0;
  // Image embedding rows for the image placeholders among the queued tokens, in order.
  std::vector<float> queued_image_rows;
  // The last position's logits. Per session, not per engine: sessions of one engine generate
  // concurrently on different threads.
  std::vector<float> logits;
  // Prefix reuse through the engine's PrefixCache (UsePrefixCache): set on a fresh session only.
  bool use_prefix_cache = false;
  std::vector<size_t> snapshot_points;  // positions inside the prompt where a snapshot is stored
};

void UsePrefixCache(Session& session, std::vector<size_t> snapshot_points) {
  session.impl_->use_prefix_cache = true;
  std::sort(snapshot_points.begin(), snapshot_points.end());
  session.impl_->snapshot_points = std::move(snapshot_points);
}

namespace {

// The session's prefix key (engine/prefix_cache.h): token ids, image placeholders replaced by a
// hash of the feature row that fills them. For a fresh session (nothing processed yet).
std::vector<uint64_t> PrefixKey(const Session::Impl& s) {
  const Engine::Impl& m = *s.engine;
  const size_t hidden = static_cast<size_t>(m.info.hidden_size);
  std::vector<uint64_t> key(s.tokens.size());
  size_t row = 0;
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    const int32_t id = s.tokens[i];
    if (id == m.image_token_id && !s.queued_image_rows.empty()) {
      const ContentHash h = HashBytes(s.queued_image_rows.data() + row * hidden, hidden * sizeof(float));
      key[i] = h.lo | kPrefixKeyImageBit;
      ++row;
    } else {
      key[i] = static_cast<uint32_t>(id);
    }
  }
  return key;
}

// Restores the longest cached prefix of the session's queued prompt (the whole prompt only with the
// logits that start the generation); returns the positions restored.
size_t RestoreCachedPrefix(Session::Impl& s, const std::vector<uint64_t>& key) {
  Engine::Impl& m = *s.engine;
  PrefixCache::Hit hit = m.prefix_cache.Lookup(key);
  if (!hit.snapshot || !s.cache->RestoreFrom(*hit.snapshot).ok()) return 0;
  if (hit.length == s.tokens.size()) s.logits = *hit.logits;
  const size_t placeholders =
      m.image_token_id < 0 || s.queued_image_rows.empty()
          ? 0
          : static_cast<size_t>(std::count(s.tokens.begin(), s.tokens.begin() + static_cast<std::ptrdiff_t>(hit.length),
                                           m.image_token_id));
  s.queued_image_rows.erase(
      s.queued_image_rows.begin(),
      s.queued_image_rows.begin() + static_cast<std::ptrdiff_t>(placeholders * static_cast<size_t>(m.info.hidden_size)));
  s.processed = hit.length;
  return hit.length;
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
namespace {

// Records what this session holds now into the engine's MemoryUse high-water marks.
void NoteSessionMemory(const Session::Impl& s) {
  if (s.cache == nullptr) return;
  s.engine->peak_session_state_bytes.Raise(static_cast<int64_t>(s.cache->state_bytes()));
  s.engine->peak_session_scratch_bytes.Raise(static_cast<int64_t>(
      s.cache->scratch_bytes() + (s.logits.capacity() + s.queued_image_rows.capacity()) * sizeof(float)));
}

}  // namespace

Session::~Session() {
  if (impl_) NoteSessionMemory(*impl_);
}
const std::vector<int32_t>& Session::tokens() const { return impl_->tokens; }
int64_t Session::prefilled_tokens() const { return impl_->prefilled; }

void Session::Reset() {
  impl_->cache->Clear();
  impl_->tokens.clear();
  impl_->processed = 0;
  impl_->queued_image_rows.clear();
}

Status Session::AppendWithImageRows(const std::vector<int32_t>& ids, std::vector<float> image_rows) {
  const Engine::Impl& m = *impl_->engine;
  if (m.image_token_id < 0) return Unsupported("this model takes no images (not an LFM2-VL model)");
  const size_t hidden = static_cast<size_t>(m.info.hidden_size);
  const size_t placeholders = static_cast<size_t>(std::count(ids.begin(), ids.end(), m.image_token_id));
  if (image_rows.size() != placeholders * hidden)
    return InvalidArgument("the prompt has " + std::to_string(placeholders) + " image tokens but the images gave " +
                           std::to_string(image_rows.size() / hidden) + " feature rows");
  LFM_RETURN_IF_ERROR(AppendTokens(ids));
  impl_->queued_image_rows.insert(impl_->queued_image_rows.end(), image_rows.begin(), image_rows.end());
  return Status::Ok();
}

Status Session::Append(const std::vector<int32_t>& ids) {
  const int32_t image_id = impl_->engine->image_token_id;
  if (image_id >= 0) {
    const auto n = std::count(ids.begin(), ids.end(), image_id);
    if (n > 0)
      return InvalidArgument("the prompt holds " + std::to_string(n) + " image placeholder token(s) (id " +
                             std::to_string(image_id) + ") but no image; attach images through chat " +
                             "(`lfm run --image FILE`) so that their features fill those positions");
  }
  return AppendTokens(ids);
}

Status Session::AppendTokens(const std::vector<int32_t>& ids) {
  const int vocab = impl_->engine->info.vocab_size;
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return InvalidArgument("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                             " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  const int max_ctx = impl_->engine->info.max_context;
  if (impl_->tokens.size() + ids.size() > static_cast<size_t>(max_ctx))
    return OutOfRange("the context would hold " + std::to_string(impl_->tokens.size() + ids.size()) +
                      " tokens but the context length is " + std::to_string(max_ctx) +
                      " (raise it with --ctx-size, up to the model's max_position_embeddings)");
  impl_->tokens.insert(impl_->tokens.end(), ids.begin(), ids.end());
  return Status::Ok();
}

std::unique_ptr<Session> Engine::NewSession() {
  auto impl = std::make_unique<Session::Impl>();
  impl->engine = impl_.get();
  impl->cache = impl_->model->NewCache();
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

// Runs the session's queued tokens through the model, ubatch() positions at a time (the image
// feature rows spliced in over the image placeholders, HF's masked_scatter), so no buffer grows with
// the prompt. Between chunks the progress callback is told and may stop: *stopped is then set, the
// positions already run stay in the session and the rest stays queued.
// at_cut(position) runs after the chunk that ends at each position of `cuts` (sorted, absolute):
// chunks are cut there so that a prefix snapshot can be taken at exactly that position.
static Status RunPrefill(Session::Impl& s, const ProgressCallback& on_progress, bool* stopped,
                         const DecodeBatcher::CancelCheck* cancelled, const std::vector<size_t>& cuts = {},
                         const std::function<void(size_t)>& at_cut = nullptr) {
  Engine::Impl& m = *s.engine;
  const size_t hidden = static_cast<size_t>(m.info.hidden_size);
  const int total = static_cast<int>(s.tokens.size() - s.processed);
  // Checked before any chunk runs: a mismatch must not leave a half-spliced prompt behind.
  const auto placeholders = m.image_token_id < 0 ? 0
                            : std::count(s.tokens.begin() + static_cast<std::ptrdiff_t>(s.processed),
                                         s.tokens.end(), m.image_token_id);
  if (!s.queued_image_rows.empty() && static_cast<size_t>(placeholders) * hidden != s.queued_image_rows.size())
    return Internal("the queued prompt has " + std::to_string(placeholders) + " image tokens but " +
                    std::to_string(s.queued_image_rows.size() / hidden) + " image rows");
  Timer timer;
  auto go_on = [&](int done) {
    return !on_progress || on_progress(Progress{"prefill", done, total, timer.Millis()});
  };
  *stopped = false;
  std::vector<float> embeds;
  size_t rows_used = 0;
  for (int done = 0; done < total && !*stopped;) {
    if (!go_on(done)) {
      *stopped = true;
      break;
    }
    bool dropped = false;
    int chunk = std::min(m.model->ubatch(), total - done);
    auto cut = std::upper_bound(cuts.begin(), cuts.end(), s.processed);
    if (cut != cuts.end() && *cut < s.processed + static_cast<size_t>(chunk))
      chunk = static_cast<int>(*cut - s.processed);
    const int32_t* ids = s.tokens.data() + s.processed;
    if (s.queued_image_rows.empty()) {
      // One chunk per batcher pass, interleaved with the other sequences' decode steps.
      LFM_RETURN_IF_ERROR(m.batcher->Prefill([&] { return m.model->Forward(ids, chunk, *s.cache, &s.logits); },
                                             cancelled, &dropped));
    } else {
      embeds.resize(static_cast<size_t>(chunk) * hidden);
      m.model->EmbedTokens(ids, chunk, embeds.data());
      for (int i = 0; i < chunk; ++i) {
        if (ids[i] != m.image_token_id) continue;
        std::copy_n(s.queued_image_rows.begin() + static_cast<std::ptrdiff_t>(rows_used * hidden), hidden,
                    embeds.begin() + static_cast<std::ptrdiff_t>(i * hidden));
        ++rows_used;
      }
      LFM_RETURN_IF_ERROR(m.batcher->Prefill(
          [&] { return m.model->ForwardEmbeddings(embeds.data(), chunk, *s.cache, &s.logits); }, cancelled,
          &dropped));
    }
    if (dropped) {  // cancelled while queued: this chunk did not run
      *stopped = true;
      break;
    }
    s.processed += static_cast<size_t>(chunk);
    s.prefilled += chunk;
    done += chunk;
    if (at_cut && std::binary_search(cuts.begin(), cuts.end(), s.processed)) at_cut(s.processed);
    if (done == total && !go_on(done)) *stopped = true;
  }
  s.queued_image_rows.erase(s.queued_image_rows.begin(),
                            s.queued_image_rows.begin() + static_cast<std::ptrdiff_t>(rows_used * hidden));
  return Status::Ok();
}

Result<Generation> Session::Generate(const GenerateOptions& options, const TokenCallback& on_token) {
  Impl& s = *impl_;
  const Engine::Impl& m = *s.engine;
  ScopedThreadLimit thread_limit(m.threads);
  // On every way out, the state and scratch this run grew to are noted for Engine::memory_use().
  struct NoteOnExit {
    const Impl& s;
    ~NoteOnExit() { NoteSessionMemory(s); }
  } note_on_exit{s};
  if (options.max_tokens < 0)
    return InvalidArgument("max_tokens must be >= 0, got " + std::to_string(options.max_tokens));
  if (options.min_new_tokens < 0)
    return InvalidArgument("min_new_tokens must be >= 0, got " + std::to_string(options.min_new_tokens));
  for (size_t i = 0; i < options.stop.size(); ++i)
    LFM_RETURN_IF_ERROR(CheckUtf8(options.stop[i], "stop string " + std::to_string(i)));
  if (s.processed == s.tokens.size())
    return InvalidArgument("nothing to generate from: append prompt tokens first");
  const int vocab = m.info.vocab_size;
  SamplingParams sp = options.sampling.value_or(SamplingParamsFromGeneration(m.generation));
  LFM_RETURN_IF_ERROR(sp.Validate());

  Generation g;
  g.prompt_ids.assign(s.tokens.begin() + static_cast<std::ptrdiff_t>(s.processed), s.tokens.end());
  const int n_new = static_cast<int>(g.prompt_ids.size());
  g.timings.prompt_tokens = n_new;
  Timer t;
  // Prefix reuse: restore the longest cached prefix, then snapshot at the prompt's chosen positions
  // and at its end while prefilling the rest.
  std::vector<uint64_t> key;
  const bool caching = s.use_prefix_cache && s.processed == 0 && m.prefix_cache.enabled();
  s.use_prefix_cache = false;  // once: a later turn's tokens were not keyed
  std::vector<size_t> cuts;
  if (caching) {
    key = PrefixKey(s);
    g.timings.cached_prompt_tokens = static_cast<int>(RestoreCachedPrefix(s, key));
    for (size_t p : s.snapshot_points)
      if (p > s.processed && p < s.tokens.size()) cuts.push_back(p);
    cuts.push_back(s.tokens.size());
  }
  Engine::Impl& mm = *s.engine;
  // The prompt's end keeps its logits too, so the same prompt again runs no prefill at all.
  std::function<void(size_t)> snapshot = [&](size_t at) {
    mm.prefix_cache.Insert(key, at, *s.cache, at == s.tokens.size() && at == key.size() ? &s.logits : nullptr);
  };
  bool stopped = false;
  const DecodeBatcher::CancelCheck* cancelled = options.cancelled ? &options.cancelled : nullptr;
  LFM_RETURN_IF_ERROR(RunPrefill(s, options.on_progress, &stopped, cancelled, cuts,
                                 caching ? snapshot : std::function<void(size_t)>()));
  g.timings.prefill_ms = t.Millis();
  if (stopped) {
    g.finish_reason = "callback";
    return g;
  }
  if (options.return_prompt_logits) g.prompt_logits.assign(s.logits.begin(), s.logits.begin() + vocab);

  Sampler sampler(sp);
  StreamingDetokenizer detok(m.tokenizer, /*skip_special=*/true);
  StopStringMatcher stops(options.stop);
  std::unique_ptr<GrammarMatcher> matcher;
  std::vector<uint32_t> allowed;
  if (options.grammar) {
    const CompiledGrammar::Impl& gi = options.grammar->impl();
    if (gi.trie->vocab_size() != static_cast<size_t>(vocab))
      return InvalidArgument("the grammar was compiled for another model's vocabulary");
    matcher = std::make_unique<GrammarMatcher>(gi.grammar, gi.trie);
  }
  g.finish_reason = "length";
  // An error once decoding has started ends the run but keeps what was generated: the Generation
  // carries finish_reason "error" and the cause in `error`.
  auto fail = [&g](const Status& st) {
    g.finish_reason = "error";
    g.error = st.message();
  };
  // Decode time covers every forward pass that makes a generated token after the first (the first
  // comes from the prefill's logits): it starts just before the first token's own forward pass, so
  // N generated tokens are N-1 timed passes and decode_tokens_per_s() divides by N-1.
  Timer decode_timer;
  // From here on the session decodes: batcher leaders wait for its next step (see decode_batcher.h).
  std::optional<DecodeBatcher::ActiveDecoder> decoding(std::in_place, *m.batcher);
  for (int step = 0; step < options.max_tokens; ++step) {
    if (Status st = CheckLogitsFinite(s.logits.data(), vocab, step); !st.ok()) {
      fail(st);
      break;
    }
    if (matcher) {
      if (Status st = matcher->ComputeMask(&allowed); !st.ok()) {
        fail(st);
        break;
      }
    }
    if (step < options.min_new_tokens) MaskEos(m.info.eos_ids, vocab, matcher ? &allowed : nullptr, s.logits.data());
    // The repetition penalty sees the whole session, as HF sees the whole input_ids.
    int32_t id = sampler.Sample(s.logits.data(), vocab, s.tokens, matcher ? allowed.data() : nullptr);
    if (id < 0) {
      fail(Internal("the sampler found no candidate for generated token " + std::to_string(step) +
                    (matcher ? " (the grammar allows no token here)" : "")));
      break;
    }
    const bool is_eos = std::find(m.info.eos_ids.begin(), m.info.eos_ids.end(), id) != m.info.eos_ids.end();
    if (matcher && !is_eos) {
      if (Status st = matcher->AcceptToken(id); !st.ok()) {
        fail(st);
        break;
      }
    }
    g.ids.push_back(id);
    s.tokens.push_back(id);  // queued: the next Forward (or the next turn's prefill) runs it
    g.timings.generated_tokens++;
    // Under a grammar, EOS is only allowed once the output is complete, so it always ends the run.
    if (is_eos && (!options.ignore_eos || matcher)) {
      g.finish_reason = "eos";
      break;
    }
    std::string piece = stops.Push(detok.Push(id));
    bool keep_going = on_token ? on_token(id, piece) : true;
    if (stops.stopped()) {
      g.finish_reason = "stop";
      break;
    }
    if (!keep_going) {
      g.finish_reason = "callback";
      break;
    }
    if (step + 1 == options.max_tokens) break;
    if (s.tokens.size() >= static_cast<size_t>(m.info.max_context)) {
      g.finish_reason = "context";
      break;
    }
    if (step == 0) decode_timer.Reset();
    bool dropped = false;
    if (Status st = m.batcher->Decode(id, *s.cache, &s.logits, cancelled, &dropped); !st.ok()) {
      fail(st);
      break;
    }
    if (dropped) {  // cancelled while waiting for the decoder: the token stays queued, as after a callback stop
      g.finish_reason = "callback";
      break;
    }
    s.processed = s.tokens.size();
  }
  decoding.reset();
  if (g.timings.generated_tokens > 1) g.timings.decode_ms = decode_timer.Millis();
  // The reply's end is the next turn's likely prefix (its prompt repeats this one and the reply).
  if (caching && g.finish_reason != "error" && s.processed > key.size()) {
    for (size_t i = key.size(); i < s.processed; ++i) key.push_back(static_cast<uint32_t>(s.tokens[i]));
    snapshot(s.processed);
  }
  if (!stops.stopped()) {
    std::string tail = stops.Push(detok.Flush());
    tail += stops.Flush();
    if (!tail.empty() && on_token) on_token(-1, tail);
  }
  g.text = stops.text();
  if (matcher) {
    g.grammar_complete = matcher->IsAccepting();
    const auto& validator = options.grammar->impl().validator;
    if (validator && g.grammar_complete) {
      // An independent check of the constrained output: the validator knows nothing of the grammar.
      auto doc = ParseJson(g.text, "output");
      std::vector<ValidationError> errors;
      if (!doc.ok()) {
        g.schema_validation = doc.status().message();
      } else if (validator->Validate(*doc, &errors)) {
        g.schema_validation = "valid";
      } else {
        g.schema_validation = errors.empty() ? "invalid" : errors.front().instance_pointer + ": " + errors.front().message;
      }
    }
  }
  return g;
}

Result<Generation> Engine::GenerateFromIds(const std::vector<int32_t>& prompt_ids, const GenerateOptions& options,
                                           const TokenCallback& on_token) {
  if (prompt_ids.empty()) return InvalidArgument("empty prompt: nothing to generate from");
  if (prompt_ids.size() >= static_cast<size_t>(impl_->info.max_context))
    return OutOfRange("the prompt has " + std::to_string(prompt_ids.size()) +
                      " tokens but the context length is " + std::to_string(impl_->info.max_context));
  auto session = NewSession();
  LFM_RETURN_IF_ERROR(session->Append(prompt_ids));
  UsePrefixCache(*session);
  return session->Generate(options, on_token);
}

}  // namespace lfm
