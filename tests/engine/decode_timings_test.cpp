// Timings::decode_ms counts every forward pass that makes a generated token after the first.
// Regression: the decode timer used to start after the first token's own forward pass, so N tokens
// were timed as N-2 passes but divided by N-1; `lfm bench -n 2` reported 9,664 tok/s (a 2-token run
// timed no forward pass at all).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

using Clock = std::chrono::steady_clock;

TEST(DecodeTimings, CoverEveryForwardPassAfterTheFirstToken) {
  auto engine = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const std::vector<int32_t> prompt = {1, 571, 3743, 610, 2609};
  for (int n : {2, 3, 8}) {
    GenerateOptions go;
    go.max_tokens = n;
    go.ignore_eos = true;
    go.sampling = SamplingParams{.temperature = 0};
    // The callback of token k runs right after token k is sampled; between the callbacks of the
    // first and the last token lie exactly the N-1 forward passes the decode time must hold.
    std::vector<Clock::time_point> at;
    auto g = (*engine)->GenerateFromIds(prompt, go, [&at](int32_t id, std::string_view) {
      if (id >= 0) at.push_back(Clock::now());
      return true;
    });
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    ASSERT_EQ(g->timings.generated_tokens, n);
    ASSERT_EQ(at.size(), static_cast<size_t>(n));
    const double between_ms = std::chrono::duration<double, std::milli>(at.back() - at.front()).count();
    // The decode window starts at the end of the first callback and ends after the last one, so
    // it holds the whole interval; 0.9 leaves room for the first callback's return only.
    EXPECT_GE(g->timings.decode_ms, 0.9 * between_ms) << "n=" << n;
    EXPECT_GT(g->timings.decode_ms, 0.0) << "n=" << n;
    EXPECT_NEAR(g->timings.decode_tokens_per_s(), (n - 1) * 1e3 / g->timings.decode_ms, 1e-6);
  }
}

TEST(DecodeTimings, OneTokenHasNoDecodeTime) {
  auto engine = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  GenerateOptions go;
  go.max_tokens = 1;
  go.ignore_eos = true;
  go.sampling = SamplingParams{.temperature = 0};
  auto g = (*engine)->GenerateFromIds({1, 571, 3743}, go);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->timings.decode_ms, 0.0);
  EXPECT_EQ(g->timings.decode_tokens_per_s(), 0.0);
}

}  // namespace
}  // namespace lfm
