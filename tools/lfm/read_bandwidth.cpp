#include "read_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace lfm::cli {

namespace {

// Sums n 64-bit words at p. The slice is read as four interleaved streams (its quarters, one
// accumulator each) with software prefetch 2 KiB ahead in each: one sequential stream per core leaves
// a server core waiting on memory (on a 2-core Xeon it measured ~22 GB/s, while the decode kernels,
// which keep 4 streams and prefetch, read 31-32 GB/s), and the probe is meant to give what the memory
// can deliver. The sum is returned so the compiler cannot drop the reads.
uint64_t SumWords(const uint64_t* p, size_t n) {
  constexpr size_t kAhead = 2048 / sizeof(uint64_t), kLine = 64 / sizeof(uint64_t);
  const size_t q = n / 4;
  const uint64_t *s0 = p, *s1 = p + q, *s2 = p + 2 * q, *s3 = p + 3 * q;
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + kLine <= q; i += kLine) {
    __builtin_prefetch(s0 + i + kAhead);
    __builtin_prefetch(s1 + i + kAhead);
    __builtin_prefetch(s2 + i + kAhead);
    __builtin_prefetch(s3 + i + kAhead);
    for (size_t j = i; j < i + kLine; ++j) {
      a += s0[j];
      b += s1[j];
      c += s2[j];
      d += s3[j];
    }
  }
  for (; i < q; ++i) a += s0[i] + s1[i] + s2[i] + s3[i];
  for (size_t j = 4 * q; j < n; ++j) a += p[j];
  return a + b + c + d;
}

}  // namespace

ReadBandwidth MeasureReadBandwidth(int threads, size_t buffer_bytes, int passes) {
  ReadBandwidth out;
  out.threads = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  const size_t words = std::max<size_t>(buffer_bytes / sizeof(uint64_t), 1024);
  out.buffer_bytes = words * sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[words]);
  // Each thread first touches its own slice, so the pages are resident (and local) before timing.
  const size_t per = (words + out.threads - 1) / out.threads;
  std::vector<uint64_t> sums(out.threads);
  auto run = [&](bool fill) {
    std::vector<std::thread> pool;
    for (int t = 0; t < out.threads; ++t) {
      pool.emplace_back([&, t] {
        const size_t b = std::min(words, t * per), e = std::min(words, b + per);
        if (fill) {
          for (size_t i = b; i < e; ++i) buf[i] = i;
        } else {
          sums[t] += SumWords(buf.get() + b, e - b);
        }
      });
    }
    for (auto& th : pool) th.join();
  };
  run(true);
  for (int p = 0; p < passes; ++p) {
    const auto t0 = std::chrono::steady_clock::now();
    run(false);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) out.gb_per_s = std::max(out.gb_per_s, out.buffer_bytes / s / 1e9);
  }
  // Keeps the sums observable: a volatile read the optimizer must perform.
  volatile uint64_t sink = 0;
  for (uint64_t s : sums) sink = sink + s;
  return out;
}

}  // namespace lfm::cli
