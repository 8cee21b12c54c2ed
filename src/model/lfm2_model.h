// The LFM2 text decoder (HF Lfm2ForCausalLM): token embeddings, a stack of pre-norm blocks whose
// operator is either a gated short convolution or grouped-query attention, SwiGLU FFNs, the final
// RMSNorm (stored as "embedding_norm") and a tied or separate lm_head. f32 activations; weights in
// f32/bf16/f16 as stored, or converted at load (ModelLoadOptions::weight_dtype).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/page_buffer.h"
#include "lfm/status.h"
#include "kernels/linear.h"
#include "model/hybrid_cache.h"
#include "model/lfm2_config.h"
#include "tensor/tensor_view.h"
#include "weights/weight_store.h"

namespace lfm {

struct ModelLoadOptions {
  // kAuto: use weights as stored. kF32 / kBF16 / kF16 / kQ8_0 / kQ4_0: convert matrices at load
  // (norms and conv kernels always become f32).
  DType weight_dtype = DType::kAuto;
  // The token embedding table (also the tied lm_head): kAuto keeps it as stored, whatever
  // weight_dtype says; set it to convert it too. Kept separate because the logits are most
  // sensitive to it (see tests/model: bf16 blocks alone keep greedy ids where bf16 everywhere
  // can flip near-ties).
  DType embedding_dtype = DType::kAuto;
  // q8_0 / q4_0 matrices run the int8 kernel (activations quantized to int8 per 32-block, VNNI dot
  // products; kernels/quant_matmul.h) where the CPU has it. false: widen the weights to f32 and keep
  // f32 activations (slower; logits equal f32 math on the dequantized weights up to summation order).
  bool int8_matmul = true;
  int max_context = 0;  // 0 = config max_position_embeddings; larger than that is an error
  // The most positions one pass through the layers takes (a micro-batch). Longer inputs run in
  // chunks of this size, so the forward pass's scratch memory is bounded by it, not by the prompt
  // length; the result is the same as one pass (every position sees the same keys and conv state).
  int ubatch = kDefaultUbatch;
  static constexpr int kDefaultUbatch = 512;
  // How NewCache() stores keys and values (model/hybrid_cache.h): f32, or bf16 (half the memory and
  // the decode attention reads; logits move by the bf16 rounding of k and v, see tests/model).
  KvType kv_type = KvType::kF32;
  static constexpr int kMaxUbatch = 1 << 16;
};

// Scratch buffers of ForwardBatch (the activations of all sequences of one batched pass), reused
// across passes by whoever runs them (one pass at a time per scratch).
struct BatchScratch {
  std::vector<float> buf[HybridCache::kNumScratch];
};

class Lfm2Model {
 public:
  // model_dir holds config.json and model.safetensors (or a sharded index), or is a .gguf file.
  static Result<std::unique_ptr<Lfm2Model>> Load(const std::string& model_dir, const ModelLoadOptions& = {});
  // From an already-parsed config and an open weight store (the VL model shares its store).
  static Result<std::unique_ptr<Lfm2Model>> FromWeights(const Lfm2Config& config,
                                                        std::shared_ptr<const WeightStore> weights,
                                                        const ModelLoadOptions& = {});

  const Lfm2Config& config() const { return config_; }
  int max_context() const { return max_context_; }
  int ubatch() const { return ubatch_; }
  DType weight_dtype() const { return weight_dtype_; }
  KvType kv_type() const { return kv_type_; }
  // Bytes of weight data read per decoded token (all matrices + embedding rows used), for GB/s figures.
  int64_t weight_bytes() const { return weight_bytes_; }
  // Bytes of every weight as held in memory (matrices at their loaded dtype, the whole token
  // embedding table, norms, conv kernels, biases): what the model adds to the resident set once
  // every page has been read.
  int64_t resident_weight_bytes() const;

  // A cache of the model's kv_type (ModelLoadOptions::kv_type). Forward takes caches of either type.
  std::unique_ptr<HybridCache> NewCache() const;

  // Runs n tokens at positions cache.n_past() .. and appends them to the cache, ubatch() positions
  // at a time. logits: [n, vocab] if all_rows, else [1, vocab] for the last token.
  // Callers that want a cancellation point between chunks call this once per chunk.
  Status Forward(const int32_t* ids, int n, HybridCache& cache, std::vector<float>* logits, bool all_rows = false);
  // Same from precomputed input embeddings [n, hidden] (for VL image splicing).
  Status ForwardEmbeddings(const float* embeds, int n, HybridCache& cache, std::vector<float>* logits,
                           bool all_rows = false);
  // out: [n, hidden]. Ids outside the vocabulary give zero rows (Forward rejects them first).
  void EmbedTokens(const int32_t* ids, int n, float* out) const;

  // Batched decode: one new token for each of `count` sequences, ids[b] appended to *caches[b] at
  // that cache's own position. The matrices run once as a [count, hidden] product (the weights are
  // read once for all sequences: decode is memory bound), while the per-sequence parts (short-conv
  // state, RoPE at each position, attention over each KV cache) loop over the sequences. logits:
  // [count, vocab], row b for sequence b. The kernels give each output row the same reduction
  // whatever the number of rows (kernels/matmul*.cpp), so row b equals Forward(&ids[b], 1, *caches[b]).
  // The caches must be distinct. Checked like Forward; on an error no cache is touched.
  Status ForwardBatch(const int32_t* ids, HybridCache* const* caches, int count, BatchScratch& scratch,
                      float* logits);

 private:
  struct Layer {
    Lfm2LayerType type = Lfm2LayerType::kConv;
    std::vector<float> operator_norm, ffn_norm;
    LinearWeight w1, w2, w3;
    // conv
    LinearWeight in_proj, conv_out_proj;
    std::vector<float> conv_kernel;  // tap-major [L, D]
    std::vector<float> in_proj_bias, conv_bias, out_proj_bias;  // empty unless conv_bias
    // attention
    LinearWeight q_proj, k_proj, v_proj, attn_out_proj;
    std::vector<float> q_norm, k_norm;
  };

  Lfm2Model() = default;
  Status Init(const Lfm2Config& config, std::shared_ptr<const WeightStore> weights, const ModelLoadOptions& o);
  Result<TensorView> Matrix(const std::string& name, int64_t rows, int64_t cols, DType want_dtype);
  // Matrix() as the model multiplies it: q8_0 / q4_0 repacked for the int8 kernel where it runs
  // (kernels/linear.h), and then a buffer Matrix() converted into is freed again.
  Result<LinearWeight> Linear(const std::string& name, int64_t rows, int64_t cols, DType want_dtype);
  Result<LinearWeight> Wrap(const TensorView& v) const;
  Result<std::vector<float>> Vector(const std::string& name, const std::vector<int64_t>& shape);
  void ConvBlock(const Layer& L, int layer, int n, const float* u, HybridCache& cache, float* out);
  void AttentionBlock(const Layer& L, int layer, int n, const float* u, HybridCache& cache, float* out);
  void FfnBlock(const Layer& L, int n, const float* u, HybridCache& cache, float* out);
  // Checks that n more positions fit the cache and the context (before any chunk runs, so an
  // input that cannot fit leaves the cache untouched).
  Status CheckRoom(int n, const HybridCache& cache) const;
  // One pass of n <= ubatch_ positions; logits_out (if not null) receives [n or 1, vocab].
  void ForwardChunk(const float* embeds, int n, HybridCache& cache, float* logits_out, bool all_rows);

  Lfm2Config config_;
  std::shared_ptr<const WeightStore> weights_;
  std::vector<PageBuffer> owned_;  // converted weights
  DType weight_dtype_ = DType::kAuto;
  bool int8_matmul_ = true;
  int max_context_ = 0;
  int ubatch_ = ModelLoadOptions::kDefaultUbatch;
  KvType kv_type_ = KvType::kF32;
  int64_t weight_bytes_ = 0;
  TensorView embed_tokens_;  // row lookups; data is null when tied to a packed lm_head (rows come from it)
  LinearWeight lm_head_;
  std::vector<float> final_norm_;
  std::vector<float> inv_freq_;
  std::vector<Layer> layers_;
};

}  // namespace lfm
