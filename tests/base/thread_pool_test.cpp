#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace lfm {
namespace {

TEST(ThreadPool, CoversRangeExactlyOnceWithGrain) {
  ThreadPool pool(3);
  for (size_t n : {1u, 7u, 64u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, [&](size_t b, size_t e, int) {
      EXPECT_TRUE(b % 16 == 0);
      for (size_t i = b; i < e; ++i) hits[i]++;
    }, 16);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << i;
  }
}

TEST(ThreadPool, ManySmallRegions) {
  ThreadPool pool(2);
  std::atomic<long> sum{0};
  for (int r = 0; r < 2000; ++r)
    pool.ParallelFor(4, [&](size_t b, size_t e, int) { sum += static_cast<long>(e - b); });
  EXPECT_EQ(sum.load(), 8000);
}

}  // namespace
}  // namespace lfm
