#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
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

// More threads than cores: workers are often not scheduled when their region starts, so the caller and
// the workers that do run claim their chunks. Every chunk index must still run exactly once per region
// (kernels index per-chunk scratch by it), chunk 0 always on the calling thread, and a worker waking
// after its region ended must not run anything of it.
TEST(ThreadPool, OversubscribedChunksRunOncePerRegionAndChunkZeroOnTheCaller) {
  const int threads = static_cast<int>(std::max(4u, 4 * std::thread::hardware_concurrency()));
  ThreadPool pool(threads);
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<std::atomic<int>> per_chunk(threads);
  int bad_chunk0 = 0;
  for (int r = 0; r < 3000; ++r) {
    for (auto& c : per_chunk) c.store(0);
    const size_t n = 1 + static_cast<size_t>(r % 97);
    std::vector<int> hits(n);
    std::atomic<int> max_index{-1};
    pool.ParallelFor(n, [&](size_t b, size_t e, int index) {
      per_chunk[index]++;
      if (index == 0 && std::this_thread::get_id() != caller) bad_chunk0++;
      for (size_t i = b; i < e; ++i) hits[i]++;
      int m = max_index.load();
      while (index > m && !max_index.compare_exchange_weak(m, index)) {
      }
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "region " << r << " element " << i;
    for (int c = 0; c < threads; ++c) ASSERT_LE(per_chunk[c].load(), 1) << "region " << r << " chunk " << c;
    ASSERT_LT(max_index.load(), static_cast<int>(std::min<size_t>(n, threads)));
  }
  EXPECT_EQ(bad_chunk0, 0);
}

// Each caller's regions must cover its own range exactly once, whatever the other callers do.
void ManyRegionsChecked(ThreadPool& pool, int regions, size_t n, std::atomic<int>* errors) {
  std::vector<int> hits(n);
  for (int r = 0; r < regions; ++r) {
    std::fill(hits.begin(), hits.end(), 0);
    pool.ParallelFor(n, [&](size_t b, size_t e, int) {
      for (size_t i = b; i < e; ++i) hits[i]++;
    }, 4);
    for (size_t i = 0; i < n; ++i)
      if (hits[i] != 1) (*errors)++;
  }
}

TEST(ThreadPool, ParallelForFromTwoThreadsAtOnce) {
  ThreadPool pool(3);
  std::atomic<int> errors{0};
  std::thread a(ManyRegionsChecked, std::ref(pool), 300, 97, &errors);
  std::thread b(ManyRegionsChecked, std::ref(pool), 300, 61, &errors);
  ManyRegionsChecked(pool, 300, 33, &errors);
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
}

TEST(ThreadPool, NestedParallelForRunsInline) {
  ThreadPool pool(3);
  std::atomic<long> sum{0};
  pool.ParallelFor(8, [&](size_t b, size_t e, int) {
    for (size_t i = b; i < e; ++i)
      pool.ParallelFor(10, [&](size_t b2, size_t e2, int index) {
        EXPECT_EQ(index, 0);  // inline: the caller's thread, one chunk
        sum += static_cast<long>(e2 - b2);
      });
  });
  EXPECT_EQ(sum.load(), 80);
}

TEST(ThreadPool, ResizeWhileOtherThreadsRunRegions) {
  ThreadPool pool(2);
  std::atomic<int> errors{0};
  std::atomic<bool> done{false};
  std::thread a([&] {
    while (!done.load()) ManyRegionsChecked(pool, 50, 50, &errors);
  });
  for (int threads : {4, 1, 3, 2, 5, 1}) {
    ASSERT_TRUE(pool.Resize(threads).ok());
    EXPECT_EQ(pool.num_threads(), threads);
    ManyRegionsChecked(pool, 50, 40, &errors);
  }
  ASSERT_TRUE(pool.EnsureThreads(3).ok());
  EXPECT_EQ(pool.num_threads(), 3);
  ASSERT_TRUE(pool.EnsureThreads(2).ok());  // never shrinks
  EXPECT_EQ(pool.num_threads(), 3);
  done = true;
  a.join();
  EXPECT_EQ(errors.load(), 0);
}

TEST(ThreadPool, ResizeRefusesAbsurdCounts) {
  ThreadPool pool(2);
  for (int threads : {0, -1, ThreadPool::kMaxThreads + 1, 1 << 30}) {
    Status st = pool.Resize(threads);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << threads;
    EXPECT_NE(st.message().find("thread count must be between 1 and 1024"), std::string::npos) << st.message();
    EXPECT_EQ(pool.EnsureThreads(threads).code(), StatusCode::kInvalidArgument) << threads;
  }
  EXPECT_EQ(pool.num_threads(), 2);
}

TEST(ThreadPool, ScopedThreadLimitCapsTheThreadsARegionUses) {
  ThreadPool pool(4);
  auto indexes_used = [&] {
    std::mutex mu;
    std::set<int> seen;
    pool.ParallelFor(64, [&](size_t, size_t, int index) {
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(index);
    });
    return seen;
  };
  EXPECT_EQ(indexes_used(), (std::set<int>{0, 1, 2, 3}));
  {
    ScopedThreadLimit limit(2);
    EXPECT_EQ(ThreadLimit(), 2);
    EXPECT_EQ(indexes_used(), (std::set<int>{0, 1}));
    {
      ScopedThreadLimit one(1);
      EXPECT_EQ(indexes_used(), (std::set<int>{0}));
    }
    EXPECT_EQ(indexes_used(), (std::set<int>{0, 1}));
  }
  EXPECT_EQ(ThreadLimit(), 0);
  // The cap belongs to the thread that set it.
  ScopedThreadLimit limit(1);
  std::set<int> other;
  std::thread t([&] { other = indexes_used(); });
  t.join();
  EXPECT_EQ(other, (std::set<int>{0, 1, 2, 3}));
}

TEST(ThreadPool, DefaultPoolIsCreatedOnceUnderConcurrentFirstUse) {
  std::vector<std::thread> threads;
  std::vector<ThreadPool*> seen(8);
  for (int i = 0; i < 8; ++i) threads.emplace_back([&, i] { seen[i] = &DefaultThreadPool(); });
  for (auto& t : threads) t.join();
  for (ThreadPool* p : seen) EXPECT_EQ(p, seen[0]);
}

}  // namespace
}  // namespace lfm
