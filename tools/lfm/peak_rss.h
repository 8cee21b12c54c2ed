// The process's resident set, for peak-memory figures: the current and peak RSS from
// /proc/self/status (VmRSS, VmHWM), and a reset of the peak (/proc/self/clear_refs "5") so that
// one process can measure several loads one after another.
#pragma once

#include <cstdint>

namespace lfm::cli {

// Peak resident bytes since the process started or since the last successful ResetPeakRss();
// getrusage's ru_maxrss (never reset) where /proc is not readable.
int64_t PeakRssBytes();
// Resident bytes now (0 if /proc is not readable).
int64_t CurrentRssBytes();
// Sets the peak to the current RSS; false if the kernel does not allow it (then PeakRssBytes()
// keeps counting from the process start).
bool ResetPeakRss();

// Whether a measured peak is within `ratio` x the accounted bytes.
inline bool RssWithinBound(int64_t peak_bytes, int64_t accounted_bytes, double ratio) {
  return static_cast<double>(peak_bytes) <= ratio * static_cast<double>(accounted_bytes);
}

}  // namespace lfm::cli
