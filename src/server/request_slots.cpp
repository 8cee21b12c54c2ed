#include "server/request_slots.h"

namespace lfm::server {

std::unique_ptr<RequestSlots::Lease> RequestSlots::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  if (active_ >= parallel_ && waiting_ >= queue_) return nullptr;
  const uint64_t ticket = next_ticket_++;
  ++waiting_;
  cv_.wait(lock, [&] { return active_ < parallel_ && ticket == serving_ticket_; });
  --waiting_;
  ++active_;
  ++serving_ticket_;
  cv_.notify_all();  // the next ticket may also fit when several slots are free
  return std::make_unique<Lease>(this);
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
