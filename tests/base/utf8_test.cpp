#include "base/utf8.h"

#include <gtest/gtest.h>

namespace lfm {
namespace {

TEST(Utf8, CompletePrefixHoldsBackPartialCharacters) {
  std::string euro = "\xE2\x82\xAC";  // U+20AC, 3 bytes
  EXPECT_EQ(CompleteUtf8Prefix("ab"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("a" + euro.substr(0, 1)), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("a" + euro.substr(0, 2)), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("a" + euro), 4u);
  std::string emoji = "\xF0\x9F\x98\x80";
  for (size_t k = 1; k < 4; ++k) EXPECT_EQ(CompleteUtf8Prefix("x" + emoji.substr(0, k)), 1u);
  // An invalid byte never stalls the stream.
  EXPECT_EQ(CompleteUtf8Prefix("a\xFF"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xE2" "b"), 3u);
}

TEST(Utf8, DecodeAndValidate) {
  std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  size_t i = 0;
  EXPECT_EQ(DecodeUtf8(s, i), 0x61u);
  EXPECT_EQ(DecodeUtf8(s, i), 0xE9u);
  EXPECT_EQ(DecodeUtf8(s, i), 0x20ACu);
  EXPECT_EQ(DecodeUtf8(s, i), 0x1F600u);
  EXPECT_EQ(i, s.size());
  EXPECT_TRUE(IsValidUtf8(s));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  std::string out;
  for (uint32_t cp : {0x24u, 0xA2u, 0x20ACu, 0x10348u}) AppendUtf8(cp, out);
  EXPECT_EQ(out, "$\xC2\xA2\xE2\x82\xAC\xF0\x90\x8D\x88");
}

TEST(Utf8, FindInvalidGivesTheFirstBadByte) {
  EXPECT_EQ(FindInvalidUtf8("plain \xC3\xA9 \xEF\xBF\xBD"), std::string_view::npos);  // a literal U+FFFD is valid
  EXPECT_EQ(FindInvalidUtf8(""), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("abc\xFF"), 3u);               // never a lead byte
  EXPECT_EQ(FindInvalidUtf8("ab\x80"), 2u);                // stray continuation
  EXPECT_EQ(FindInvalidUtf8("\xC3\xA9x\xE2\x82"), 3u);      // truncated at the end
  EXPECT_EQ(FindInvalidUtf8("a\xED\xA0\x80"), 1u);          // surrogate
  EXPECT_EQ(FindInvalidUtf8("a\xC0\x80"), 1u);              // overlong
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);       // past U+10FFFF
  Status st = CheckUtf8("Hello, \xE9t\xE9", "--prompt");  // Latin-1, not UTF-8
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "--prompt: invalid UTF-8 at byte 7");
  EXPECT_TRUE(CheckUtf8("caf\xC3\xA9", "--prompt").ok());
}

}  // namespace
}  // namespace lfm
