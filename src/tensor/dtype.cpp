#include "tensor/dtype.h"

#include <cctype>

#include "tensor/ggml_blocks.h"

namespace lfm {

const char* DTypeName(DType t) {
  switch (t) {
    case DType::kAuto: return "auto";
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kQ8_0: return "q8_0";
    case DType::kQ4_0: return "q4_0";
    case DType::kQ4_1: return "q4_1";
    case DType::kQ5_0: return "q5_0";
    case DType::kQ5_1: return "q5_1";
    case DType::kQ4_K: return "q4_k";
    case DType::kQ5_K: return "q5_k";
    case DType::kQ6_K: return "q6_k";
  }
  return "?";
}

std::optional<DType> ParseDTypeName(std::string_view name) {
  std::string s;
  for (char c : name) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (DType t : {DType::kAuto, DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
    if (s == DTypeName(t)) return t;
  }
  return std::nullopt;
}

int64_t DTypeBlockSize(DType t) {
  switch (t) {
    case DType::kQ8_0: return kQ8_0BlockSize;
    case DType::kQ4_0: return kQ4_0BlockSize;
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1: return 32;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K: return kQK_K;
    default: return 1;
  }
}

int64_t DTypeBlockBytes(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16:
    case DType::kBF16: return 2;
    case DType::kQ8_0: return sizeof(BlockQ8_0);
    case DType::kQ4_0: return sizeof(BlockQ4_0);
    case DType::kQ4_1: return sizeof(BlockQ4_1);
    case DType::kQ5_0: return sizeof(BlockQ5_0);
    case DType::kQ5_1: return sizeof(BlockQ5_1);
    case DType::kQ4_K: return sizeof(BlockQ4_K);
    case DType::kQ5_K: return sizeof(BlockQ5_K);
    case DType::kQ6_K: return sizeof(BlockQ6_K);
    case DType::kAuto: return 0;
  }
  return 0;
}

bool DTypeIsQuantized(DType t) { return DTypeBlockSize(t) > 1; }

int64_t DTypeBytes(DType t, int64_t n) { return n / DTypeBlockSize(t) * DTypeBlockBytes(t); }

bool DTypeRowOk(DType t, int64_t n) { return t != DType::kAuto && n % DTypeBlockSize(t) == 0; }

}  // namespace lfm
