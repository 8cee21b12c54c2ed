// The bounded admission queue of the generating endpoints: at most `parallel` requests generate at
// once and at most `queue` more wait for a turn; a request past both is refused at once (503 with
// Retry-After) instead of piling up threads and memory.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

namespace lfm::server {

class RequestSlots {
 public:
  RequestSlots(int parallel, int queue) : parallel_(parallel), queue_(queue) {}

  // Holds one generating slot until destroyed.
  class Lease {
   public:
    explicit Lease(RequestSlots* owner) : owner_(owner) {}
    ~Lease() { owner_->Release(); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    RequestSlots* owner_;
  };

  // Waits for a slot (FIFO) and returns its lease, or returns null at once when `parallel` requests
  // are running and `queue` are already waiting.
  std::unique_ptr<Lease> Acquire();

  int active() const;
  int waiting() const;
  int parallel() const { return parallel_; }
  int queue() const { return queue_; }

 private:
  void Release();

  const int parallel_, queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0, waiting_ = 0;
  uint64_t next_ticket_ = 0, serving_ticket_ = 0;  // FIFO order among waiters
};

}  // namespace lfm::server
