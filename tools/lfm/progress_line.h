// Progress lines on stderr for long steps (prefill, image encoding, grammar compilation), so a user
// at a terminal sees what a slow run is doing. Shown when stderr is a terminal and the step takes
// over ~2 s, or always with --progress (one line per report then, for logs and tests).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "lfm/engine.h"

namespace lfm::cli {

// --progress: print progress lines whatever stderr is and however short the step.
void ForceProgressLines();
bool ProgressLinesForced();

// A GenerateOptions::on_progress that prints "prefill 1536/4096 tokens, 312 tok/s" (and
// "vision 2/5 crops"); empty when progress lines are off (stderr not a terminal, no --progress).
ProgressCallback TerminalProgress();

// While alive, prints "<what>... N.N s" once the step has run for ~2 s (at once with --progress),
// and on destruction a closing line with the total time if anything was printed.
class SlowStepNotice {
 public:
  explicit SlowStepNotice(std::string what);
  ~SlowStepNotice();
  SlowStepNotice(const SlowStepNotice&) = delete;
  SlowStepNotice& operator=(const SlowStepNotice&) = delete;

 private:
  std::string what_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool printed_ = false;
  std::thread watcher_;
};

}  // namespace lfm::cli
