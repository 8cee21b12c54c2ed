// Fuzz target: the GGUF reader (header, metadata, tensor infos), the LFM2 metadata mapping and the
// tokenizer rebuilt from GGUF metadata (Engine::Load on a .gguf) must reject or accept any byte string
// without crashing; accepted spans must lie inside the input.
#include <cstdint>
#include <cstdlib>

#include "engine/gguf_tokenizer.h"
#include "model/lfm2_gguf.h"
#include "weights/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto h = lfm::ParseGguf(data, size, "fuzz.gguf");
  if (!h.ok()) return 0;
  unsigned sum = 0;
  for (const auto& t : h->tensors) {
    if (h->data_offset + t.offset + t.nbytes > size) std::abort();
    if (t.nbytes > 0) sum += data[h->data_offset + t.offset] + data[h->data_offset + t.offset + t.nbytes - 1];
    (void)lfm::Lfm2HfNameFromGguf(t.name);
  }
  (void)lfm::Lfm2ConfigFromGguf(*h, "fuzz.gguf");
  (void)lfm::TokenizerJsonFromGguf(*h, "fuzz.gguf");
  return static_cast<int>(sum & 0);
}
