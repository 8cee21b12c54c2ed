#include "engine/constrained.h"

#include <nlohmann/json.hpp>

#include "base/json_input.h"
#include "engine/engine_impl.h"

namespace lfm {

const char* GrammarKindName(GrammarKind kind) {
  switch (kind) {
    case GrammarKind::kJsonSchema: return "JSON Schema";
    case GrammarKind::kLark: return "Lark grammar";
    case GrammarKind::kRegex: return "regex";
  }
  return "grammar";
}

TokenVocab MakeTokenVocab(const Tokenizer& tokenizer, int model_vocab, const std::vector<int32_t>& eos_ids) {
  TokenVocab v;
  v.token_bytes.resize(model_vocab);
  v.is_special.assign(model_vocab, true);
  const int n = std::min(model_vocab, tokenizer.vocab_size());
  for (int id = 0; id < n; ++id) {
    if (tokenizer.IsSpecial(id)) continue;
    std::string bytes = tokenizer.TokenBytes(id);
    if (bytes.empty()) continue;  // unused id: never allowed
    v.token_bytes[id] = std::move(bytes);
    v.is_special[id] = false;
  }
  v.eos_ids = eos_ids;
  return v;
}

Result<std::shared_ptr<const CompiledGrammar>> Engine::CompileGrammar(GrammarKind kind, const std::string& source) {
  Impl& m = *impl_;
  // Compiled grammars are immutable: one per (kind, source) serves every request.
  {
    std::lock_guard<std::mutex> lock(m.trie_mu);
    auto it = m.grammar_cache.find({static_cast<int>(kind), source});
    if (it != m.grammar_cache.end()) return it->second;
  }
  auto impl = std::make_shared<CompiledGrammar::Impl>();
  const std::string what = GrammarKindName(kind);
  switch (kind) {
    case GrammarKind::kJsonSchema: {
      LFM_ASSIGN_OR_RETURN(nlohmann::ordered_json schema, ParseOrderedJson(source, "JSON Schema"));
      auto g = Grammar::FromJsonSchema(schema);
      if (!g.ok()) return g.status().WithContext("JSON Schema");
      impl->grammar = std::move(g).value();
      LFM_ASSIGN_OR_RETURN(nlohmann::json plain, ParseJson(source, "JSON Schema"));
      auto v = JsonSchemaValidator::Compile(plain);
      if (!v.ok()) return v.status().WithContext("JSON Schema validator");
      impl->validator = std::make_shared<const JsonSchemaValidator>(std::move(v).value());
      break;
    }
    case GrammarKind::kLark: {
      auto g = Grammar::FromLark(source);
      if (!g.ok()) return g.status().WithContext(what);
      impl->grammar = std::move(g).value();
      break;
    }
    case GrammarKind::kRegex: {
      auto g = Grammar::FromRegex(source);
      if (!g.ok()) return g.status().WithContext(what);
      impl->grammar = std::move(g).value();
      break;
    }
  }
  // The vocabulary trie is built after the grammar compiled, so a grammar over a limit is refused
  // without that work (a third of a second on a 65k vocabulary).
  {
    std::lock_guard<std::mutex> lock(m.trie_mu);
    if (!m.trie) {
      LFM_ASSIGN_OR_RETURN(m.trie, TokenTrie::Build(MakeTokenVocab(m.tokenizer, m.info.vocab_size, m.info.eos_ids)));
    }
  }
  impl->trie = m.trie;
  auto compiled = std::make_shared<const CompiledGrammar>(kind, source, std::move(impl));
  std::lock_guard<std::mutex> lock(m.trie_mu);
  if (m.grammar_cache.size() >= 64) m.grammar_cache.clear();  // bounded: schemas can come from requests
  m.grammar_cache[{static_cast<int>(kind), source}] = compiled;
  return compiled;
}

}  // namespace lfm
