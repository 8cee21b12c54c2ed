// Malformed or unsupported tokenizer.json: every case is a clear error naming the problem (and the JSON
// path), never a crash and never a silently ignored field.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"
#include "text/regex.h"
#include "text/tokenizer.h"

namespace lfm {
namespace {

using nlohmann::json;

// A small valid byte-level BPE tokenizer: "a", "b", "ab", "Ġ", "Ġab" and one special token.
json ValidTokenizer() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 5, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false,
                      "normalized": false, "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\s?\\p{L}+"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [5], "tokens": ["<s>"]}}},
    "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
              "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
              "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4},
              "merges": [["a", "b"], ["Ġ", "ab"]]}
  })");
}

Status LoadStatus(const std::string& text) {
  auto r = Tokenizer::FromJson(text, "test.json");
  return r.ok() ? Status::Ok() : r.status();
}

Status LoadMutated(const std::function<void(json&)>& mutate) {
  json j = ValidTokenizer();
  mutate(j);
  return LoadStatus(j.dump());
}

void ExpectError(const Status& s, StatusCode code, std::initializer_list<std::string> fragments) {
  ASSERT_FALSE(s.ok()) << "expected an error";
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find("test.json"), std::string::npos) << s.ToString();
  for (const auto& f : fragments) EXPECT_NE(s.message().find(f), std::string::npos) << "missing '" << f << "' in " << s.ToString();
}

TEST(TokenizerErrorsTest, ValidBaselineLoadsAndWorks) {
  auto t = Tokenizer::FromJson(ValidTokenizer().dump(), "test.json");
  ASSERT_OK(t);
  EXPECT_EQ(*t->Encode("ab ab<s>", true), (std::vector<int32_t>{5, 2, 4, 5}));
  EXPECT_EQ(t->Decode({2, 4}, false), "ab ab");
}

// Ids missing from the vocab are holes: no string, no lookup hits them, later ids still resolve
// (the compact vocab stores every id's bytes back to back, holes as empty ranges).
TEST(TokenizerErrorsTest, VocabHolesAndLookups) {
  json j = ValidTokenizer();
  // Ids 5..8 are holes in the model vocab; the added <s> takes id 6, the vocab's entry count (HF's
  // AddedVocabulary ignores the file's "id": 5).
  j["model"]["vocab"]["c"] = 9;
  auto t = Tokenizer::FromJson(j.dump(), "test.json");
  ASSERT_OK(t);
  EXPECT_EQ(t->vocab_size(), 10);
  EXPECT_EQ(t->IdToToken(7), "");
  EXPECT_EQ(t->IdToToken(9), "c");
  EXPECT_EQ(t->IdToToken(4), "Ġab");
  EXPECT_EQ(t->IdToToken(5), "");
  EXPECT_EQ(t->IdToToken(6), "<s>");
  EXPECT_EQ(t->IdToToken(10), "");
  EXPECT_EQ(t->IdToToken(-1), "");
  EXPECT_EQ(t->TokenToId("c"), std::optional<int32_t>(9));
  EXPECT_EQ(t->TokenToId("ab"), std::optional<int32_t>(2));
  EXPECT_EQ(t->TokenToId("ba"), std::nullopt);
  EXPECT_EQ(t->TokenToId(""), std::nullopt);
  EXPECT_EQ(*t->Encode("cab", false), (std::vector<int32_t>{9, 2}));
  EXPECT_EQ(t->Decode({9, 7, 2}, false), "cab");
}

TEST(TokenizerErrorsTest, BadJson) {
  ExpectError(LoadStatus("{\"model\": "), StatusCode::kInvalidArgument, {"invalid JSON at byte"});
  ExpectError(LoadStatus(""), StatusCode::kInvalidArgument, {"invalid JSON at byte"});
  ExpectError(LoadStatus("[1, 2]"), StatusCode::kInvalidArgument, {"expected an object"});
  ExpectError(LoadStatus("\"\xFF\""), StatusCode::kInvalidArgument, {"invalid JSON at byte"});
}

TEST(TokenizerErrorsTest, UnknownModelType) {
  ExpectError(LoadMutated([](json& j) { j["model"]["type"] = "Magic"; }), StatusCode::kInvalidArgument,
              {"model.type", "Magic"});
  ExpectError(LoadMutated([](json& j) { j["model"]["type"] = "Unigram"; }), StatusCode::kUnsupported,
              {"model.type", "Unigram"});
  ExpectError(LoadMutated([](json& j) { j.erase("model"); }), StatusCode::kInvalidArgument, {"model", "missing"});
}

TEST(TokenizerErrorsTest, MissingOrBadVocab) {
  ExpectError(LoadMutated([](json& j) { j["model"].erase("vocab"); }), StatusCode::kInvalidArgument,
              {"model.vocab", "missing"});
  ExpectError(LoadMutated([](json& j) { j["model"]["vocab"] = json::array({"a"}); }),
              StatusCode::kInvalidArgument, {"model.vocab"});
  ExpectError(LoadMutated([](json& j) { j["model"]["vocab"]["c"] = "seven"; }), StatusCode::kInvalidArgument,
              {"model.vocab", "'c'"});
  ExpectError(LoadMutated([](json& j) { j["model"]["vocab"]["c"] = 0; }), StatusCode::kInvalidArgument,
              {"model.vocab", "id 0"});
  ExpectError(LoadMutated([](json& j) { j["model"]["vocab"]["c"] = -1; }), StatusCode::kInvalidArgument,
              {"model.vocab"});
}

TEST(TokenizerErrorsTest, MergesReferencingUnknownTokens) {
  ExpectError(LoadMutated([](json& j) { j["model"]["merges"].push_back(json::array({"a", "zz"})); }),
              StatusCode::kInvalidArgument, {"model.merges[2]", "unknown token 'zz'"});
  ExpectError(LoadMutated([](json& j) { j["model"]["merges"].push_back("b a"); }), StatusCode::kInvalidArgument,
              {"model.merges[2]", "'ba'", "not in the vocab"});
  ExpectError(LoadMutated([](json& j) { j["model"]["merges"].push_back("abc"); }), StatusCode::kInvalidArgument,
              {"model.merges[2]"});
  ExpectError(LoadMutated([](json& j) { j["model"]["merges"].push_back(42); }), StatusCode::kInvalidArgument,
              {"model.merges[2]"});
  ExpectError(LoadMutated([](json& j) { j["model"].erase("merges"); }), StatusCode::kInvalidArgument,
              {"model.merges", "missing"});
}

TEST(TokenizerErrorsTest, BadRegex) {
  ExpectError(LoadMutated([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(\\p{L"; }),
              StatusCode::kInvalidArgument, {"pre_tokenizer.pretokenizers[0].pattern.Regex", "bad regex"});
  ExpectError(LoadMutated([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = json{{"Glob", "*"}}; }),
              StatusCode::kUnsupported, {"pre_tokenizer.pretokenizers[0].pattern.Glob"});
}

TEST(TokenizerErrorsTest, UnknownOrUnsupportedComponents) {
  ExpectError(LoadMutated([](json& j) { j["pre_tokenizer"]["pretokenizers"][1]["type"] = "Sparkle"; }),
              StatusCode::kInvalidArgument, {"pre_tokenizer.pretokenizers[1].type", "Sparkle"});
  ExpectError(LoadMutated([](json& j) { j["pre_tokenizer"] = json{{"type", "BertPreTokenizer"}}; }),
              StatusCode::kUnsupported, {"pre_tokenizer.type", "BertPreTokenizer"});
  ExpectError(LoadMutated([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways"; }),
              StatusCode::kInvalidArgument, {"pre_tokenizer.pretokenizers[0].behavior", "Sideways"});
  ExpectError(LoadMutated([](json& j) { j["normalizer"] = json{{"type", "NFKC"}}; }), StatusCode::kUnsupported,
              {"normalizer.type", "NFKC"});
  ExpectError(LoadMutated([](json& j) { j["normalizer"] = json{{"type", "Precompiled"}, {"precompiled_charsmap", ""}}; }),
              StatusCode::kUnsupported, {"normalizer.type", "Precompiled"});
  ExpectError(LoadMutated([](json& j) { j["decoder"] = json{{"type", "WordPiece"}}; }), StatusCode::kUnsupported,
              {"decoder.type", "WordPiece"});
  ExpectError(LoadMutated([](json& j) { j["decoder"] = json{{"type", "Nope"}}; }), StatusCode::kInvalidArgument,
              {"decoder.type", "Nope"});
  ExpectError(LoadMutated([](json& j) { j["post_processor"]["type"] = "Nope"; }), StatusCode::kInvalidArgument,
              {"post_processor.type", "Nope"});
}

TEST(TokenizerErrorsTest, UnimplementedFieldsAreNeverIgnored) {
  ExpectError(LoadMutated([](json& j) { j["decoder"]["shiny"] = true; }), StatusCode::kUnsupported,
              {"decoder.shiny"});
  ExpectError(LoadMutated([](json& j) { j["model"]["dropout"] = 0.1; }), StatusCode::kUnsupported,
              {"model.dropout"});
  ExpectError(LoadMutated([](json& j) { j["truncation"] = json{{"max_length", 8}}; }), StatusCode::kUnsupported,
              {"truncation"});
  ExpectError(LoadMutated([](json& j) { j["padding"] = json::object(); }), StatusCode::kUnsupported, {"padding"});
  ExpectError(LoadMutated([](json& j) { j["extra"] = 1; }), StatusCode::kUnsupported, {"extra"});
  ExpectError(LoadMutated([](json& j) { j["added_tokens"][0]["shiny"] = true; }), StatusCode::kUnsupported,
              {"added_tokens[0].shiny"});
}

TEST(TokenizerErrorsTest, BadFieldTypes) {
  ExpectError(LoadMutated([](json& j) { j["added_tokens"] = 3; }), StatusCode::kInvalidArgument, {"added_tokens"});
  ExpectError(LoadMutated([](json& j) { j["added_tokens"][0]["id"] = "five"; }), StatusCode::kInvalidArgument,
              {"added_tokens[0].id"});
  ExpectError(LoadMutated([](json& j) { j["added_tokens"][0]["special"] = "yes"; }), StatusCode::kInvalidArgument,
              {"added_tokens[0].special"});
  ExpectError(LoadMutated([](json& j) { j["model"]["unk_token"] = "<unk>"; }), StatusCode::kInvalidArgument,
              {"model.unk_token", "<unk>"});
  ExpectError(LoadMutated([](json& j) { j["post_processor"]["single"][0]["SpecialToken"]["id"] = "<x>"; }),
              StatusCode::kInvalidArgument, {"post_processor.single[0].SpecialToken.id", "<x>"});
  ExpectError(LoadMutated([](json& j) { j["pre_tokenizer"]["pretokenizers"] = json::object(); }),
              StatusCode::kInvalidArgument, {"pre_tokenizer.pretokenizers"});
  ExpectError(LoadMutated([](json& j) { j["model"]["ignore_merges"] = 1; }), StatusCode::kInvalidArgument,
              {"model.ignore_merges"});
}

TEST(TokenizerErrorsTest, MissingFile) {
  auto r = Tokenizer::FromFile("/nonexistent/tokenizer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/tokenizer.json"), std::string::npos) << r.status().ToString();
}

// A pre-tokenizer pattern with catastrophic backtracking on a crafted input hits PCRE2's match
// limit. The old Encode swallowed the error into an empty encoding (exit 0 from `lfm tokenize`).
TEST(TokenizerErrorsTest, RegexMatchLimitIsAnErrorNotAnEmptyEncoding) {
  json j = ValidTokenizer();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(a+)+b";
  auto t = Tokenizer::FromJson(j.dump(), "test.json");
  ASSERT_OK(t);
  ASSERT_OK(t->Encode("aab", false));  // an ordinary input still encodes
  Regex::SetMatchLimitForTesting(1000);
  // The required "b" is present (at the end), so PCRE2 cannot skip the search: 2^40 backtracks.
  auto ids = t->Encode(std::string(40, 'a') + "cb", false);
  Regex::SetMatchLimitForTesting(0);
  ExpectError(ids.status(), StatusCode::kResourceExhausted,
              {"pre_tokenizer.pretokenizers[0].pattern", "(a+)+b", "match limit"});
}

// 50k nested arrays used to overflow the stack in the readers after nlohmann built the tree.
TEST(TokenizerErrorsTest, DeeplyNestedJsonIsRefusedBeforeParsing) {
  std::string deep = "{\"model\": " + std::string(50000, '[') + std::string(50000, ']') + "}";
  ExpectError(LoadStatus(deep), StatusCode::kInvalidArgument, {"JSON nesting deeper than 128"});
}

}  // namespace
}  // namespace lfm
