#include "kernels/bf16_dot.h"

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

}  // namespace lfm
