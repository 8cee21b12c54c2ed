// The bounded admission queue of the generating endpoints: at most `parallel` requests generate at
// once and at most `queue` more wait for a turn; a request past both is refused at once (503 with
// Retry-After) instead of piling up threads and memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

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
  // are running and `queue` are already waiting. While waiting, `cancelled` (if given) is polled
  // every kPollMs: once it says true (the client went away) the request leaves the queue at once,
  // null is returned and *was_cancelled set, and its turn passes to the next in line.
  std::unique_ptr<Lease> Acquire(const std::function<bool()>& cancelled = nullptr, bool* was_cancelled = nullptr);
  static constexpr int kPollMs = 20;

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
  void AdvanceTicket();  // with mu_ held: the next ticket in line, skipping abandoned ones
  uint64_t next_ticket_ = 0, serving_ticket_ = 0;  // FIFO order among waiters
  std::set<uint64_t> abandoned_;  // tickets of waiters that left before their turn
};

}  // namespace lfm::server
