#include "base/thread_pool.h"

#include <algorithm>
#include <string>
#include <system_error>

namespace lfm {

namespace {

// The pool whose region the current thread is running a chunk of (workers: always their pool), so a
// nested ParallelFor runs inline instead of waiting for the region it is part of.
thread_local const ThreadPool* tl_inside = nullptr;
// ScopedThreadLimit's cap for regions this thread starts (0 = none).
thread_local int tl_limit = 0;

void RunChunk(const std::function<void(size_t, size_t, int)>& fn, size_t n, size_t grain, int parts,
              int index) {
  size_t blocks = (n + grain - 1) / grain;
  size_t b0 = blocks * index / parts;
  size_t b1 = blocks * (index + 1) / parts;
  size_t begin = std::min(n, b0 * grain);
  size_t end = std::min(n, b1 * grain);
  if (begin < end) fn(begin, end, index);
}

inline void CpuRelax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

Status CheckThreadCount(int num_threads) {
  if (num_threads < 1 || num_threads > ThreadPool::kMaxThreads)
    return InvalidArgument("thread count must be between 1 and " + std::to_string(ThreadPool::kMaxThreads) +
                           ", got " + std::to_string(num_threads));
  return Status::Ok();
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  std::lock_guard<std::mutex> run(run_mu_);
  // A refused thread leaves a smaller pool (num_threads() says how many), which still works.
  (void)StartWorkers(std::clamp(num_threads, 1, kMaxThreads) - 1);
}

ThreadPool::~ThreadPool() {
  std::lock_guard<std::mutex> run(run_mu_);
  StopWorkers();
}

Status ThreadPool::StartWorkers(int count) {
  uint64_t start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    start = generation_.load();
  }
  while (static_cast<int>(workers_.size()) < count) {
    const int index = static_cast<int>(workers_.size()) + 1;
    try {
      workers_.emplace_back([this, index, start] { WorkerLoop(index, start); });
    } catch (const std::system_error& e) {
      num_threads_.store(static_cast<int>(workers_.size()) + 1, std::memory_order_release);
      return ResourceExhausted("could not start thread " + std::to_string(index + 1) + " of " +
                               std::to_string(count + 1) + ": " + e.what());
    }
  }
  num_threads_.store(static_cast<int>(workers_.size()) + 1, std::memory_order_release);
  return Status::Ok();
}

void ThreadPool::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  num_threads_.store(1, std::memory_order_release);
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = false;
}

Status ThreadPool::Resize(int num_threads) {
  LFM_RETURN_IF_ERROR(CheckThreadCount(num_threads));
  std::lock_guard<std::mutex> run(run_mu_);
  if (num_threads == static_cast<int>(workers_.size()) + 1) return Status::Ok();
  if (num_threads < static_cast<int>(workers_.size()) + 1) StopWorkers();
  return StartWorkers(num_threads - 1);
}

Status ThreadPool::EnsureThreads(int num_threads) {
  LFM_RETURN_IF_ERROR(CheckThreadCount(num_threads));
  if (num_threads <= this->num_threads()) return Status::Ok();
  std::lock_guard<std::mutex> run(run_mu_);
  if (num_threads <= static_cast<int>(workers_.size()) + 1) return Status::Ok();
  return StartWorkers(num_threads - 1);
}

void ThreadPool::WorkerLoop(int index, uint64_t seen) {
  tl_inside = this;
  bool spin = true;  // only after taking part in a region: an idle worker sleeps at once
  for (;;) {
    // Spin a little: during decode the next region usually starts within microseconds.
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int i = 0; spin && gen == seen && i < 20000; ++i) {
      CpuRelax();
      gen = generation_.load(std::memory_order_acquire);
    }
    const std::function<void(size_t, size_t, int)>* job;
    size_t n, grain;
    int parts;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      if (stop_) return;
      // The generation is read with the job it belongs to: a worker that sat out a region may wake
      // after the next one was published, and must then run that one exactly once.
      seen = generation_.load();
      job = job_;
      n = job_n_;
      grain = job_grain_;
      parts = job_parts_;
    }
    spin = index < parts;
    if (!spin) continue;  // not taking part (the region's caller did not count on this worker)
    if (job != nullptr) RunClaimedChunks(seen, *job, n, grain, parts);
  }
}

void ThreadPool::RunClaimedChunks(uint64_t generation, const std::function<void(size_t, size_t, int)>& fn,
                                  size_t n, size_t grain, int parts) {
  const uint64_t tag = (generation & 0xffffffffu) << 32;
  uint64_t v = claim_.load(std::memory_order_acquire);
  for (;;) {
    if ((v & ~uint64_t{0xffffffffu}) != tag) return;  // that region is over
    const int chunk = static_cast<int>(v & 0xffffffffu);
    if (chunk >= parts) return;  // all claimed
    if (!claim_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    RunChunk(fn, n, grain, parts, chunk);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) done_.notify_one();
    v = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t, int)>& fn, size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  const size_t blocks = (n + grain - 1) / grain;
  auto parts_for = [&](int threads) {
    int parts = tl_limit > 0 ? std::min(threads, tl_limit) : threads;
    return static_cast<int>(std::min<size_t>(static_cast<size_t>(parts), blocks));
  };
  // Nested in a region of this pool, single-threaded by the cap, or too small to split: inline.
  if (tl_inside == this || parts_for(num_threads()) <= 1) {
    fn(0, n, 0);
    return;
  }
  std::lock_guard<std::mutex> run(run_mu_);  // concurrent callers take turns, region by region
  uint64_t region_generation = 0;
  const int parts = parts_for(static_cast<int>(workers_.size()) + 1);
  if (parts <= 1) {  // the pool shrank while this caller waited
    fn(0, n, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &fn;
    job_n_ = n;
    job_grain_ = grain;
    job_parts_ = parts;
    regions_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
    // Chunk 0 is the caller's (below), so kernels may count on index 0 running on the calling thread.
    done_.store(0, std::memory_order_relaxed);
    claim_.store(((gen & 0xffffffffu) << 32) | 1, std::memory_order_release);
    generation_.store(gen, std::memory_order_release);
    region_generation = gen;
  }
  cv_.notify_all();
  const ThreadPool* outer = tl_inside;
  tl_inside = this;
  RunChunk(fn, n, grain, parts, 0);
  if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 != parts) {
    // Then every chunk a worker has not started yet.
    RunClaimedChunks(region_generation, fn, n, grain, parts);
  }
  tl_inside = outer;
  // Wait for the chunks workers are running: spin briefly (they usually end within microseconds of
  // ours), then sleep until the last one ends -- a worker preempted mid-chunk (more threads than
  // cores, a busy machine) needs this core more than we need to watch it.
  for (int i = 0;; ++i) {
    const int d = done_.load(std::memory_order_acquire);
    if (d == parts) break;
    if (i < 2000) {
      CpuRelax();
    } else {
      done_.wait(d, std::memory_order_acquire);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  job_ = nullptr;
}

int HardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

ThreadPool& DefaultThreadPool() {
  // A function-local static: initialised once, thread-safely, on first use. Never replaced, so a
  // reference held by running work stays valid; only its workers change (ThreadPool::Resize).
  static ThreadPool pool(std::min(HardwareThreads(), ThreadPool::kMaxThreads));
  return pool;
}

void SetDefaultThreads(int num_threads) {
  if (num_threads <= 0) num_threads = HardwareThreads();
  (void)DefaultThreadPool().Resize(std::min(num_threads, ThreadPool::kMaxThreads));
}

ScopedThreadLimit::ScopedThreadLimit(int max_threads) : previous_(tl_limit) { tl_limit = std::max(0, max_threads); }
ScopedThreadLimit::~ScopedThreadLimit() { tl_limit = previous_; }
int ThreadLimit() { return tl_limit; }

}  // namespace lfm
