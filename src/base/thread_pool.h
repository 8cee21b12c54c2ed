// A small fork-join pool: ParallelFor splits [0, n) into contiguous chunks, one per thread, and
// blocks until all are done. Decode runs ~100 parallel regions per token, so workers spin briefly
// before sleeping to keep the hand-off cheap. Chunks are claimed, not assigned: the caller runs chunk
// 0 and then any chunk no worker has started, so a worker the OS has not scheduled (a busy machine,
// more threads than cores) delays nothing -- with fixed assignment every region would wait for it.
//
// Thread safety: every method may be called from any thread at any time. Parallel regions run one
// at a time: a second thread calling ParallelFor waits until the running region ends (regions last
// microseconds to milliseconds), and a ParallelFor called from inside a region (a nested call) runs
// inline on the calling thread. Resize waits for the running region, so the workers never change
// under running work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "lfm/status.h"

namespace lfm {

class ThreadPool {
 public:
  // More threads than this is a mistake, not a configuration (each costs a stack and a kernel thread).
  static constexpr int kMaxThreads = 1024;

  // num_threads counts the calling thread: 1 means no worker threads. Clamped to [1, kMaxThreads];
  // fewer workers if the system refuses to start more (num_threads() tells).
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_.load(std::memory_order_acquire); }

  // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n). Chunk boundaries are
  // multiples of `grain` (except the last), so callers can keep SIMD blocks whole. Uses at most
  // ThreadLimit() threads of this pool (see ScopedThreadLimit).
  void ParallelFor(size_t n, const std::function<void(size_t, size_t, int)>& fn, size_t grain = 1);

  // Parallel regions handed to the workers so far (inline runs not counted): decode's per-token
  // hand-off count is a speed budget (each costs ~0.3-1 us on 2 cores), tests and benches read it.
  uint64_t regions_started() const { return regions_.load(std::memory_order_relaxed); }

  // Sets the number of threads (counting the caller), once no region runs. Error if num_threads is
  // outside [1, kMaxThreads] or the system cannot start the threads (the pool then keeps those it has).
  Status Resize(int num_threads);
  // Grows the pool to at least num_threads; never shrinks it (other users may rely on its size).
  Status EnsureThreads(int num_threads);

 private:
  void WorkerLoop(int index, uint64_t start_generation);
  // Runs chunks of the region `generation` (of `parts` chunks) until none is left unclaimed.
  void RunClaimedChunks(uint64_t generation, const std::function<void(size_t, size_t, int)>& fn, size_t n,
                        size_t grain, int parts);
  Status StartWorkers(int count);  // run_mu_ held
  void StopWorkers();              // run_mu_ held

  // Serialises parallel regions and resizes: held for the whole of a region.
  std::mutex run_mu_;
  std::vector<std::thread> workers_;  // guarded by run_mu_
  std::atomic<int> num_threads_{1};

  // One region's job, published under mu_ with a generation bump.
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void(size_t, size_t, int)>* job_ = nullptr;
  size_t job_n_ = 0;
  size_t job_grain_ = 1;
  int job_parts_ = 1;  // threads taking part: workers with index < job_parts_ run a chunk
  bool stop_ = false;
  std::atomic<uint64_t> generation_{0};
  // The running region's chunks: (generation & 0xffffffff) << 32 | next unclaimed chunk. Claiming
  // with compare-and-swap on the pair means a worker that wakes after its region ended (or after the
  // next one began) claims nothing, so it never runs a chunk of a job that is gone.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};  // chunks of the running region finished
  std::atomic<uint64_t> regions_{0};
};

// The pool every kernel uses, shared by the whole process (created on first use, thread-safe, with
// HardwareThreads() threads). Engines grow it to their thread count and cap their own regions with
// ScopedThreadLimit, so engines with different thread counts share it safely.
ThreadPool& DefaultThreadPool();
// Resizes the default pool (benchmarks, tools); waits for a running region. num_threads <= 0 means
// HardwareThreads(); values above ThreadPool::kMaxThreads are clamped.
void SetDefaultThreads(int num_threads);
int HardwareThreads();

// Caps the threads that parallel regions started by the current thread may use, for its lifetime
// (0 = no cap: the whole pool). An Engine sets its LoadOptions::threads around its work this way.
class ScopedThreadLimit {
 public:
  explicit ScopedThreadLimit(int max_threads);
  ~ScopedThreadLimit();
  ScopedThreadLimit(const ScopedThreadLimit&) = delete;
  ScopedThreadLimit& operator=(const ScopedThreadLimit&) = delete;

 private:
  int previous_;
};
// The current thread's cap (0 = none).
int ThreadLimit();

}  // namespace lfm
