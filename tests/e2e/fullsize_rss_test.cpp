// Issue #12: peak RSS <= 1.1x (weights as loaded + KV cache + scratch), for safetensors and GGUF
// alike, on the real LFM2-350M shapes (a random checkpoint from `lfm make-test-model`). `lfm bench`
// measures each load's peak (VmHWM, reset before the load) and checks it with --check-rss; the
// accounting itself is tested against the files in tests/engine/memory_use_test.cpp. Cases: bf16
// widened to f32 at load (once 1.85 GB, 1.45x, when the bf16 source pages stayed resident next
// to the f32 copy), quantized to q8_0 at load, and a bf16 GGUF. bench/rss_check.sh runs every case
// on both full-size models. q4_0 (at load and as GGUF) is left to that script: it peaks at 1.09x,
// within the bound by only ~3 MB, because a fixed ~30 MB of the process (code, the tokenizer's
// tables) is close to 10% of a 340 MB model (README).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

void ExpectWithinBound(const std::string& model_args, const std::string& what) {
  const auto r = testing::RunLfm("bench " + model_args +
                                 " -p 128 -n 4 -r 1 -t 2 --no-bandwidth-probe -o json --rss-ratio 1.1 --check-rss");
  EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << what << ": " << r.out;
  ASSERT_FALSE(j["memory"].empty()) << what;
  for (const auto& m : j["memory"]) {
    EXPECT_TRUE(m["peak_is_per_load"].get<bool>()) << what;
    EXPECT_GT(m["weight_bytes"].get<double>(), 1e8) << what;  // a full-size model, not a stub
    EXPECT_LE(m["peak_rss_bytes"].get<double>(), 1.1 * m["accounted_bytes"].get<double>())
        << what << " (" << m["dtype"] << "): peak " << m["peak_rss_bytes"] << " bytes, accounted "
        << m["accounted_bytes"];
  }
}

TEST(FullSizeRss, Lfm2_350mPeakWithinBound) {
  const std::string dir = testing::ScratchDir("fullsize-rss-lfm2-350m");
  const std::string model = dir + "/model";
  auto w = testing::RunLfm("make-test-model --shape lfm2-350m --out " + testing::Quote(model) + " -q");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  // One process per dtype, so each peak is that load's alone.
  ExpectWithinBound("-m " + testing::Quote(model) + " --dtype f32", "safetensors bf16 -> f32");
  ExpectWithinBound("-m " + testing::Quote(model) + " --dtype q8_0", "safetensors bf16 -> q8_0");
  const std::string gguf = dir + "/bf16.gguf";
  auto q = testing::RunLfm("quantize -m " + testing::Quote(model) + " --type bf16 --out " + testing::Quote(gguf));
  ASSERT_EQ(q.exit_code, 0) << q.err;
  ExpectWithinBound("-m " + testing::Quote(gguf), "gguf bf16");
  EXPECT_EQ(std::system(("rm -rf " + testing::Quote(dir)).c_str()), 0);
}

}  // namespace
}  // namespace lfm
