#include "base/thread_pool.h"

#include <algorithm>
#include <memory>

namespace lfm {

namespace {
void RunChunk(const std::function<void(size_t, size_t, int)>& fn, size_t n, size_t grain, int parts,
              int index) {
  size_t blocks = (n + grain - 1) / grain;
  size_t b0 = blocks * index / parts;
  size_t b1 = blocks * (index + 1) / parts;
  size_t begin = std::min(n, b0 * grain);
  size_t end = std::min(n, b1 * grain);
  if (begin < end) fn(begin, end, index);
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  int workers = std::max(0, num_threads - 1);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { WorkerLoop(i + 1); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin a little: the next region usually starts within microseconds during decode.
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < 20000; ++spin) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      gen = generation_.load();
    }
    seen = gen;
    const std::function<void(size_t, size_t, int)>* job;
    size_t n, grain;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      job = job_;
      n = job_n_;
      grain = job_grain_;
    }
    if (job != nullptr) RunChunk(*job, n, grain, num_threads(), index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t, int)>& fn, size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  if (workers_.empty() || n <= grain) {
    fn(0, n, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    job_n_ = n;
    job_grain_ = grain;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  cv_.notify_all();
  RunChunk(fn, n, grain, num_threads(), 0);
  while (pending_.load(std::memory_order_acquire) != 0) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  }
  std::lock_guard<std::mutex> lock(mu_);
  job_ = nullptr;
}

int HardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

namespace {
std::unique_ptr<ThreadPool>& PoolSlot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
}  // namespace

ThreadPool& DefaultThreadPool() {
  auto& slot = PoolSlot();
  if (!slot) slot = std::make_unique<ThreadPool>(HardwareThreads());
  return *slot;
}

void SetDefaultThreads(int num_threads) {
  auto& slot = PoolSlot();
  if (num_threads <= 0) num_threads = HardwareThreads();
  if (slot && slot->num_threads() == num_threads) return;
  slot.reset();
  slot = std::make_unique<ThreadPool>(num_threads);
}

}  // namespace lfm
