// Hostile flags for `lfm bench` (the kernel-speed entry point): each must fail closed (exit 1 or 2,
// < 2 s, < 512 MB) with a message naming the flag, before a model is written or a prompt allocated.
#include <gtest/gtest.h>

#include <string>

#include "hostile_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::ExpectFailsClosed;

std::string Tiny() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

TEST(HostileKernels, BenchZeroPromptTokens) { ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "0"}, "-p >= 1"); }

TEST(HostileKernels, BenchNegativePromptTokens) {
  ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "-5"}, "got -p -5");
}

TEST(HostileKernels, BenchZeroGeneratedTokens) { ExpectFailsClosed({"bench", "-m", Tiny(), "-n", "0"}, "-n >= 1"); }

TEST(HostileKernels, BenchBadListValue) { ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "8,-1"}, "got -p -1"); }

TEST(HostileKernels, BenchNegativeDepth) { ExpectFailsClosed({"bench", "-m", Tiny(), "-d", "-3"}, "got -d -3"); }

TEST(HostileKernels, BenchUnknownDtype) { ExpectFailsClosed({"bench", "-m", Tiny(), "--dtype", "q3_k"}, "q3_k"); }

TEST(HostileKernels, BenchUnknownOutput) { ExpectFailsClosed({"bench", "-m", Tiny(), "-o", "xml"}, "-o must be md"); }

// Depth and prompt together must fit: checked before any prompt is allocated.
TEST(HostileKernels, BenchDepthPastTheContext) {
  ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "4", "-n", "2", "-d", "2000000000"}, "exceed the model's context");
}

TEST(HostileKernels, BenchZeroReps) { ExpectFailsClosed({"bench", "-m", Tiny(), "-r", "0"}, "got -r 0"); }

// Used to loop for days: every repetition is a full prefill + decode.
TEST(HostileKernels, BenchHugeReps) {
  ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "4", "-n", "2", "-r", "100000000"}, "-r <= 1000");
}

// Used to allocate the 2e9-id prompt (8 GB) before any check.
TEST(HostileKernels, BenchPromptPastTheContext) {
  ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "2000000000"}, "exceed the model's context");
}

TEST(HostileKernels, BenchGenerationPastTheContext) {
  ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "4", "-n", "2000000000"}, "exceed the model's context");
}

// Bad flags are refused before --shape writes hundreds of MB of random weights.
TEST(HostileKernels, BenchBadFlagsBeforeWritingAModel) {
  const std::string dir = testing::HostileScratch("bench-bad-flags");
  ExpectFailsClosed({"bench", "-m", dir, "--shape", "lfm2-350m", "-r", "0"}, "-r 0)");
  EXPECT_FALSE(std::filesystem::exists(dir + "/model.safetensors")) << "a model was written before the flag check";
}

TEST(HostileKernels, BenchUnknownShape) {
  const std::string dir = testing::HostileScratch("bench-unknown-shape");
  ExpectFailsClosed({"bench", "-m", dir, "--shape", "lfm9-huge"}, "unknown model shape 'lfm9-huge'");
}

TEST(HostileKernels, BenchPromptTokensNotANumber) {
  ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "lots"}, "lots");
}

TEST(HostileKernels, BenchPromptTokensOverflowInt) {
  ExpectFailsClosed({"bench", "-m", Tiny(), "-p", "99999999999999999999"}, "99999999999999999999");
}

}  // namespace
}  // namespace lfm
