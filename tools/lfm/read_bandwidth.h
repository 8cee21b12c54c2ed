// The machine's memory read bandwidth, measured by streaming through a buffer much larger than the
// caches with several threads (what a decode step does with the weights). lfm bench prints it next
// to the bandwidth a decode achieves, both measured in the same run, so the two are comparable.
#pragma once

#include <cstddef>

namespace lfm::cli {

struct ReadBandwidth {
  double gb_per_s = 0;  // best of the passes (1 GB = 1e9 bytes)
  size_t buffer_bytes = 0;
  int threads = 0;
};

// Reads a buffer_bytes buffer `passes` times with `threads` threads (0 = all hardware threads).
ReadBandwidth MeasureReadBandwidth(int threads, size_t buffer_bytes = size_t{512} << 20, int passes = 5);

}  // namespace lfm::cli
