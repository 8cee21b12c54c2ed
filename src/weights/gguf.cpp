#include "weights/gguf.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace lfm {

namespace {

constexpr uint64_t kMaxCount = 1ull << 24;       // tensors, keys, array elements
constexpr uint64_t kMaxString = 1ull << 26;      // one string (chat templates are KBs)
constexpr int kMaxDepth = 2;                     // arrays of arrays are not used by LFM2 files

class Cursor {
 public:
  Cursor(const uint8_t* d, size_t n, const std::string& path) : d_(d), n_(n), path_(path) {}
  size_t pos() const { return p_; }
  Status Error(const std::string& what) const {
    return InvalidArgument(path_ + ": byte offset " + std::to_string(p_) + ": " + what);
  }
  template <typename T>
  Status Read(T* out, const char* what) {
    if (n_ - p_ < sizeof(T)) return Error(std::string("file ends inside ") + what);
    std::memcpy(out, d_ + p_, sizeof(T));
    p_ += sizeof(T);
    return Status::Ok();
  }
  Status ReadString(std::string* out, const char* what) {
    uint64_t len;
    LFM_RETURN_IF_ERROR(Read(&len, what));
    if (len > kMaxString || len > n_ - p_) return Error(std::string(what) + ": string length " + std::to_string(len) + " runs past the end of the file");
    out->assign(reinterpret_cast<const char*>(d_ + p_), len);
    p_ += len;
    return Status::Ok();
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t p_ = 0;
  const std::string& path_;
};

// GGUF value type ids.
enum : uint32_t { U8 = 0, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 };

Status ReadScalar(Cursor& c, uint32_t type, GgufValue* v, const std::string& key) {
  auto rd_int = [&](auto tag) -> Status {
    decltype(tag) x;
    LFM_RETURN_IF_ERROR(c.Read(&x, key.c_str()));
    if constexpr (std::is_same_v<decltype(tag), uint64_t>) {
      if (x > static_cast<uint64_t>(INT64_MAX)) return c.Error(key + ": integer too large");
    }
    v->kind = GgufValue::kInt;
    v->i = static_cast<int64_t>(x);
    return Status::Ok();
  };
  switch (type) {
    case U8: return rd_int(uint8_t{});
    case I8: return rd_int(int8_t{});
    case U16: return rd_int(uint16_t{});
    case I16: return rd_int(int16_t{});
    case U32: return rd_int(uint32_t{});
    case I32: return rd_int(int32_t{});
    case U64: return rd_int(uint64_t{});
    case I64: return rd_int(int64_t{});
    case F32: {
      float f;
      LFM_RETURN_IF_ERROR(c.Read(&f, key.c_str()));
      v->kind = GgufValue::kFloat;
      v->f = f;
      return Status::Ok();
    }
    case F64: {
      LFM_RETURN_IF_ERROR(c.Read(&v->f, key.c_str()));
      v->kind = GgufValue::kFloat;
      return Status::Ok();
    }
    case BOOL: {
      uint8_t b;
      LFM_RETURN_IF_ERROR(c.Read(&b, key.c_str()));
      if (b > 1) return c.Error(key + ": bool value " + std::to_string(b));
      v->kind = GgufValue::kBool;
      v->b = b != 0;
      return Status::Ok();
    }
    case STRING:
      v->kind = GgufValue::kString;
      return c.ReadString(&v->s, key.c_str());
    default:
      return c.Error(key + ": unknown value type " + std::to_string(type));
  }
}

Status ReadValue(Cursor& c, uint32_t type, GgufValue* v, const std::string& key, int depth) {
  if (type != ARRAY) return ReadScalar(c, type, v, key);
  if (depth >= kMaxDepth) return c.Error(key + ": nested arrays are not supported");
  uint32_t et;
  uint64_t n;
  LFM_RETURN_IF_ERROR(c.Read(&et, key.c_str()));
  LFM_RETURN_IF_ERROR(c.Read(&n, key.c_str()));
  if (n > kMaxCount) return c.Error(key + ": array of " + std::to_string(n) + " elements is too long");
  if (et == ARRAY) return c.Error(key + ": nested arrays are not supported");
  v->kind = GgufValue::kArray;
  GgufValue e;
  for (uint64_t i = 0; i < n; ++i) {
    LFM_RETURN_IF_ERROR(ReadScalar(c, et, &e, key));
    v->elem = e.kind == GgufValue::kBool ? GgufValue::kInt : e.kind;
    switch (e.kind) {
      case GgufValue::kString: v->strings.push_back(std::move(e.s)); break;
      case GgufValue::kFloat: v->floats.push_back(e.f); break;
      case GgufValue::kBool: v->ints.push_back(e.b); break;
      default: v->ints.push_back(e.i); break;
    }
  }
  if (n == 0) v->elem = et == STRING ? GgufValue::kString : (et == F32 || et == F64) ? GgufValue::kFloat : GgufValue::kInt;
  return Status::Ok();
}

// ggml_type ids we map; others are refused by name.
Result<DType> GgmlType(uint32_t t, const std::string& tensor, const std::string& path) {
  switch (t) {
    case 0: return DType::kF32;
    case 1: return DType::kF16;
    case 2: return DType::kQ4_0;
    case 3: return DType::kQ4_1;
    case 6: return DType::kQ5_0;
    case 7: return DType::kQ5_1;
    case 8: return DType::kQ8_0;
    case 12: return DType::kQ4_K;
    case 13: return DType::kQ5_K;
    case 14: return DType::kQ6_K;
    case 30: return DType::kBF16;
    default:
      return Unsupported(path + ": tensor '" + tensor + "': ggml type " + std::to_string(t) +
                         " is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, "
                         "Q6_K)");
  }
}

}  // namespace

Result<GgufHeader> ParseGguf(const uint8_t* data, size_t size, const std::string& path) {
  Cursor c(data, size, path);
  uint32_t magic;
  LFM_RETURN_IF_ERROR(c.Read(&magic, "magic"));
  if (std::memcmp(&magic, "GGUF", 4) != 0) return InvalidArgument(path + ": not a GGUF file (bad magic)");
  GgufHeader h;
  LFM_RETURN_IF_ERROR(c.Read(&h.version, "version"));
  if (h.version < 2 || h.version > 3) {
    return Unsupported(path + ": GGUF version " + std::to_string(h.version) + " (supported: 2, 3)");
  }
  uint64_t n_tensors, n_kv;
  LFM_RETURN_IF_ERROR(c.Read(&n_tensors, "tensor count"));
  LFM_RETURN_IF_ERROR(c.Read(&n_kv, "metadata count"));
  if (n_tensors > kMaxCount || n_kv > kMaxCount) return c.Error("tensor or metadata count too large");
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    LFM_RETURN_IF_ERROR(c.ReadString(&key, "metadata key"));
    uint32_t type;
    LFM_RETURN_IF_ERROR(c.Read(&type, key.c_str()));
    GgufValue v;
    LFM_RETURN_IF_ERROR(ReadValue(c, type, &v, key, 0));
    if (!h.metadata.emplace(key, std::move(v)).second) return c.Error("duplicate metadata key '" + key + "'");
  }
  if (const GgufValue* a = h.Find("general.alignment")) {
    if (a->kind != GgufValue::kInt || a->i <= 0 || (a->i & (a->i - 1)) != 0 || a->i > 65536) {
      return InvalidArgument(path + ": general.alignment must be a power of two");
    }
    h.alignment = static_cast<uint64_t>(a->i);
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    LFM_RETURN_IF_ERROR(c.ReadString(&t.name, "tensor name"));
    uint32_t nd;
    LFM_RETURN_IF_ERROR(c.Read(&nd, t.name.c_str()));
    if (nd == 0 || nd > 4) return c.Error("tensor '" + t.name + "': " + std::to_string(nd) + " dimensions");
    std::vector<int64_t> ne(nd);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      uint64_t x;
      LFM_RETURN_IF_ERROR(c.Read(&x, t.name.c_str()));
      if (x > (1ull << 40) || __builtin_mul_overflow(numel, x, &numel) || numel > (1ull << 48)) {
        return c.Error("tensor '" + t.name + "': shape too large");
      }
      ne[d] = static_cast<int64_t>(x);
    }
    t.shape.assign(ne.rbegin(), ne.rend());
    uint32_t type;
    LFM_RETURN_IF_ERROR(c.Read(&type, t.name.c_str()));
    LFM_ASSIGN_OR_RETURN(t.dtype, GgmlType(type, t.name, path));
    if (!DTypeRowOk(t.dtype, ne[0])) {
      return InvalidArgument(path + ": tensor '" + t.name + "': row of " + std::to_string(ne[0]) +
                             " is not a whole number of " + DTypeName(t.dtype) + " blocks");
    }
    LFM_RETURN_IF_ERROR(c.Read(&t.offset, t.name.c_str()));
    if (t.offset % h.alignment != 0) return c.Error("tensor '" + t.name + "': offset not aligned");
    t.nbytes = static_cast<uint64_t>(DTypeBytes(t.dtype, static_cast<int64_t>(numel)));
    h.tensors.push_back(std::move(t));
  }
  h.data_offset = (c.pos() + h.alignment - 1) / h.alignment * h.alignment;
  if (h.data_offset > size) return InvalidArgument(path + ": data area starts past the end of the file");
  const uint64_t data_size = size - h.data_offset;
  std::vector<const GgufTensorInfo*> order;
  for (const auto& t : h.tensors) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      return InvalidArgument(path + ": tensor '" + t.name + "' [" + std::to_string(t.offset) + ", +" +
                             std::to_string(t.nbytes) + ") runs past the data area (" + std::to_string(data_size) +
                             " bytes)");
    }
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i]->offset < order[i - 1]->offset + order[i - 1]->nbytes) {
      return InvalidArgument(path + ": tensors '" + order[i - 1]->name + "' and '" + order[i]->name + "' overlap");
    }
  }
  return h;
}

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  auto f = std::make_unique<GgufFile>();
  LFM_ASSIGN_OR_RETURN(f->file_, MappedFile::Open(path));
  LFM_ASSIGN_OR_RETURN(f->header_, ParseGguf(f->file_.data(), f->file_.size(), path));
  // The header is parsed into copies: its mapped bytes (a few MB of tokenizer strings on LFM2) need
  // not stay resident for the life of the mapping.
  ReleaseResidentPages(f->file_.data(), static_cast<size_t>(f->header_.data_offset));
  return f;
}

TensorView GgufFile::View(const GgufTensorInfo& t) const {
  return TensorView{t.dtype, t.shape, file_.data() + header_.data_offset + t.offset, t.name};
}

}  // namespace lfm
