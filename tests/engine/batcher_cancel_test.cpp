// Cancellation while waiting in the decode batcher's queue (engine/decode_batcher.h): a request
// whose cancellation check fires while another pass holds the decoder leaves the queue at once,
// without running, and without waiting for that pass to end.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/decode_batcher.h"
#include "model/lfm2_model.h"
#include "test_util.h"

namespace lfm {
namespace {

using Clock = std::chrono::steady_clock;

TEST(DecodeBatcherCancel, QueuedRequestLeavesAtOnceWhileAPassRuns) {
  auto model = Lfm2Model::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"));
  ASSERT_OK(model);
  DecodeBatcher batcher(**model);
  std::atomic<bool> release{false}, running{false};
  // A pass that holds the decoder until released (a long prefill chunk of another request).
  std::thread holder([&] {
    std::function<Status()> chunk = [&] {
      running = true;
      while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return Status::Ok();
    };
    EXPECT_TRUE(batcher.Prefill(chunk).ok());
  });
  while (!running.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // A prefill chunk and a decode step queue behind it; their clients go away.
  std::atomic<bool> gone{false}, chunk_ran{false};
  std::atomic<int> prefill_dropped{-1}, decode_dropped{-1};
  std::thread queued_prefill([&] {
    std::function<Status()> chunk = [&] {
      chunk_ran = true;
      return Status::Ok();
    };
    DecodeBatcher::CancelCheck check = [&] { return gone.load(); };
    bool dropped = false;
    EXPECT_TRUE(batcher.Prefill(chunk, &check, &dropped).ok());
    prefill_dropped = dropped ? 1 : 0;
  });
  auto cache = (*model)->NewCache();
  std::vector<float> logits;
  std::thread queued_decode([&] {
    DecodeBatcher::CancelCheck check = [&] { return gone.load(); };
    bool dropped = false;
    EXPECT_TRUE(batcher.Decode(5, *cache, &logits, &check, &dropped).ok());
    decode_dropped = dropped ? 1 : 0;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // both are queued behind the holder
  EXPECT_EQ(prefill_dropped.load(), -1);
  EXPECT_EQ(decode_dropped.load(), -1);
  const auto t0 = Clock::now();
  gone = true;
  while ((prefill_dropped.load() < 0 || decode_dropped.load() < 0) && Clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_EQ(prefill_dropped.load(), 1);
  EXPECT_EQ(decode_dropped.load(), 1);
  EXPECT_LT(ms, 1000.0);
  EXPECT_FALSE(release.load()) << "they waited for the pass in flight";
  release = true;
  holder.join();
  queued_prefill.join();
  queued_decode.join();
  EXPECT_FALSE(chunk_ran.load());
  EXPECT_EQ(cache->n_past(), 0);  // the decode step never ran
  // The batcher still serves requests afterwards.
  std::function<Status()> after = [] { return Status::Ok(); };
  EXPECT_TRUE(batcher.Prefill(after).ok());
  const DecodeBatcher::Stats st = batcher.stats();
  EXPECT_EQ(st.decode_rows, 0);
  EXPECT_EQ(st.prefill_chunks, 2);
}

}  // namespace
}  // namespace lfm
