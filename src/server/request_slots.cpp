#include "server/request_slots.h"

#include <chrono>

namespace lfm::server {

std::unique_ptr<RequestSlots::Lease> RequestSlots::Acquire(const std::function<bool()>& cancelled,
                                                           bool* was_cancelled) {
  if (was_cancelled != nullptr) *was_cancelled = false;
  std::unique_lock<std::mutex> lock(mu_);
  if (active_ >= parallel_ && waiting_ >= queue_) return nullptr;
  const uint64_t ticket = next_ticket_++;
  ++waiting_;
  auto my_turn = [&] { return active_ < parallel_ && ticket == serving_ticket_; };
  while (!my_turn()) {
    if (!cancelled) {
      cv_.wait(lock);
      continue;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(kPollMs));
    if (my_turn()) break;
    lock.unlock();  // the check may do a system call; nobody waits on it
    const bool gone = cancelled();
    lock.lock();
    if (gone && !my_turn()) {
      --waiting_;
      if (ticket == serving_ticket_) {
        AdvanceTicket();
      } else {
        abandoned_.insert(ticket);
      }
      cv_.notify_all();
      if (was_cancelled != nullptr) *was_cancelled = true;
      return nullptr;
    }
  }
  --waiting_;
  ++active_;
  AdvanceTicket();
  cv_.notify_all();  // the next ticket may also fit when several slots are free
  return std::make_unique<Lease>(this);
}

void RequestSlots::AdvanceTicket() {
  ++serving_ticket_;
  for (auto it = abandoned_.find(serving_ticket_); it != abandoned_.end(); it = abandoned_.find(serving_ticket_)) {
    abandoned_.erase(it);
    ++serving_ticket_;
  }
}

void RequestSlots::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  --active_;
  cv_.notify_all();
}

int RequestSlots::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

int RequestSlots::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace lfm::server
