#include "progress_line.h"

#include <unistd.h>

#include <cstdio>

namespace lfm::cli {

namespace {

bool g_forced = false;
// Below this a step is not worth a line on a terminal.
constexpr double kQuietMs = 2000;

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

// On a terminal one line is rewritten in place; otherwise (--progress into a pipe) each report is a line.
void PrintLine(const std::string& text, bool final_line) {
  if (StderrIsTerminal()) {
    std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

}  // namespace

void ForceProgressLines() { g_forced = true; }
bool ProgressLinesForced() { return g_forced; }

ProgressCallback TerminalProgress() {
  if (!g_forced && !StderrIsTerminal()) return nullptr;
  return [](const Progress& p) {
    if (!g_forced && p.elapsed_ms < kQuietMs) return true;
    if (p.done == 0 && !g_forced) return true;  // nothing to say yet
    const bool final_line = p.done == p.total;
    const double per_s = p.elapsed_ms > 0 ? p.done * 1e3 / p.elapsed_ms : 0;
    char buf[160];
    if (p.stage == "vision") {
      std::snprintf(buf, sizeof buf, "vision %lld/%lld crops, %.1f s", static_cast<long long>(p.done),
                    static_cast<long long>(p.total), p.elapsed_ms / 1e3);
    } else {
      std::snprintf(buf, sizeof buf, "%.*s %lld/%lld tokens, %.0f tok/s", static_cast<int>(p.stage.size()),
                    p.stage.data(), static_cast<long long>(p.done), static_cast<long long>(p.total), per_s);
    }
    PrintLine(buf, final_line);
    return true;
  };
}

SlowStepNotice::SlowStepNotice(std::string what)
    : what_(std::move(what)), start_(std::chrono::steady_clock::now()) {
  if (!g_forced && !StderrIsTerminal()) return;
  if (g_forced) {  // asked for: said at once, however short the step turns out
    PrintLine(what_ + "...", false);
    printed_ = true;
  }
  watcher_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    auto wait = std::chrono::milliseconds(static_cast<int>(kQuietMs));
    while (!cv_.wait_for(lock, wait, [this] { return done_; })) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      char buf[64];
      std::snprintf(buf, sizeof buf, "... %.1f s", s);
      PrintLine(what_ + buf, false);
      printed_ = true;
      wait = std::chrono::milliseconds(500);
    }
  });
}

SlowStepNotice::~SlowStepNotice() {
  if (!watcher_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
  watcher_.join();
  if (printed_) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, ": done in %.1f s", s);
    PrintLine(what_ + buf, true);
  }
}

}  // namespace lfm::cli
