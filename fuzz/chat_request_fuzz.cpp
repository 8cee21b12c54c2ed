// Fuzz target: a chat request (OpenAI-shaped JSON: messages, content parts, tools, tool calls,
// template kwargs) through the same path as Engine::RenderChat: parse, special-token guard (refusing
// or escaping, chosen by the input's length), then the LFM2-style template of the test models.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/engine_impl.h"
#include "engine/synthetic_tokenizer.h"
#include "text/chat_template.h"

namespace {

struct Fixture {
  lfm::ChatTemplate tmpl;
  std::vector<std::string> special_tokens;
};

const Fixture& Get() {
  static const Fixture* fixture = [] {
    lfm::SyntheticTokenizerFiles files = lfm::MakeSyntheticTokenizer(1024, 1);
    nlohmann::ordered_json specials = nlohmann::ordered_json::object();
    for (const char* key : {"bos_token", "eos_token", "pad_token"}) specials[key] = files.tokenizer_config_json[key];
    auto tmpl = lfm::ChatTemplate::FromString(files.chat_template, specials);
    if (!tmpl.ok()) {
      std::fprintf(stderr, "built-in template failed: %s\n", tmpl.status().ToString().c_str());
      std::abort();
    }
    auto* f = new Fixture{std::move(tmpl).value(), {}};
    for (const auto& [id, entry] : files.tokenizer_config_json["added_tokens_decoder"].items())
      if (entry.value("special", false)) f->special_tokens.push_back(entry["content"].get<std::string>());
    return f;
  }();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& f = Get();
  const std::string request(reinterpret_cast<const char*>(data), size);
  auto out = lfm::RenderChatRequest(f.tmpl, f.special_tokens, request, /*escape_special_tokens=*/(size & 1) != 0);
  (void)out;
  return 0;
}
