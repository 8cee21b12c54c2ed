#include "weights/safetensors_writer.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

namespace lfm {

size_t SafetensorsWriter::DTypeSize(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "BF16" || dtype == "F16" || dtype == "I16") return 2;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "U8" || dtype == "I8" || dtype == "BOOL") return 1;
  return 0;
}

Status SafetensorsWriter::Add(const std::string& name, const std::string& dtype, std::vector<int64_t> shape,
                              Fill fill) {
  size_t esize = DTypeSize(dtype);
  if (esize == 0) return InvalidArgument("safetensors writer: unknown dtype '" + dtype + "' for " + name);
  for (const auto& e : entries_)
    if (e.name == name) return InvalidArgument("safetensors writer: duplicate tensor " + name);
  size_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("safetensors writer: negative dimension in " + name);
    n *= static_cast<size_t>(d);
  }
  entries_.push_back({name, dtype, std::move(shape), n * esize, std::move(fill)});
  return Status::Ok();
}

Status SafetensorsWriter::Write(const std::string& path, const nlohmann::json& metadata,
                                const std::function<void(size_t, size_t)>& progress) const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& e : entries_) {
    header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes}}};
    offset += e.bytes;
  }
  std::string h = header.dump();
  // The data area starts 8-byte aligned, as the reference writer pads with spaces.
  while ((8 + h.size()) % 8 != 0) h.push_back(' ');

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return IoError("cannot create '" + path + "': " + std::strerror(errno));
  uint64_t len = h.size();
  uint8_t len_le[8];
  for (int i = 0; i < 8; ++i) len_le[i] = static_cast<uint8_t>(len >> (8 * i));
  bool ok = std::fwrite(len_le, 1, 8, f.get()) == 8 && std::fwrite(h.data(), 1, h.size(), f.get()) == h.size();
  std::vector<uint8_t> buf;
  size_t written = 0;
  for (const auto& e : entries_) {
    if (!ok) break;
    buf.assign(e.bytes, 0);
    if (e.fill) e.fill(buf.data(), buf.size());
    ok = std::fwrite(buf.data(), 1, buf.size(), f.get()) == buf.size();
    written += e.bytes;
    if (progress) progress(written, offset);
  }
  if (!ok) return IoError("error writing '" + path + "' (disk full?)");
  if (std::fclose(f.release()) != 0) return IoError("error closing '" + path + "'");
  return Status::Ok();
}

}  // namespace lfm
