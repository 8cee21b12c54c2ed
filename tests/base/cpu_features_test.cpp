#include "base/cpu_features.h"

#include <gtest/gtest.h>

namespace lfm {
namespace {

TEST(CpuFeatures, UnsetOrEmptyKeepsTheCpuLevel) {
  for (Isa cpu : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    EXPECT_EQ(ResolveIsa(cpu, nullptr).isa, cpu);
    EXPECT_EQ(ResolveIsa(cpu, "").isa, cpu);
    EXPECT_EQ(ResolveIsa(cpu, nullptr).note, "");
  }
}

TEST(CpuFeatures, RequestLowersTheLevel) {
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "avx2").isa, Isa::kAvx2);
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "scalar").isa, Isa::kScalar);
  EXPECT_EQ(ResolveIsa(Isa::kAvx2, "scalar").isa, Isa::kScalar);
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "avx512").isa, Isa::kAvx512);
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "avx2").note, "");
}

TEST(CpuFeatures, RequestNeverRaisesTheLevelAndSaysSo) {
  const IsaChoice c = ResolveIsa(Isa::kAvx2, "avx512");
  EXPECT_EQ(c.isa, Isa::kAvx2);
  EXPECT_NE(c.note.find("LFM_ISA=avx512"), std::string::npos) << c.note;
  EXPECT_NE(c.note.find("does not support"), std::string::npos) << c.note;
  EXPECT_EQ(ResolveIsa(Isa::kScalar, "avx2").isa, Isa::kScalar);
}

TEST(CpuFeatures, UnknownValueKeepsTheCpuLevelAndSaysSo) {
  for (const char* bad : {"AVX2", "sse", "avx-512", "scalar "}) {
    const IsaChoice c = ResolveIsa(Isa::kAvx512, bad);
    EXPECT_EQ(c.isa, Isa::kAvx512) << bad;
    EXPECT_NE(c.note.find("unknown value"), std::string::npos) << c.note;
    EXPECT_NE(c.note.find(bad), std::string::npos) << c.note;
  }
}

TEST(CpuFeatures, ActiveIsNeverAboveTheCpu) {
  EXPECT_LE(ActiveIsa(), DetectCpuIsa());
  EXPECT_STREQ(IsaName(Isa::kAvx512), "avx512");
  EXPECT_STREQ(IsaName(Isa::kAvx2), "avx2");
  EXPECT_STREQ(IsaName(Isa::kScalar), "scalar");
}

TEST(CpuFeatures, Avx512Bf16IsAFeatureOnTopOfAvx512) {
  // "avx512bf16" names the avx512 level (clamped like any request) ...
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "avx512bf16").isa, Isa::kAvx512);
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "avx512bf16").note, "");
  EXPECT_EQ(ResolveIsa(Isa::kAvx2, "avx512bf16").isa, Isa::kAvx2);
  EXPECT_NE(ResolveIsa(Isa::kAvx2, "avx512bf16").note.find("does not support"), std::string::npos);
  // ... and the bf16 kernels run only at that level, on a CPU with the feature, unless LFM_ISA asks
  // for plain avx512 (or lower).
  EXPECT_TRUE(ResolveAvx512Bf16(Isa::kAvx512, true, nullptr));
  EXPECT_TRUE(ResolveAvx512Bf16(Isa::kAvx512, true, ""));
  EXPECT_TRUE(ResolveAvx512Bf16(Isa::kAvx512, true, "avx512bf16"));
  EXPECT_FALSE(ResolveAvx512Bf16(Isa::kAvx512, true, "avx512"));
  EXPECT_FALSE(ResolveAvx512Bf16(Isa::kAvx2, true, "avx2"));
  EXPECT_FALSE(ResolveAvx512Bf16(Isa::kAvx2, true, nullptr));  // the level was lowered some other way
  EXPECT_FALSE(ResolveAvx512Bf16(Isa::kAvx512, false, nullptr));
  EXPECT_FALSE(ResolveAvx512Bf16(Isa::kAvx512, false, "avx512bf16"));
  if (ActiveAvx512Bf16()) {
    EXPECT_TRUE(CpuHasAvx512Bf16());
    EXPECT_EQ(ActiveIsa(), Isa::kAvx512);
  }
}

// AVX512_FP16 (the vision tower's fp16 GEMM) is resolved the same way, by its own name; asking for
// the bf16 kernels by name leaves it off, and the reverse.
TEST(CpuFeatures, Avx512Fp16IsAFeatureOnTopOfAvx512) {
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "avx512fp16").isa, Isa::kAvx512);
  EXPECT_EQ(ResolveIsa(Isa::kAvx512, "avx512fp16").note, "");
  EXPECT_EQ(ResolveIsa(Isa::kAvx2, "avx512fp16").isa, Isa::kAvx2);
  EXPECT_NE(ResolveIsa(Isa::kAvx2, "avx512fp16").note.find("does not support"), std::string::npos);
  EXPECT_TRUE(ResolveAvx512Fp16(Isa::kAvx512, true, nullptr));
  EXPECT_TRUE(ResolveAvx512Fp16(Isa::kAvx512, true, ""));
  EXPECT_TRUE(ResolveAvx512Fp16(Isa::kAvx512, true, "avx512fp16"));
  EXPECT_FALSE(ResolveAvx512Fp16(Isa::kAvx512, true, "avx512bf16"));
  EXPECT_FALSE(ResolveAvx512Bf16(Isa::kAvx512, true, "avx512fp16"));
  EXPECT_FALSE(ResolveAvx512Fp16(Isa::kAvx512, true, "avx512"));
  EXPECT_FALSE(ResolveAvx512Fp16(Isa::kAvx2, true, nullptr));
  EXPECT_FALSE(ResolveAvx512Fp16(Isa::kAvx512, false, nullptr));
  if (ActiveAvx512Fp16()) {
    EXPECT_TRUE(CpuHasAvx512Fp16());
    EXPECT_EQ(ActiveIsa(), Isa::kAvx512);
  }
}

}  // namespace
}  // namespace lfm
