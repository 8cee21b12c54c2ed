// Parses and renders arbitrary template bytes with tight limits: must never crash, hang or leak;
// every outcome is a rendered string or a Status.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "text/jinja/template.h"

namespace {

const nlohmann::ordered_json& Context() {
  static const nlohmann::ordered_json* ctx = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"({
    "bos_token": "<|startoftext|>", "eos_token": "<|im_end|>", "add_generation_prompt": true,
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "messages": [
      {"role": "system", "content": "sys"},
      {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "hi é"}]},
      {"role": "assistant", "content": "<think>x</think>y",
       "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": 1, "b": [true, null]}}}]},
      {"role": "tool", "content": "42"}
    ]})"));
  return *ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lfm::jinja::Limits limits;
  limits.max_steps = 20000;
  limits.max_output_bytes = 64 << 10;
  limits.max_recursion_depth = 20;
  limits.max_nesting_depth = 64;
  auto t = lfm::jinja::Template::Parse(std::string(reinterpret_cast<const char*>(data), size), limits);
  if (!t.ok()) return 0;
  lfm::jinja::RenderOptions opt;
  opt.limits = limits;
  opt.now_unix_seconds = 0;
  auto out = t->Render(Context(), opt);
  if (out.ok() && out->size() > limits.max_output_bytes) __builtin_trap();
  return 0;
}
