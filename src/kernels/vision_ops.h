// Kernels of the SigLIP2 vision tower and the LFM2-VL projector: LayerNorm (with bias), the two
// GELU flavours HF uses there (tanh approximation in the tower, exact erf in the projector) and
// bidirectional multi-head attention. Each fast version (AVX-512 where it pays, threaded over rows
// with DefaultThreadPool where the work is large) has a plain single-threaded *Ref twin that the
// tests compare against.
#pragma once

#include <cstdint>

#include "base/cpu_features.h"

namespace lfm {

// The instruction set of the vision kernels: avx512 when ActiveIsa() is avx512 (all of them); avx2
// when it is avx2 (AttentionBidirectional; LayerNorm and the GELUs run the portable loops there);
// else scalar.
Isa VisionOpsIsa();

// y[r] = (x[r] - mean) / sqrt(var + eps) * w + b for `rows` rows of d floats (biased variance, as
// torch.nn.LayerNorm). Row strides: x and y are dense [rows, d]. y may alias x.
void LayerNormRows(const float* x, int64_t rows, int64_t d, const float* w, const float* b, float eps, float* y);
void LayerNormRowsRef(const float* x, int64_t rows, int64_t d, const float* w, const float* b, float eps,
                      float* y);

// x[r][c] += bias[c] for dense [rows, d].
void AddBiasRows(float* x, int64_t rows, int64_t d, const float* bias);

// In place over [rows, d]: x = gelu(x + bias) (bias may be null).
//   GeluTanh: 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))   (HF "gelu_pytorch_tanh", "gelu_new")
//   GeluErf:  0.5 z (1 + erf(z / sqrt(2)))                       (HF "gelu")
void BiasGeluTanhRows(float* x, int64_t rows, int64_t d, const float* bias);
void BiasGeluTanhRowsRef(float* x, int64_t rows, int64_t d, const float* bias);
void BiasGeluErfRows(float* x, int64_t rows, int64_t d, const float* bias);
void BiasGeluErfRowsRef(float* x, int64_t rows, int64_t d, const float* bias);

// Bidirectional (non-causal) multi-head attention: every query attends to keys 0 .. n_k-1, and
// nothing else. Padded patches of a crop are masked as keys by passing only the valid rows as keys
// (padding always comes after the valid patches), which is what HF's additive -inf mask amounts to.
// q: [n_q] rows, k and v: [n_k] rows, all with row stride ld_in (so they can be slices of one fused
// QKV buffer); head h uses columns [h*head_dim, (h+1)*head_dim). out: [n_q] rows of
// n_heads*head_dim, row stride ld_out. Scores are scaled by `scale`, softmax in f32.
//
// bf16 = true allows the fast path to round q, k, v and the softmax weights to bf16 (products still
// summed in f32) where the CPU multiplies bf16 pairs natively (VisionAttentionUsesBf16()); about
// twice the speed, at a max abs error around 1e-3 of unit-scale values instead of 1e-6 (see
// vision_ops_test.cpp). The tower asks for it when its weights are bf16 anyway; f32 weights keep f32.
struct BidirectionalAttentionShape {
  int n_heads = 0;
  int head_dim = 0;
  float scale = 1.0f;
  bool bf16 = false;
};
// Whether AttentionBidirectional honours bf16 = true on this CPU / LFM_ISA (AVX512_BF16 and the avx512
// path; even head_dim).
bool VisionAttentionUsesBf16();
void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out);
void AttentionBidirectionalRef(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                               int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out);

}  // namespace lfm
