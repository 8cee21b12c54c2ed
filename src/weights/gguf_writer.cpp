#include "weights/gguf_writer.h"

#include "tensor/tensor_view.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace lfm {

namespace {

// gguf_type ids of the metadata values written here.
enum : uint32_t { kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7, kString = 8, kArray = 9 };
constexpr uint64_t kAlignment = 32;  // llama.cpp's default (general.alignment not written)

template <typename T>
void Put(std::vector<uint8_t>& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian host (x86-64)
  out.insert(out.end(), b, b + sizeof(T));
}
void PutString(std::vector<uint8_t>& out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

// ggml_type ids (the reader's table in gguf.cpp, the other way).
int GgmlTypeId(DType t) {
  switch (t) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kQ4_0: return 2;
    case DType::kQ8_0: return 8;
    case DType::kBF16: return 30;
    default: return -1;
  }
}

}  // namespace

void GgufWriter::SetString(const std::string& key, const std::string& v) {
  PutString(kv_, key);
  Put<uint32_t>(kv_, kString);
  PutString(kv_, v);
  ++kv_count_;
}
void GgufWriter::SetU32(const std::string& key, uint32_t v) {
  PutString(kv_, key);
  Put<uint32_t>(kv_, kU32);
  Put<uint32_t>(kv_, v);
  ++kv_count_;
}
void GgufWriter::SetF32(const std::string& key, float v) {
  PutString(kv_, key);
  Put<uint32_t>(kv_, kF32);
  Put<float>(kv_, v);
  ++kv_count_;
}
void GgufWriter::SetBool(const std::string& key, bool v) {
  PutString(kv_, key);
  Put<uint32_t>(kv_, kBool);
  Put<uint8_t>(kv_, v ? 1 : 0);
  ++kv_count_;
}
void GgufWriter::SetI32Array(const std::string& key, const std::vector<int32_t>& v) {
  PutString(kv_, key);
  Put<uint32_t>(kv_, kArray);
  Put<uint32_t>(kv_, kI32);
  Put<uint64_t>(kv_, v.size());
  for (int32_t x : v) Put<int32_t>(kv_, x);
  ++kv_count_;
}
void GgufWriter::SetStringArray(const std::string& key, const std::vector<std::string>& v) {
  PutString(kv_, key);
  Put<uint32_t>(kv_, kArray);
  Put<uint32_t>(kv_, kString);
  Put<uint64_t>(kv_, v.size());
  for (const auto& s : v) PutString(kv_, s);
  ++kv_count_;
}

Status GgufWriter::AddTensor(const std::string& name, DType dtype, std::vector<int64_t> shape, Fill fill) {
  if (GgmlTypeId(dtype) < 0)
    return InvalidArgument("GGUF writer: tensor '" + name + "': dtype " + DTypeName(dtype) + " cannot be written");
  if (shape.empty() || shape.size() > 4)
    return InvalidArgument("GGUF writer: tensor '" + name + "': rank must be 1..4");
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) return InvalidArgument("GGUF writer: tensor '" + name + "': shape " + ShapeToString(shape));
    n *= d;
  }
  if ((dtype == DType::kQ8_0 || dtype == DType::kQ4_0) && shape.back() % 32 != 0)
    return InvalidArgument("GGUF writer: tensor '" + name + "': " + DTypeName(dtype) +
                           " needs rows that are a multiple of 32 long, got " + ShapeToString(shape));
  for (const auto& t : tensors_)
    if (t.name == name) return InvalidArgument("GGUF writer: duplicate tensor '" + name + "'");
  tensors_.push_back({name, dtype, std::move(shape), static_cast<size_t>(DTypeBytes(dtype, n)), std::move(fill)});
  return Status::Ok();
}

Status GgufWriter::Write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const {
  std::vector<uint8_t> head;
  head.insert(head.end(), {'G', 'G', 'U', 'F'});
  Put<uint32_t>(head, 3);
  Put<uint64_t>(head, tensors_.size());
  Put<uint64_t>(head, kv_count_);
  head.insert(head.end(), kv_.begin(), kv_.end());
  uint64_t offset = 0, total = 0;
  std::vector<uint64_t> offsets;
  for (const auto& t : tensors_) {
    PutString(head, t.name);
    Put<uint32_t>(head, static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) Put<uint64_t>(head, static_cast<uint64_t>(*it));
    Put<uint32_t>(head, static_cast<uint32_t>(GgmlTypeId(t.dtype)));
    Put<uint64_t>(head, offset);
    offsets.push_back(offset);
    offset += (t.bytes + kAlignment - 1) / kAlignment * kAlignment;
    total += t.bytes;
  }
  head.resize((head.size() + kAlignment - 1) / kAlignment * kAlignment, 0);

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return IoError("cannot create " + path + ": " + std::strerror(errno));
  auto write = [&](const void* p, size_t n) -> Status {
    if (n > 0 && std::fwrite(p, 1, n, f.get()) != n) return IoError("write to " + path + " failed: " + std::strerror(errno));
    return Status::Ok();
  };
  LFM_RETURN_IF_ERROR(write(head.data(), head.size()));
  size_t done = 0;
  std::vector<uint8_t> buf;
  static const uint8_t kZeros[kAlignment] = {};
  for (const auto& t : tensors_) {
    buf.assign(t.bytes, 0);
    LFM_RETURN_IF_ERROR(t.fill(buf.data(), buf.size()).WithContext("tensor '" + t.name + "'"));
    LFM_RETURN_IF_ERROR(write(buf.data(), buf.size()));
    const size_t pad = (kAlignment - t.bytes % kAlignment) % kAlignment;
    LFM_RETURN_IF_ERROR(write(kZeros, pad));
    done += t.bytes;
    if (progress) progress(done, total);
  }
  if (std::fflush(f.get()) != 0) return IoError("write to " + path + " failed: " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace lfm
