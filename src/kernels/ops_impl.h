// Internal: the per-ISA versions of the SIMD kernels of ops.h (ops_avx512.cpp, ops_avx2.cpp, and the
// portable ones in ops.cpp). ops.cpp picks one set once, from ActiveIsa(); a set may only be called when
// ActiveIsa() is at least its ISA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ops.h"

namespace lfm {

struct OpsKernels {
  float (*dot)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, int64_t n, float* y);
  // out = gate * sigmoid(gate) * up (decode runs it serially on 4608 values per layer: libm's
  // scalar expf made it a few percent of a token).
  void (*swiglu)(const float* gate, const float* up, int64_t n, float* out);
  // AttentionCausal's jobs [job_begin, job_end) (job = token * n_heads + head) on the calling thread:
  // the portable kernel (one query at a time). Null in a set that has the tiled kernels below.
  void (*attention_causal_jobs)(const float* q, int64_t p0, const float* k, const float* v, const AttentionShape& s,
                                float* out, size_t job_begin, size_t job_end);
  // The same over a bf16 KV cache (keys and values widened to f32 as they are loaded).
  void (*attention_causal_bf16_jobs)(const float* q, int64_t p0, const uint16_t* k, const uint16_t* v,
                                     const AttentionShape& s, float* out, size_t job_begin, size_t job_end);
  // A whole call's causal attention, tiled (attention_causal_tiled-inl.h), threaded inside; prefill
  // chunks pack their keys key_chunk at a time. Where a set has it, it serves every call, decode
  // included: a token's output then has the same bits however its prompt was split into calls. Null
  // where the ISA has no tiled kernel (the jobs above serve every call there).
  void (*attention_causal_tiled)(const float* q, int64_t n, int64_t p0, const float* k, const float* v,
                                 const AttentionShape& s, float* out, int64_t key_chunk);
  void (*attention_causal_tiled_bf16)(const float* q, int64_t n, int64_t p0, const uint16_t* k, const uint16_t* v,
                                      const AttentionShape& s, float* out, int64_t key_chunk);
};

// The set ops.h's functions use (tests call its members directly, e.g. the tiled attention with a
// small key_chunk).
const OpsKernels& ActiveOpsKernels();

namespace avx512 {
const OpsKernels* OpsKernelSet();  // null when not compiled (non-x86)
}
namespace avx2 {
const OpsKernels* OpsKernelSet();
}

}  // namespace lfm
