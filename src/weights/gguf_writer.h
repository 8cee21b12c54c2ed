// Writes a GGUF file (version 3, llama.cpp's single-file format): metadata key/values in insertion
// order, tensor infos, then the 32-byte aligned data area, one tensor at a time so that a model never
// sits in memory whole (the counterpart of safetensors_writer.h; read back with weights/gguf.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lfm/status.h"
#include "tensor/dtype.h"

namespace lfm {

class GgufWriter {
 public:
  // Fills exactly `bytes` bytes at dst (the tensor's data in its dtype's layout).
  using Fill = std::function<Status(uint8_t* dst, size_t bytes)>;

  void SetString(const std::string& key, const std::string& v);
  void SetU32(const std::string& key, uint32_t v);
  void SetF32(const std::string& key, float v);
  void SetBool(const std::string& key, bool v);
  void SetI32Array(const std::string& key, const std::vector<int32_t>& v);
  void SetStringArray(const std::string& key, const std::vector<std::string>& v);

  // shape in torch order (outermost first), as weights/gguf.h reports it. Types: f32, f16, bf16,
  // q8_0, q4_0 (the innermost dimension a multiple of 32 for the block types).
  Status AddTensor(const std::string& name, DType dtype, std::vector<int64_t> shape, Fill fill);
  // progress, if set, is called after each tensor with (bytes written, total bytes).
  Status Write(const std::string& path, const std::function<void(size_t, size_t)>& progress = nullptr) const;

 private:
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    size_t bytes;
    Fill fill;
  };
  std::vector<uint8_t> kv_;  // serialized key/values
  uint64_t kv_count_ = 0;
  std::vector<Tensor> tensors_;
};

}  // namespace lfm
