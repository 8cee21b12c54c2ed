// Writes a .safetensors file (8-byte little-endian header length, JSON header, raw data), one tensor at
// a time so that multi-GB random models never sit in memory whole. Used by `lfm make-test-model`
// and by tests that build corrupt files on purpose.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lfm/status.h"

namespace lfm {

class SafetensorsWriter {
 public:
  // Fills exactly `bytes` bytes at dst.
  using Fill = std::function<void(uint8_t* dst, size_t bytes)>;

  // dtype is the safetensors name ("F32", "BF16", "F16"). Tensors are written in insertion order.
  Status Add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape, Fill fill);
  // string->string metadata goes under "__metadata__" (e.g. {"format": "pt"}).
  // progress, if set, is called after each tensor with (bytes written, total bytes).
  Status Write(const std::string& path, const nlohmann::json& metadata = nlohmann::json::object(),
               const std::function<void(size_t, size_t)>& progress = nullptr) const;

  static size_t DTypeSize(const std::string& dtype);  // 0 if unknown

 private:
  struct Entry {
    std::string name, dtype;
    std::vector<int64_t> shape;
    size_t bytes;
    Fill fill;
  };
  std::vector<Entry> entries_;
};

}  // namespace lfm
