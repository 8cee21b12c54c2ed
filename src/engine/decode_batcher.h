// Continuous batching for one Engine: every thread that wants the decoder to run (a decode step of
// its sequence, or one prefill chunk) queues a request and waits; whichever waiting thread finds the
// model idle becomes the leader, takes what is queued, runs it and wakes the others (group commit).
//
// Policy of one pass:
// - every queued decode step runs together as one Lfm2Model::ForwardBatch (the weights are read once
//   for all of them: decode is memory bound, so B sequences cost little more than one);
// - then at most one prefill chunk (LoadOptions::ubatch positions of one prompt, oldest first), so a
//   long prompt delays the decoders by one chunk per step, never by the whole prompt;
// - before starting, the leader waits for the sequences that are decoding but have not queued their
//   next step yet (they are sampling, or in their token callback): without that, the first to come
//   back would run alone and the batch would split in two. The wait is capped at a quarter of the
//   last pass, so a slow callback or grammar mask delays the others by at most that. A sequence
//   running alone never waits: it pays one mutex per step.
// Sampling, grammar masks and callbacks stay on each request's own thread; outputs are exactly what
// each request gets alone (ForwardBatch is bit-exact against single-token passes, and prefill chunks
// are the same chunks as alone). A request that is cancelled queues nothing more, and one whose
// cancellation check fires while it waits in the queue leaves it at once (Decode/Prefill below).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "lfm/status.h"
#include "model/hybrid_cache.h"
#include "model/lfm2_model.h"

namespace lfm {

class DecodeBatcher {
 public:
  explicit DecodeBatcher(Lfm2Model& model) : model_(model) {}

  // Cancellation while queued: with `cancelled` given, the waiting caller polls it every kPollMs;
  // once it returns true and the request has not been taken into a pass yet, the request leaves the
  // queue at once (nothing ran: the cache is as before) and *dropped is set; the Status is Ok.
  using CancelCheck = std::function<bool()>;
  static constexpr int kPollMs = 20;

  // One new token for `cache`'s sequence; logits receives [vocab]. Runs in the next pass together
  // with the other sequences' steps.
  Status Decode(int32_t id, HybridCache& cache, std::vector<float>* logits, const CancelCheck* cancelled = nullptr,
                bool* dropped = nullptr);
  // Runs `chunk` (one prefill chunk of one sequence, which calls the model itself) as part of a pass.
  Status Prefill(const std::function<Status()>& chunk, const CancelCheck* cancelled = nullptr,
                 bool* dropped = nullptr);

  // Marks a sequence as decoding for its lifetime (between the end of its prefill and its last step),
  // so leaders wait for its next step instead of running without it.
  class ActiveDecoder {
   public:
    explicit ActiveDecoder(DecodeBatcher& b);
    ~ActiveDecoder();
    ActiveDecoder(const ActiveDecoder&) = delete;
    ActiveDecoder& operator=(const ActiveDecoder&) = delete;

   private:
    DecodeBatcher& b_;
  };

  struct Stats {
    int64_t passes = 0;          // model passes run by the batcher
    int64_t decode_rows = 0;     // decode steps run (sum of the batch sizes)
    int64_t prefill_chunks = 0;
    int max_batch = 0;           // the largest decode batch so far
  };
  Stats stats() const;

  // Bytes the batched passes' scratch and logits hold (0 until two sequences decoded together).
  size_t scratch_bytes() const { return scratch_bytes_.load(std::memory_order_relaxed); }

  // The most decode steps one pass takes (bounds the scratch memory: [kMaxBatch, vocab] logits).
  static constexpr int kMaxBatch = 64;

 private:
  struct Request {
    // decode step
    int32_t id = 0;
    HybridCache* cache = nullptr;
    std::vector<float>* logits = nullptr;
    // or a prefill chunk
    const std::function<Status()>* prefill = nullptr;
    Status status;
    bool done = false;
  };
  Status Submit(Request& r, const CancelCheck* cancelled, bool* dropped);
  // Called with the lock held and busy_ just set; returns with the lock held and busy_ cleared.
  void Lead(std::unique_lock<std::mutex>& lock);
  void RunDecodes(const std::vector<Request*>& batch);

  Lfm2Model& model_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request*> queue_;
  bool busy_ = false;       // a leader is gathering or running a pass
  int active_ = 0;          // ActiveDecoder count
  int queued_decodes_ = 0;  // decode requests in queue_
  double last_pass_ms_ = 0;
  Stats stats_;
  // Used by the leader only (one pass at a time).
  BatchScratch scratch_;
  std::atomic<size_t> scratch_bytes_{0};  // written by the leader, read by anyone
  std::vector<float> batch_logits_;
  std::vector<int32_t> batch_ids_;
  std::vector<HybridCache*> batch_caches_;
};

}  // namespace lfm
