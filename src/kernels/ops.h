// Element-wise and small kernels of the LFM2 decoder. Each has a plain *Ref twin (ops_ref.cpp)
// that the tests compare against; the fast versions use AVX-512 or AVX2 where it pays, chosen at run
// time (base/cpu_features.h).
#pragma once

#include <cstdint>

#include "base/cpu_features.h"

namespace lfm {

// The instruction set Dot, Axpy, RmsNorm, AttentionCausal and AttentionCausalBf16 run: ActiveIsa().
Isa OpsIsa();

// y = w * x / sqrt(mean(x^2) + eps) over n elements (no "1 + w" offset). y may alias x.
void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* y);
void RmsNormRef(const float* x, const float* w, int64_t n, float eps, float* y);

// out[i] = silu(gate[i]) * up[i], silu(z) = z * sigmoid(z). out may alias gate or up.
void SwiGlu(const float* gate, const float* up, int64_t n, float* out);
void SwiGluRef(const float* gate, const float* up, int64_t n, float* out);
void Silu(const float* x, int64_t n, float* out);

// In-place softmax over n values (max-subtracted, f32).
void Softmax(float* x, int64_t n);
void SoftmaxRef(float* x, int64_t n);

// Dot product and y += a * x over n floats.
float Dot(const float* a, const float* b, int64_t n);
void Axpy(float a, const float* x, int64_t n, float* y);

// y = a * b element-wise.
void Mul(const float* a, const float* b, int64_t n, float* y);
// y += x element-wise.
void AddInPlace(const float* x, int64_t n, float* y);

// RoPE, rotate-half (NeoX) layout: cos/sin for one position from inverse frequencies
// (inv_freq[i] = theta^(-2i/d), i < d/2) and angle = pos * inv_freq[i] in f32, as HF computes it.
void RopeCosSin(int64_t pos, const float* inv_freq, int half, float* cos_out, float* sin_out);
// Rotates n_heads consecutive head vectors of size 2*half in place:
//   x'[i] = x[i] c_i - x[i+half] s_i,  x'[i+half] = x[i+half] c_i + x[i] s_i.
void RopeNeox(float* x, int n_heads, int half, const float* cos, const float* sin);
void RopeNeoxRef(float* x, int n_heads, int half, const float* cos, const float* sin);

// Causal depthwise conv along time for n tokens of D channels with kernel length L.
// v: [n, D] input rows; w_tap_major: [L, D] (tap L-1 multiplies the newest sample);
// state: [L-1, D] previous input rows, oldest first (zeros at the start of a sequence), updated to
// the last L-1 rows of concat(state, v). out: [n, D] (must not alias v).
void CausalDepthwiseConv(const float* v, int64_t n, int64_t D, int L, const float* w_tap_major, float* state,
                         float* out);
void CausalDepthwiseConvRef(const float* v, int64_t n, int64_t D, int L, const float* w_tap_major,
                            float* state, float* out);

// Causal grouped-query attention for n queries at positions p0 .. p0+n-1.
// q: [n, H*d]; k, v: [p0+n, Hkv*d] (row = position; the new keys are already appended);
// out: [n, H*d]. Query head h reads kv head h / (H / Hkv). Scores scaled by `scale`, softmax in f32.
struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  float scale = 1.0f;
};
void AttentionCausal(const float* q, int64_t n, int64_t p0, const float* k, const float* v,
                     const AttentionShape& s, float* out);
void AttentionCausalRef(const float* q, int64_t n, int64_t p0, const float* k, const float* v,
                        const AttentionShape& s, float* out);

// The same over a bf16 KV cache: k and v hold bf16 bits (the top 16 bits of an f32), widened to f32
// as they are loaded; the scores, softmax and sums stay f32 as above. The reference widens them and
// runs AttentionCausalRef, so a kernel differs from it only by summation order.
// Why widen-on-load and not vdpbf16ps: the dot product instruction would also round q (and, for the
// value sum, the probabilities) to bf16, an error on top of the cache's own rounding, and it pairs
// adjacent elements, which for P*V means positions: V would need a pair-interleaved layout. Decode
// attention is bound by reading the cache, which bf16 halves either way.
void AttentionCausalBf16(const float* q, int64_t n, int64_t p0, const uint16_t* k, const uint16_t* v,
                         const AttentionShape& s, float* out);
void AttentionCausalBf16Ref(const float* q, int64_t n, int64_t p0, const uint16_t* k, const uint16_t* v,
                            const AttentionShape& s, float* out);

// n f32 values to bf16 bits, rounded to nearest even (tensor/convert.h F32ToBF16): keys and values
// as the bf16 KV cache stores them.
void F32ToBf16Rows(const float* x, int64_t n, uint16_t* out);

}  // namespace lfm
