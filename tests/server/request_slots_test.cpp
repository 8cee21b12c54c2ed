// The admission queue (server/request_slots.h): a waiter whose client went away leaves at once,
// and its place in line passes on, so the requests behind it are not stuck behind a ghost ticket.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "server/request_slots.h"

namespace lfm::server {
namespace {

using Clock = std::chrono::steady_clock;

void WaitFor(const std::function<bool()>& pred) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!pred() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(pred());
}

// Waiter B (first in line) and C (second) queue behind a running request; B's client goes away,
// then C's turn comes once the slot frees.
TEST(RequestSlots, CancelledWaiterLeavesAtOnceAndPassesItsTurn) {
  for (bool cancel_head : {true, false}) {
    SCOPED_TRACE(cancel_head ? "the head of the line leaves" : "the second in line leaves");
    RequestSlots slots(1, 4);
    auto running = slots.Acquire();
    ASSERT_NE(running, nullptr);
    std::atomic<bool> b_gone{false}, c_gone{false};
    std::atomic<int> b_result{-1}, c_result{-1};  // 0 = cancelled, 1 = got a slot
    std::thread b([&] {
      bool cancelled = false;
      auto l = slots.Acquire([&] { return b_gone.load(); }, &cancelled);
      b_result = l ? 1 : (cancelled ? 0 : 2);
    });
    WaitFor([&] { return slots.waiting() == 1; });
    std::thread c([&] {
      bool cancelled = false;
      auto l = slots.Acquire([&] { return c_gone.load(); }, &cancelled);
      c_result = l ? 1 : (cancelled ? 0 : 2);
    });
    WaitFor([&] { return slots.waiting() == 2; });
    std::atomic<bool>& leaver = cancel_head ? b_gone : c_gone;
    std::atomic<int>& left = cancel_head ? b_result : c_result;
    std::atomic<int>& stays = cancel_head ? c_result : b_result;
    const auto t0 = Clock::now();
    leaver = true;
    WaitFor([&] { return left.load() == 0; });
    // Dropped within a few polls, while the slot is still taken.
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    EXPECT_LT(ms, 1000.0);
    EXPECT_EQ(slots.waiting(), 1);
    EXPECT_EQ(stays.load(), -1);
    running.reset();
    WaitFor([&] { return stays.load() == 1; });
    b.join();
    c.join();
    EXPECT_EQ(slots.waiting(), 0);
    EXPECT_EQ(slots.active(), 0);
    // The line still works afterwards.
    auto again = slots.Acquire([] { return false; });
    EXPECT_NE(again, nullptr);
  }
}

// Without a cancellation check a full queue still refuses at once.
TEST(RequestSlots, FullQueueRefusesAtOnce) {
  RequestSlots slots(1, 0);
  auto running = slots.Acquire();
  ASSERT_NE(running, nullptr);
  bool cancelled = true;
  EXPECT_EQ(slots.Acquire([] { return false; }, &cancelled), nullptr);
  EXPECT_FALSE(cancelled);
}

}  // namespace
}  // namespace lfm::server
