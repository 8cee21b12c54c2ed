// Fuzz target: the safetensors header parser must reject or accept any byte string without
// crashing, and every span it accepts must lie inside the input.
#include <cstdint>
#include <cstdlib>

#include "weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = lfm::ParseSafetensors(data, size, "fuzz.safetensors");
  if (!r.ok()) return 0;
  unsigned sum = 0;
  for (const auto& e : r->tensors) {
    if (r->data_offset + e.end > size || e.begin > e.end) std::abort();
    // Touch the first and last byte so ASan flags any span outside the buffer.
    if (e.end > e.begin) sum += data[r->data_offset + e.begin] + data[r->data_offset + e.end - 1];
  }
  return static_cast<int>(sum & 0);
}
