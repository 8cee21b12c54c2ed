// Safetensors reader: an 8-byte little-endian header length, a JSON header mapping tensor names to
// {dtype, shape, data_offsets}, then the data area. Everything is validated before any tensor is
// used: header inside the file, JSON well formed, dtype known, shape x dtype size == byte span,
// spans inside the data area and not overlapping. "__metadata__" (string -> string) is allowed.
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

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data area
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t data_offset = 0;  // absolute offset of the data area (8 + header length)
  std::vector<SafetensorsEntry> tensors;  // in file order of data offsets
  std::map<std::string, std::string> metadata;
};

// Parses and validates a whole safetensors file image held in [data, data + size).
// `path` only names the file in error messages.
Result<SafetensorsHeader> ParseSafetensors(const uint8_t* data, size_t size, const std::string& path);

// Maps a safetensors dtype string ("F32", "BF16", "F16") to DType; other names -> Unsupported
// (known safetensors dtypes) or InvalidArgument (unknown strings), naming the dtype.
Result<DType> SafetensorsDType(const std::string& name);

// A mapped, validated safetensors file.
class SafetensorsFile {
 public:
  static Result<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  const std::string& path() const { return file_.path(); }
  const SafetensorsHeader& header() const { return header_; }
  TensorView View(const SafetensorsEntry& e) const;

 private:
  MappedFile file_;
  SafetensorsHeader header_;
};

}  // namespace lfm
