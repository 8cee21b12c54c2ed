#include "engine/decode_batcher.h"

#include <algorithm>
#include <chrono>

#include "base/timer.h"

namespace lfm {

DecodeBatcher::ActiveDecoder::ActiveDecoder(DecodeBatcher& b) : b_(b) {
  std::lock_guard<std::mutex> lock(b_.mu_);
  ++b_.active_;
}

DecodeBatcher::ActiveDecoder::~ActiveDecoder() {
  std::lock_guard<std::mutex> lock(b_.mu_);
  --b_.active_;
  b_.cv_.notify_all();  // a gathering leader no longer waits for this sequence
}

DecodeBatcher::Stats DecodeBatcher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status DecodeBatcher::Decode(int32_t id, HybridCache& cache, std::vector<float>* logits, const CancelCheck* cancelled,
                             bool* dropped) {
  Request r;
  r.id = id;
  r.cache = &cache;
  r.logits = logits;
  return Submit(r, cancelled, dropped);
}

Status DecodeBatcher::Prefill(const std::function<Status()>& chunk, const CancelCheck* cancelled, bool* dropped) {
  Request r;
  r.prefill = &chunk;
  return Submit(r, cancelled, dropped);
}

Status DecodeBatcher::Submit(Request& r, const CancelCheck* cancelled, bool* dropped) {
  if (dropped != nullptr) *dropped = false;
  const bool can_cancel = cancelled != nullptr && *cancelled;
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&r);
  if (r.prefill == nullptr) ++queued_decodes_;
  cv_.notify_all();  // a gathering leader may be waiting for this step
  while (!r.done) {
    if (!busy_) {
      busy_ = true;
      Lead(lock);
      continue;
    }
    if (!can_cancel) {
      cv_.wait(lock);
      continue;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(kPollMs));
    if (r.done) break;
    lock.unlock();  // the check may be a system call (the server polls the client's socket)
    const bool gone = (*cancelled)();
    lock.lock();
    if (!gone) continue;
    // Still queued (no leader took it meanwhile): leave now. Taken: it is running; wait for it.
    auto it = std::find(queue_.begin(), queue_.end(), &r);
    if (it == queue_.end()) continue;
    queue_.erase(it);
    if (r.prefill == nullptr) --queued_decodes_;
    cv_.notify_all();  // a gathering leader may have been waiting for this step
    if (dropped != nullptr) *dropped = true;
    return Status::Ok();
  }
  return r.status;
}

void DecodeBatcher::Lead(std::unique_lock<std::mutex>& lock) {
  // Gather the decoders that are between two steps (see the header for why, and the cap).
  if (queued_decodes_ < active_) {
    const auto cap = std::chrono::duration<double, std::milli>(std::max(0.05, 0.25 * last_pass_ms_));
    cv_.wait_for(lock, cap, [&] { return queued_decodes_ >= active_; });
  }
  std::vector<Request*> decodes;
  Request* prefill = nullptr;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Request* q = *it;
    if (q->prefill == nullptr && static_cast<int>(decodes.size()) < kMaxBatch) {
      decodes.push_back(q);
    } else if (q->prefill != nullptr && prefill == nullptr) {
      prefill = q;
    } else {
      ++it;
      continue;
    }
    it = queue_.erase(it);
  }
  queued_decodes_ -= static_cast<int>(decodes.size());
  lock.unlock();

  Timer timer;
  if (!decodes.empty()) RunDecodes(decodes);
  if (prefill != nullptr) prefill->status = (*prefill->prefill)();
  const double ms = timer.Millis();

  lock.lock();
  // The gathering cap follows the decode passes (a prefill chunk's time says nothing about them).
  if (!decodes.empty() && prefill == nullptr) last_pass_ms_ = ms;
  ++stats_.passes;
  stats_.decode_rows += static_cast<int64_t>(decodes.size());
  stats_.prefill_chunks += prefill != nullptr ? 1 : 0;
  stats_.max_batch = std::max(stats_.max_batch, static_cast<int>(decodes.size()));
  for (Request* q : decodes) q->done = true;
  if (prefill != nullptr) prefill->done = true;
  busy_ = false;
  cv_.notify_all();
}

void DecodeBatcher::RunDecodes(const std::vector<Request*>& batch) {
  const int count = static_cast<int>(batch.size());
  const size_t vocab = static_cast<size_t>(model_.config().vocab_size);
  if (count == 1) {
    // Alone: the single-token pass writes straight into the request's logits.
    Request& r = *batch[0];
    r.status = model_.Forward(&r.id, 1, *r.cache, r.logits);
    return;
  }
  batch_ids_.clear();
  batch_caches_.clear();
  for (Request* q : batch) {
    batch_ids_.push_back(q->id);
    batch_caches_.push_back(q->cache);
  }
  batch_logits_.resize(static_cast<size_t>(count) * vocab);
  Status st = model_.ForwardBatch(batch_ids_.data(), batch_caches_.data(), count, scratch_, batch_logits_.data());
  size_t held = batch_logits_.capacity() * sizeof(float);
  for (const auto& b : scratch_.buf) held += b.capacity() * sizeof(float);
  scratch_bytes_.store(held, std::memory_order_relaxed);  // only grows: the buffers are reused, not shrunk
  if (!st.ok()) {
    // ForwardBatch checks everything before it runs: one bad sequence (e.g. a full context) must not
    // fail the others, so each runs alone and gets its own status.
    for (Request* q : batch) q->status = model_.Forward(&q->id, 1, *q->cache, q->logits);
    return;
  }
  for (int b = 0; b < count; ++b) {
    Request& r = *batch[b];
    r.logits->assign(batch_logits_.begin() + static_cast<std::ptrdiff_t>(b * vocab),
                     batch_logits_.begin() + static_cast<std::ptrdiff_t>((b + 1) * vocab));
    r.status = Status::Ok();
  }
}

}  // namespace lfm
