// Weight access for the vision tower and projector: matrices are converted to the requested dtype
// if the options ask for one (the rounding is what matters: q8_0 weights compute as their
// dequantized values), then either used in place from the (shared, mapped) store or packed for the
// batched GEMM; vectors (biases, norms, the position table) always become f32.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/page_buffer.h"
#include "kernels/vision_gemm.h"
#include "lfm/status.h"
#include "tensor/dtype.h"
#include "tensor/tensor_view.h"
#include "weights/weight_store.h"

namespace lfm {

struct VisionLoadOptions {
  // kAuto: matrices as stored; otherwise converted at load (f32, bf16, f16, q8_0, q4_0).
  DType weight_dtype = DType::kAuto;
  // Attention with q, k, v and the softmax weights rounded to bf16 (about twice as fast) when the
  // tower's matrices are bf16 and the CPU has AVX512_BF16 (kernels/vision_ops.h); f32 otherwise.
  bool bf16_attention = true;
};

class VisionWeights {
 public:
  VisionWeights(std::shared_ptr<const WeightStore> store, DType want) : store_(std::move(store)), want_(want) {}

  const WeightStore& store() const { return *store_; }
  bool Has(const std::string& name) const { return store_->Has(name); }
  // A [rows, cols] matrix for MatMul, in the requested dtype.
  Result<TensorView> Matrix(const std::string& name, int64_t rows, int64_t cols);
  // One or more [rows_i, cols] matrices (rows stacked in order) packed for GemmPacked, after the
  // optional dtype conversion; nothing stays owned here.
  Result<PackedGemmMatrix> Packed(const std::vector<std::string>& names, const std::vector<int64_t>& rows,
                                  int64_t cols);
  // Any tensor of the given shape, as f32.
  Result<std::vector<float>> Vector(const std::string& name, const std::vector<int64_t>& shape);
  int64_t owned_bytes() const;

 private:
  std::shared_ptr<const WeightStore> store_;
  DType want_;
  std::vector<PageBuffer> owned_;
};

}  // namespace lfm
