// Fuzzes tokenizer.json parsing: any bytes must give a Tokenizer or an error, never a crash. A tokenizer
// that loads is also exercised on a short text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "text/detokenizer.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tok = lfm::Tokenizer::FromJson(text, "fuzz.json");
  if (!tok.ok()) return 0;
  for (std::string_view s : {"Hello world, it's 2024! <s> 你好 🦙\r\n  ", "", " ", "\xFF\xC3"}) {
    auto encoded = tok->Encode(s, true);
    if (!encoded.ok()) continue;  // a regex resource limit, reported as an error
    const std::vector<int32_t>& ids = *encoded;
    (void)tok->Decode(ids, false);
    (void)tok->Decode(ids, true);
    lfm::StreamingDetokenizer d(*tok, false);
    for (int32_t id : ids) (void)d.Push(id);
    (void)d.Flush();
  }
  for (int32_t id : {-1, 0, 1, 5, 1 << 20}) {
    (void)tok->TokenBytes(id);
    (void)tok->IdToToken(id);
    (void)tok->IsSpecial(id);
  }
  return 0;
}
