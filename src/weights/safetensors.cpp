#include "weights/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "base/json_input.h"

namespace lfm {

namespace {
// A header larger than this is not a model we can load (HF caps it at 100 MB too).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::string Where(const std::string& path, const std::string& tensor) {
  return path + ": tensor '" + tensor + "'";
}
}  // namespace

Result<DType> SafetensorsDType(const std::string& name) {
  if (name == "F32") return DType::kF32;
  if (name == "BF16") return DType::kBF16;
  if (name == "F16") return DType::kF16;
  static const char* kKnown[] = {"F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32", "U64", "BOOL",
                                 "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"};
  for (const char* k : kKnown) {
    if (name == k) return Unsupported("dtype " + name + " is not supported (supported: F32, BF16, F16)");
  }
  return InvalidArgument("unknown dtype '" + name + "'");
}

Result<SafetensorsHeader> ParseSafetensors(const uint8_t* data, size_t size, const std::string& path) {
  if (size < 8) {
    return InvalidArgument(path + ": file is " + std::to_string(size) +
                           " bytes, too short for a safetensors header length");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
  if (header_len > kMaxHeaderBytes) {
    return InvalidArgument(path + ": header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  }
  if (header_len > size - 8) {
    return InvalidArgument(path + ": header length " + std::to_string(header_len) + " runs past the end of the " +
                           std::to_string(size) + "-byte file");
  }
  SafetensorsHeader h;
  h.data_offset = 8 + header_len;
  const uint64_t data_size = size - h.data_offset;

  const std::string_view text(reinterpret_cast<const char*>(data) + 8, header_len);
  LFM_RETURN_IF_ERROR(CheckJsonDepth(text, path + ": header"));
  // nlohmann keeps the last of two equal keys; a second entry for a tensor name would silently
  // replace the first, so duplicates are found while parsing (depth 1 = the header's own keys).
  std::string duplicate;
  std::set<std::string> names;
  auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && !names.insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end(), on_event);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(path + ": header is not valid JSON: " + e.what());
  }
  if (!j.is_object()) return InvalidArgument(path + ": header JSON is not an object");
  if (!duplicate.empty()) return InvalidArgument(Where(path, duplicate) + ": listed twice in the header");

  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return InvalidArgument(path + ": __metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) {
          return InvalidArgument(path + ": __metadata__ value for '" + m.key() + "' is not a string");
        }
        h.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) return InvalidArgument(Where(path, name) + ": entry is not an object");
    auto dt = v.find("dtype");
    auto sh = v.find("shape");
    auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) return InvalidArgument(Where(path, name) + ": missing string 'dtype'");
    if (sh == v.end() || !sh->is_array()) return InvalidArgument(Where(path, name) + ": missing array 'shape'");
    if (off == v.end() || !off->is_array() || off->size() != 2) {
      return InvalidArgument(Where(path, name) + ": 'data_offsets' must be an array of two integers");
    }
    SafetensorsEntry e;
    e.name = name;
    auto dtype = SafetensorsDType(dt->get<std::string>());
    if (!dtype.ok()) return dtype.status().WithContext(Where(path, name));
    e.dtype = *dtype;
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) {
        return InvalidArgument(Where(path, name) + ": shape entries must be non-negative integers");
      }
      uint64_t dim = d.get<uint64_t>();
      if (dim > (1ull << 40) || __builtin_mul_overflow(numel, dim, &numel) || numel > (1ull << 48)) {
        return InvalidArgument(Where(path, name) + ": shape is too large");
      }
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    for (const auto& o : *off) {
      if (!o.is_number_unsigned()) {
        return InvalidArgument(Where(path, name) + ": data_offsets must be non-negative integers");
      }
    }
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.begin > e.end) {
      return InvalidArgument(Where(path, name) + ": data_offsets [" + std::to_string(e.begin) + ", " +
                             std::to_string(e.end) + "] are reversed");
    }
    if (e.end > data_size) {
      return InvalidArgument(Where(path, name) + ": data_offsets end " + std::to_string(e.end) +
                             " is past the data area (" + std::to_string(data_size) + " bytes)");
    }
    const uint64_t want = numel * static_cast<uint64_t>(DTypeBlockBytes(e.dtype));
    if (want != e.end - e.begin) {
      return InvalidArgument(Where(path, name) + ": shape " + ShapeToString(e.shape) + " x " +
                             DTypeName(e.dtype) + " needs " + std::to_string(want) + " bytes but data_offsets span " +
                             std::to_string(e.end - e.begin));
    }
    h.tensors.push_back(std::move(e));
  }
  std::sort(h.tensors.begin(), h.tensors.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < h.tensors.size(); ++i) {
    const auto& a = h.tensors[i - 1];
    const auto& b = h.tensors[i];
    if (b.begin < a.end) {
      return InvalidArgument(path + ": tensors '" + a.name + "' [" + std::to_string(a.begin) + ", " +
                             std::to_string(a.end) + ") and '" + b.name + "' [" + std::to_string(b.begin) + ", " +
                             std::to_string(b.end) + ") overlap");
    }
  }
  return h;
}

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  auto f = std::make_unique<SafetensorsFile>();
  LFM_ASSIGN_OR_RETURN(f->file_, MappedFile::Open(path));
  LFM_ASSIGN_OR_RETURN(f->header_, ParseSafetensors(f->file_.data(), f->file_.size(), path));
  // The JSON header is parsed into copies; its mapped bytes need not stay resident.
  ReleaseResidentPages(f->file_.data(), static_cast<size_t>(f->header_.data_offset));
  return f;
}

TensorView SafetensorsFile::View(const SafetensorsEntry& e) const {
  TensorView v;
  v.dtype = e.dtype;
  v.shape = e.shape;
  v.name = e.name;
  v.data = file_.data() + header_.data_offset + e.begin;
  return v;
}

}  // namespace lfm
