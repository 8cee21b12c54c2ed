#include "kernels/bf16_dot.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/cpu_features.h"

namespace lfm {

void RowsToBf16Ref(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd) {
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t k = 0; k < K; ++k) dst[t * ldd + k] = F32ToBF16ForDot(x[t * ldx + k]);
    if (K % 2 != 0) dst[t * ldd + K] = 0;
  }
}

void RowsToBf16(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd) {
  static const avx512::RowsToBf16Fn fn = ActiveAvx512Bf16() ? avx512::RowsToBf16Kernel() : nullptr;
  if (fn != nullptr) {
    fn(x, n, ldx, K, dst, ldd);
  } else {
    RowsToBf16Ref(x, n, ldx, K, dst, ldd);
  }
}

Bf16DotSpeed Bf16DotProbe() {
  Bf16DotSpeed r;
  const avx512::ChainTimerFn dot = avx512::Bf16DotChainTimer(), fma = avx512::FmaChainTimer();
  if (!CpuHasAvx512Bf16() || dot == nullptr || fma == nullptr) return r;
  // 2048 rounds x 16 instructions: ~15-70 us per run. The first runs also wake the AVX-512 units up.
  constexpr int64_t kIters = 2048;
  double best_dot = 1e30, best_fma = 1e30;
  for (int run = 0; run < 8; ++run) {
    best_dot = std::min(best_dot, dot(kIters));
    best_fma = std::min(best_fma, fma(kIters));
  }
  r.measured = true;
  r.dot_products_per_ns = kIters * 16 * 32 / (best_dot * 1e9);
  r.fma_products_per_ns = kIters * 16 * 16 / (best_fma * 1e9);
  return r;
}

namespace {

struct Bf16DotChoice {
  bool use = false;
  Bf16DotSpeed speed;
};

const Bf16DotChoice& Choice() {
  static const Bf16DotChoice c = [] {
    Bf16DotChoice c;
    if (!ActiveAvx512Bf16()) return c;
    const char* isa = std::getenv("LFM_ISA");
    if (isa != nullptr && std::strcmp(isa, "avx512bf16") == 0) {
      c.use = true;  // asked for by name: no probe
      return c;
    }
    c.speed = Bf16DotProbe();
    c.use = c.speed.measured && c.speed.dot_products_per_ns >= kBf16DotMinSpeed * c.speed.fma_products_per_ns;
    return c;
  }();
  return c;
}

}  // namespace

bool UseBf16Dot() { return Choice().use; }
const Bf16DotSpeed& Bf16DotProbeResult() { return Choice().speed; }

}  // namespace lfm
