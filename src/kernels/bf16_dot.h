// Activations rounded to bf16 for the AVX512_BF16 dot-product kernels (vdpbf16ps multiplies pairs of
// bf16). The f32 -> bf16 rounding is the hardware's (vcvtneps2bf16): round to nearest even, f32
// subnormals flushed to a signed zero, NaN kept a (quiet) NaN. The reference twins round through
// RoundToBf16ForDot so they see exactly the activations the kernels see.
//
// Accuracy: each activation changes by at most 2^-9 relative (half a bf16 ulp), so a dot product of K
// terms is off from f32 math on the same weights by at most 2^-9 * sum_k |w_k x_k| and typically by
// ~2^-9 * sqrt(sum_k (w_k x_k)^2) (independent rounding errors). llama.cpp rounds activations to bf16
// for bf16 weights the same way.
#pragma once

#include <cstdint>
#include <cstring>

namespace lfm {

// f32 -> bf16 bits as vcvtneps2bf16 does it.
inline uint16_t F32ToBF16ForDot(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) == 0 && (u & 0x007fffffu) != 0) u &= 0x80000000u;  // subnormal -> signed zero
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float RoundToBf16ForDot(float f) {
  const uint32_t u = static_cast<uint32_t>(F32ToBF16ForDot(f)) << 16;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

// Rows [0, n) of x (K values each, row stride ldx) to bf16 in dst (row stride ldd >= K rounded up
// to even), a zero written after an odd K so the last pair is whole. Portable twin of the kernels'
// conversion.
void RowsToBf16Ref(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd);

// The same with the AVX512_BF16 instructions; only callable when ActiveAvx512Bf16().
namespace avx512 {
using RowsToBf16Fn = void (*)(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd);
RowsToBf16Fn RowsToBf16Kernel();  // null when not compiled (non-x86)
}  // namespace avx512

// RowsToBf16 with the kernel when ActiveAvx512Bf16(), else the portable twin (same bits).
void RowsToBf16(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd);

// Whether the matmuls multiply bf16 weights with vdpbf16ps (activations rounded to bf16) instead of
// widening the weights to f32 for FMA (exact f32 activations). Having AVX512_BF16 is not enough: CPUs
// with it differ 4x in how fast it runs against FMA. Zen 4 issues one zmm vdpbf16ps (32 products) per
// cycle against one 16-product zmm FMA, so the dot is 2x the FMA rate; a Sapphire Rapids-class Xeon
// issues one vdpbf16ps per two cycles against two FMAs per cycle, so it is 0.5x, and there the widening
// GEMM runs the vision tower ~1.4x faster (bench/vision_bench BM_Fc1: packed_bf16widen vs packed_bf16dot).
// So: ActiveAvx512Bf16() (CPU feature, LFM_ISA) and either LFM_ISA=avx512bf16 asked for these kernels
// by name, or Bf16DotProbe() found vdpbf16ps at >= kBf16DotMinSpeed of the FMA rate in products/s.
// Fixed for the life of the process (the first call runs the probe, ~1 ms).
bool UseBf16Dot();

inline constexpr double kBf16DotMinSpeed = 0.75;  // widening costs a few % of the FMA rate; a tie favours the dot

struct Bf16DotSpeed {
  bool measured = false;         // false: no AVX512_BF16 (or not x86), nothing timed
  double dot_products_per_ns = 0;  // vdpbf16ps zmm: 32 products each
  double fma_products_per_ns = 0;  // vfmadd231ps zmm: 16 products each
};
// Times both instructions on this core: independent accumulator chains in registers, no memory,
// alternating, best of several short runs (robust on a busy machine: interference only slows a run).
// Only callable when CpuHasAvx512Bf16(); the figures are printed by `lfm bench`.
Bf16DotSpeed Bf16DotProbe();
// The probe's result UseBf16Dot() decided on (measured = false when it did not need to run).
const Bf16DotSpeed& Bf16DotProbeResult();

namespace avx512 {
// Seconds for `iters` rounds of 16 independent vdpbf16ps zmm / vfmadd231ps zmm (null when not compiled).
using ChainTimerFn = double (*)(int64_t iters);
ChainTimerFn Bf16DotChainTimer();
ChainTimerFn FmaChainTimer();
}  // namespace avx512

}  // namespace lfm
