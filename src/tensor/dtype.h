// Element types of weights and activations. Quantized types are stored in fixed-size blocks
// (ggml layout: 32 weights per block with one f16 scale), so every "row" of a weight matrix is a
// whole number of blocks and kernels can address rows without knowing the type's internals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lfm {

enum class DType : uint8_t {
  kAuto = 0,  // "whatever the file holds" (load option), never a tensor's type
  kF32,
  kF16,
  kBF16,
  kQ8_0,  // 32 int8 weights + f16 scale: 34 bytes / block
  kQ4_0,  // 32 4-bit weights (offset 8) + f16 scale: 18 bytes / block
  // Read from GGUF files only (llama.cpp's other block types; layouts in tensor/ggml_blocks.h). Matmuls
  // run them via a conversion at load (see Lfm2Model::Matrix); QuantizeRow does not write them.
  kQ4_1,  // 32 x 4 bit, f16 scale + f16 min: 20 bytes
  kQ5_0,  // 32 x 5 bit (offset 16), f16 scale: 22 bytes
  kQ5_1,  // 32 x 5 bit, f16 scale + f16 min: 24 bytes
  kQ4_K,  // 256 x 4 bit in 8 sub-blocks with 6-bit scales and mins: 144 bytes
  kQ5_K,  // 256 x 5 bit, same scales as Q4_K: 176 bytes
  kQ6_K,  // 256 x 6 bit (offset 32) in 16 sub-blocks with int8 scales: 210 bytes
};

const char* DTypeName(DType t);
// Parses our own names ("f32", "bf16", "f16", "q8_0", "q4_0"; case-insensitive); used by options/CLI.
// The GGUF-only types are not accepted: nothing can convert to them.
std::optional<DType> ParseDTypeName(std::string_view name);

// Elements per block (1 for plain types) and bytes per block.
int64_t DTypeBlockSize(DType t);
int64_t DTypeBlockBytes(DType t);
bool DTypeIsQuantized(DType t);
// Bytes for n elements; n must be a multiple of the block size (checked by callers, see RowBytesOk).
int64_t DTypeBytes(DType t, int64_t n);
bool DTypeRowOk(DType t, int64_t n);

inline constexpr int kQ8_0BlockSize = 32;
inline constexpr int kQ4_0BlockSize = 32;

struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQ8_0BlockSize];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
  uint16_t d;                       // f16 scale
  uint8_t qs[kQ4_0BlockSize / 2];   // low nibbles = elements 0..15, high nibbles = 16..31
};
static_assert(sizeof(BlockQ4_0) == 18);

}  // namespace lfm
