// The kernels run the path LFM_ISA asks for (clamped to the CPU), so that ctest's per-path runs of
// this binary (LFM_ISA=avx512 / avx2 / scalar) really cover each path rather than the best one thrice.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/vision_gemm.h"
#include "kernels/vision_ops.h"

namespace lfm {
namespace {

TEST(IsaDispatch, KernelsRunTheRequestedPath) {
  const Isa expected = ResolveIsa(DetectCpuIsa(), std::getenv("LFM_ISA")).isa;
  ASSERT_EQ(ActiveIsa(), expected);
  // Both SIMD paths have every matmul dtype, the decoder ops and the vision GEMM; the other vision
  // kernels exist for AVX-512 only and fall back to the portable loops below it.
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    EXPECT_EQ(MatMulIsa(t), expected) << DTypeName(t);
  }
  EXPECT_EQ(OpsIsa(), expected);
  EXPECT_EQ(VisionOpsIsa(), expected);
  EXPECT_EQ(GemmPackedIsa(), expected);
  EXPECT_EQ(MatMulUsesAvx512(), expected == Isa::kAvx512);
}

}  // namespace
}  // namespace lfm
