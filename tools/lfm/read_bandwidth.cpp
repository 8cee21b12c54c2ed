#include "read_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace lfm::cli {

namespace {

// Sums 64-bit words with four independent accumulators, so the loop is bound by loads, not by one
// addition chain; the sum is returned so the compiler cannot drop the reads.
uint64_t SumWords(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
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
