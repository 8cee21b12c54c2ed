#include "model/vision_weights.h"

#include "base/mapped_file.h"
#include "kernels/matmul.h"
#include "tensor/convert.h"

namespace lfm {

Result<TensorView> VisionWeights::Matrix(const std::string& name, int64_t rows, int64_t cols) {
  LFM_ASSIGN_OR_RETURN(TensorView v, store_->Get(name, {rows, cols}));
  const DType want = want_ == DType::kAuto ? v.dtype : want_;
  if (!MatMulSupports(want)) {
    return Unsupported(store_->SourceFile(name) + ": tensor '" + name + "': dtype " + DTypeName(want) +
                       " has no matmul kernel");
  }
  if (want == v.dtype) return v;
  if (!DTypeRowOk(want, cols) || !DTypeRowOk(v.dtype, cols)) {
    return InvalidArgument(store_->SourceFile(name) + ": tensor '" + name + "': " + std::to_string(cols) +
                           " columns is not a multiple of the " + DTypeName(want) + " block size");
  }
  PageBuffer buf(static_cast<size_t>(DTypeBytes(want, cols) * rows));
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(v.dtype, v.row(r), row.data(), cols);
    QuantizeRow(want, row.data(), buf.data() + r * DTypeBytes(want, cols), cols);
  }
  // Only the converted copy is used from now on: the source's pages (a mapped file's: clean,
  // re-readable) would otherwise stay resident next to it.
  ReleaseResidentPages(v.data, static_cast<size_t>(v.nbytes()));
  v.dtype = want;
  v.data = buf.data();
  owned_.push_back(std::move(buf));  // moving a PageBuffer keeps its pages, so v.data stays valid
  return v;
}

Result<PackedGemmMatrix> VisionWeights::Packed(const std::vector<std::string>& names,
                                               const std::vector<int64_t>& rows, int64_t cols) {
  std::vector<TensorView> views;
  const size_t owned_before = owned_.size();
  for (size_t i = 0; i < names.size(); ++i) {
    LFM_ASSIGN_OR_RETURN(TensorView v, Matrix(names[i], rows[i], cols));
    views.push_back(v);
  }
  Result<PackedGemmMatrix> packed = PackedGemmMatrix::PackStacked(views, VisionPackedMath());
  owned_.resize(owned_before);  // converted copies were only needed for packing
  // The packed panels are the only copy used from now on; the stored tensors' pages (clean file
  // pages where the store is mapped) are dropped rather than left resident beside them.
  if (packed.ok()) {
    for (const std::string& name : names) {
      Result<TensorView> src = store_->Get(name);
      if (src.ok()) ReleaseResidentPages(src->data, static_cast<size_t>(src->nbytes()));
    }
  }
  if (!packed.ok()) return packed.status().WithContext(store_->SourceFile(names[0]));
  return packed;
}

Result<std::vector<float>> VisionWeights::Vector(const std::string& name, const std::vector<int64_t>& shape) {
  LFM_ASSIGN_OR_RETURN(TensorView v, store_->Get(name, shape));
  if (!DTypeRowOk(v.dtype, v.numel())) {
    return InvalidArgument(store_->SourceFile(name) + ": tensor '" + name + "': dtype " + DTypeName(v.dtype) +
                           " cannot hold " + std::to_string(v.numel()) + " elements");
  }
  std::vector<float> out(v.numel());
  DequantizeRow(v.dtype, v.data, out.data(), v.numel());
  // Only the copy is used: reading these few bytes may have mapped a whole large folio of the file
  // around them (up to 2 MiB, including matrices already converted and dropped), so drop it again.
  ReleaseResidentPages(v.data, static_cast<size_t>(v.nbytes()));
  return out;
}

int64_t VisionWeights::owned_bytes() const {
  int64_t n = 0;
  for (const auto& b : owned_) n += static_cast<int64_t>(b.size());
  return n;
}

}  // namespace lfm
