// LFM2 tool-call parsing of arbitrary model output: never crashes; offsets stay inside the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "text/tool_calls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = lfm::ParseToolCalls(text);
  for (const auto& c : r.calls) {
    if (c.offset >= size) __builtin_trap();
    (void)c.arguments.dump();
  }
  for (const auto& e : r.errors) {
    if (e.offset > size) __builtin_trap();
  }
  if (r.content.size() > size) __builtin_trap();
  nlohmann::ordered_json v;
  size_t off = 0;
  std::string err;
  if (!lfm::ParsePythonLiteral(text, &v, &off, &err) && off > size) __builtin_trap();
  return 0;
}
