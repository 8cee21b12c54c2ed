// The JSON entry point for every outside input: never crashes, never builds a tree deeper than the
// limit, and agrees with nlohmann on what is valid JSON whenever the depth check passes.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json_input.h"

namespace {

size_t TreeDepth(const nlohmann::json& root) {
  size_t deepest = 0;
  std::vector<std::pair<const nlohmann::json*, size_t>> todo = {{&root, 0}};
  while (!todo.empty()) {
    auto [j, d] = todo.back();
    todo.pop_back();
    if (!j->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    for (const auto& child : *j) todo.push_back({&child, d + 1});
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks a small limit so the fuzzer reaches it cheaply.
  const size_t max_depth = 1 + data[0] % 8;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto r = lfm::ParseJson(text, "fuzz", max_depth);
  const bool depth_ok = lfm::CheckJsonDepth(text, "fuzz", max_depth).ok();
  if (r.ok()) {
    if (!depth_ok || TreeDepth(*r) > max_depth) __builtin_trap();
    (void)r->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (depth_ok && text.find('\0') == std::string_view::npos &&
             nlohmann::json::accept(text.begin(), text.end())) {
    __builtin_trap();  // valid, shallow JSON refused
  }
  auto o = lfm::ParseOrderedJson(text, "fuzz", max_depth);
  if (o.ok() != r.ok()) __builtin_trap();
  return 0;
}
