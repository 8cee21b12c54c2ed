// Iteration order of a CPython (3.8+, 64-bit) set of (int, int) tuples built by adding items in
// a given order. HF's LFM2-VL processor sorts `set(ratios)` stably by area, so the order among
// grids of equal area is CPython's set order, and it decides ties in the grid choice.
#pragma once

#include <utility>
#include <vector>

namespace lfm {

// Small non-negative ints only (hash(i) == i).
std::vector<std::pair<int, int>> CPythonSetOrder(const std::vector<std::pair<int, int>>& insertion_order);

}  // namespace lfm
