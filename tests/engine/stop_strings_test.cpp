#include "engine/stop_strings.h"

#include <gtest/gtest.h>

namespace lfm {
namespace {

TEST(StopStrings, HoldsBackPossiblePrefixAndCutsAtStop) {
  StopStringMatcher m({"</end>", "STOP"});
  std::string out;
  out += m.Push("Hello <");
  EXPECT_EQ(out, "Hello ");  // "<" might start "</end>"
  out += m.Push("b> and </e");
  EXPECT_EQ(out, "Hello <b> and ");
  out += m.Push("nd> tail");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(out, "Hello <b> and ");
  EXPECT_EQ(m.text(), "Hello <b> and ");
  EXPECT_EQ(m.Push("more"), "");
}

TEST(StopStrings, FlushReleasesHeldTailWhenNoStop) {
  StopStringMatcher m({"STOP"});
  std::string out = m.Push("abc ST");
  EXPECT_EQ(out, "abc ");
  out += m.Flush();
  EXPECT_EQ(out, "abc ST");
  EXPECT_FALSE(m.stopped());
  StopStringMatcher none({});
  EXPECT_EQ(none.Push("x"), "x");
}

TEST(StopStrings, StopSpanningManyPieces) {
  StopStringMatcher m({"ABCD"});
  std::string out;
  for (const char* p : {"xA", "B", "C", "Dy"}) out += m.Push(p);
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(out, "x");
}

}  // namespace
}  // namespace lfm
