// Replays JSONSchemaBench/MaskBench records through the grammar matcher (shared by the bounded CI test
// and the full run). A record passes when its schema compiles, every valid instance is accepted token by
// token (greedy longest-match tokens of its compact serialisation) with EOS allowed at the end, and every
// invalid instance is rejected at some token or at EOS.
#pragma once

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "grammar/grammar.h"

namespace lfm::testing {

// The vocabulary of an HF tokenizer.json as raw bytes: GPT-2 byte-level map undone; special added tokens
// are marked special (never reachable through text); non-special added tokens are plain text.
inline Result<TokenVocab> LoadHfVocabBytes(const std::string& path, std::vector<int32_t> eos_ids) {
  std::ifstream in(path);
  if (!in) return NotFound(path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const std::exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  int unicode_to_byte[512];
  for (int& v : unicode_to_byte) v = -1;
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    if (direct) unicode_to_byte[b] = b;
    else unicode_to_byte[256 + n++] = b;
  }
  const auto& vocab = j["model"]["vocab"];
  size_t size = vocab.size();
  for (const auto& a : j["added_tokens"]) size = std::max<size_t>(size, a["id"].get<size_t>() + 1);
  TokenVocab v;
  v.token_bytes.assign(size, "");
  v.is_special.assign(size, false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const std::string s = it.key();
    std::string bytes;
    size_t i = 0;
    while (i < s.size()) {
      uint32_t cp = DecodeUtf8(s, i);
      if (cp >= 512 || unicode_to_byte[cp] < 0) return InvalidArgument(path + ": token outside the GPT-2 byte map: " + s);
      bytes.push_back(static_cast<char>(unicode_to_byte[cp]));
    }
    v.token_bytes[it.value().get<size_t>()] = bytes;
  }
  for (const auto& a : j["added_tokens"]) {
    size_t id = a["id"].get<size_t>();
    v.is_special[id] = a["special"].get<bool>();
    v.token_bytes[id] = a["content"].get<std::string>();
  }
  v.eos_ids = std::move(eos_ids);
  return v;
}

struct SubsetCounts {
  int records = 0, compiled = 0, unsupported = 0, compile_errors = 0, passing = 0;
  int valid = 0, invalid = 0, valid_rejected = 0, invalid_accepted = 0;
};

struct RecordOutcome {
  bool compiled = false, passing = false;
  std::string compile_error;
  std::vector<std::string> failures;
};

inline std::vector<int32_t> GreedySplit(const TokenTrie& trie, std::string_view s) {
  std::vector<int32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    int32_t id;
    size_t n = trie.LongestPrefixToken(s.substr(i), &id);
    if (n == 0) return {};
    out.push_back(id);
    i += n;
  }
  return out;
}

// check_masks: also compute the mask before each token and require the token's bit (slower).
inline RecordOutcome RunRecord(const nlohmann::ordered_json& rec, const std::shared_ptr<const TokenTrie>& trie,
                               SubsetCounts* c, bool check_masks) {
  RecordOutcome out;
  c->records++;
  auto g = Grammar::FromJsonSchema(rec["schema"]);
  if (!g.ok()) {
    out.compile_error = g.status().ToString();
    if (g.status().code() == StatusCode::kUnsupported) c->unsupported++;
    else c->compile_errors++;
    return out;
  }
  out.compiled = true;
  c->compiled++;
  bool ok = true;
  std::vector<uint32_t> mask;
  for (const auto& t : rec["tests"]) {
    bool valid = t["valid"].get<bool>();
    std::string text;
    try {
      text = t["data"].dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
    } catch (...) {
      continue;
    }
    valid ? c->valid++ : c->invalid++;
    GrammarMatcher m(g.value(), trie);
    bool accepted = true;
    for (int32_t id : GreedySplit(*trie, text)) {
      if (check_masks) {
        Status s = m.ComputeMask(&mask);
        if (!s.ok() || !((mask[id >> 5] >> (id & 31)) & 1)) {
          if (!s.ok() && valid) out.failures.push_back("mask error: " + s.ToString());
          accepted = false;
          break;
        }
      }
      if (!m.AcceptToken(id).ok()) {
        accepted = false;
        break;
      }
    }
    if (accepted) accepted = m.IsAccepting();
    if (valid && !accepted) {
      c->valid_rejected++;
      ok = false;
      out.failures.push_back("valid rejected: " + text.substr(0, 300));
    } else if (!valid && accepted) {
      c->invalid_accepted++;
      ok = false;
      out.failures.push_back("invalid accepted: " + text.substr(0, 300));
    }
  }
  if (ok) c->passing++;
  out.passing = ok;
  return out;
}

inline std::vector<std::pair<std::string, std::string>> MaskbenchFiles(const std::string& dir) {
  // MANIFEST.tsv: subset, file, ..., status; only `included` records are present.
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(dir + "/MANIFEST.tsv");
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() >= 8 && cols[7] == "included") out.emplace_back(cols[0], cols[1]);
  }
  return out;
}

inline std::string SummaryLine(const std::string& name, const SubsetCounts& c) {
  char buf[300];
  std::snprintf(buf, sizeof buf,
                "%-16s records %5d compiled %5d (unsupported %4d, errors %4d) passing %5d (%.1f%%) "
                "valid %5d rejected %4d | invalid %5d accepted %4d",
                name.c_str(), c.records, c.compiled, c.unsupported, c.compile_errors, c.passing,
                c.records ? 100.0 * c.passing / c.records : 0.0, c.valid, c.valid_rejected, c.invalid,
                c.invalid_accepted);
  return buf;
}

}  // namespace lfm::testing
