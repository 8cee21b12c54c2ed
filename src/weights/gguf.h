// GGUF reader (llama.cpp's single-file format, version 2/3): metadata key/values, tensor infos,
// aligned data area, all validated before use (counts bounded, strings and arrays inside the file,
// tensor types known, spans inside the data area and not overlapping). Tensor shapes are reported
// in torch order (outermost first), i.e. GGUF's ne[] reversed.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "lfm/status.h"
#include "tensor/tensor_view.h"

namespace lfm {

struct GgufValue {
  enum Kind { kInt, kFloat, kBool, kString, kArray } kind = kInt;
  int64_t i = 0;  // all integer types (uint64 above INT64_MAX is rejected)
  double f = 0;
  bool b = false;
  std::string s;
  // Arrays: numbers in `ints` or `floats`, strings in `strings` (by element kind).
  Kind elem = kInt;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  size_t size() const { return elem == kString ? strings.size() : elem == kFloat ? floats.size() : ints.size(); }
};

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // torch order
  uint64_t offset = 0;         // relative to the data area
  uint64_t nbytes = 0;
};

struct GgufHeader {
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;
  std::map<std::string, GgufValue> metadata;
  std::vector<GgufTensorInfo> tensors;

  const GgufValue* Find(const std::string& key) const {
    auto it = metadata.find(key);
    return it == metadata.end() ? nullptr : &it->second;
  }
};

Result<GgufHeader> ParseGguf(const uint8_t* data, size_t size, const std::string& path);

class GgufFile {
 public:
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);
  const std::string& path() const { return file_.path(); }
  const GgufHeader& header() const { return header_; }
  TensorView View(const GgufTensorInfo& t) const;
  // Frees the parsed header (metadata and tensor list) and keeps only the mapping, for holders that
  // keep the file alive just for its tensors' bytes: the tokenizer arrays alone (65k token strings,
  // merges, types) hold about 9 MB on LFM2, for the model's whole life otherwise.
  // View() is not to be called afterwards.
  void ReleaseHeader() { header_ = GgufHeader{}; }

 private:
  MappedFile file_;
  GgufHeader header_;
};

}  // namespace lfm
