// A non-owning view of one weight tensor: type, shape (outermost first, as in safetensors / torch)
// and a pointer into mapped or owned memory. Matrices are row-major [rows, cols].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/dtype.h"

namespace lfm {

struct TensorView {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::string name;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t nbytes() const { return DTypeBytes(dtype, numel()); }
  int rank() const { return static_cast<int>(shape.size()); }
  // For a matrix: rows = shape[0], cols = product of the rest.
  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t cols() const { return shape.empty() ? 1 : numel() / shape[0]; }
  int64_t row_bytes() const { return DTypeBytes(dtype, cols()); }
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + r * row_bytes(); }
};

std::string ShapeToString(const std::vector<int64_t>& shape);

}  // namespace lfm
