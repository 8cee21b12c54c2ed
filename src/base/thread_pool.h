// A small fork-join pool: ParallelFor splits [0, n) into contiguous chunks, one per thread, and
// blocks until all are done. Decode runs ~100 parallel regions per token, so workers spin briefly
// before sleeping to keep the hand-off cheap.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lfm {

class ThreadPool {
 public:
  // num_threads counts the calling thread: 1 means no worker threads.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n). Chunk boundaries are
  // multiples of `grain` (except the last), so callers can keep SIMD blocks whole.
  void ParallelFor(size_t n, const std::function<void(size_t, size_t, int)>& fn, size_t grain = 1);

 private:
  void WorkerLoop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void(size_t, size_t, int)>* job_ = nullptr;
  size_t job_n_ = 0;
  size_t job_grain_ = 1;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
};

// Process-wide pool used by kernels. Defaults to the number of hardware threads;
// SetDefaultThreads() replaces it (call before heavy work, not concurrently with it).
ThreadPool& DefaultThreadPool();
void SetDefaultThreads(int num_threads);
int HardwareThreads();

}  // namespace lfm
