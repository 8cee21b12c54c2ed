// Inputs shared by the attention tests: normal random rows, and bf16 copies of them as a bf16 KV
// cache stores them (F32ToBf16Rows) and back.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/ops.h"

namespace lfm::testing {

inline std::vector<float> Rand(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

inline std::vector<uint16_t> ToBf16(const std::vector<float>& x) {
  std::vector<uint16_t> b(x.size());
  F32ToBf16Rows(x.data(), static_cast<int64_t>(x.size()), b.data());
  return b;
}

inline std::vector<float> Widen(const std::vector<uint16_t>& b) {
  std::vector<float> f(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    const uint32_t u = static_cast<uint32_t>(b[i]) << 16;
    std::memcpy(&f[i], &u, 4);
  }
  return f;
}

}  // namespace lfm::testing
