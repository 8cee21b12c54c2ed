// LFM2 tool-call parsing of model output: Python-literal calls between the tool-call markers.
#include "text/tool_calls.h"

#include <string>

#include "test_util.h"

namespace lfm {
namespace {

using Json = nlohmann::ordered_json;

TEST(ToolCalls, ParsesPythonLiteralArguments) {
  std::string text =
      "Let me check.<|tool_call_start|>[fn(a=1, b='x', c=[1,2], d={\"k\": None}, e=True, f=-2.5e3, "
      "g=\"it's \\\"q\\\"\\n\", h=(1, 'two'), i=False, j=None, k=0.5, l='\\u00e9\\x41')]<|tool_call_end|>Done.";
  auto r = ParseToolCalls(text);
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  EXPECT_EQ(r.content, "Let me check.Done.");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "fn");
  EXPECT_EQ(r.calls[0].offset, text.find("fn("));
  EXPECT_EQ(r.calls[0].arguments.dump(),
            R"({"a":1,"b":"x","c":[1,2],"d":{"k":null},"e":true,"f":-2500.0,"g":"it's \"q\"\n","h":[1,"two"],)"
            R"("i":false,"j":null,"k":0.5,"l":"éA"})");
}

TEST(ToolCalls, SeveralCallsAndBlocks) {
  auto r = ParseToolCalls(
      "<|tool_call_start|>[get_weather(city=\"Paris\"), search(q='cats', n=3)]<|tool_call_end|> and "
      "<|tool_call_start|>[noargs()]<|tool_call_end|>");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments, Json::parse(R"({"city": "Paris"})"));
  EXPECT_EQ(r.calls[1].arguments, Json::parse(R"({"q": "cats", "n": 3})"));
  EXPECT_EQ(r.calls[2].name, "noargs");
  EXPECT_TRUE(r.calls[2].arguments.empty());
  EXPECT_EQ(r.content, " and ");
}

TEST(ToolCalls, JsonStyleCallsAndLiterals) {
  auto r = ParseToolCalls(
      "<|tool_call_start|>[{\"name\": \"f\", \"arguments\": {\"x\": true, \"y\": null}}]<|tool_call_end|>");
  ASSERT_TRUE(r.ok()) << r.errors[0].message;
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, Json::parse(R"({"x": true, "y": null})"));
}

TEST(ToolCalls, NoMarkersIsPlainContent) {
  auto r = ParseToolCalls("just text [f(a=1)]");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.calls.empty());
  EXPECT_EQ(r.content, "just text [f(a=1)]");
}

TEST(ToolCalls, MalformedCallsAreReportedWithPosition) {
  struct Case {
    std::string text;
    std::string where;  // the error offset points at this substring
    std::string message_part;
  } cases[] = {
      {"x<|tool_call_start|>[f(a=1, b='unterminated)]<|tool_call_end|>y", "'unterminated", "unterminated string"},
      {"<|tool_call_start|>[f(1, 2)]<|tool_call_end|>", "1, 2", "keyword argument"},
      {"<|tool_call_start|>[f(a=1) g(b=2)]<|tool_call_end|>", "g(b", "expected ','"},
      {"<|tool_call_start|>[f(a=undefined_name)]<|tool_call_end|>", "undefined_name", "unexpected name"},
      {"<|tool_call_start|>[f(a=1, a=2)]<|tool_call_end|>", "a=2", "duplicate"},
      {"<|tool_call_start|>[f(a=1)", "<|tool_call_start|>", "without an end marker"},
      {"<|tool_call_start|>[f(a={1: 2, [3]: 4})]<|tool_call_end|>", "[3]", "dict keys"},
  };
  for (const auto& c : cases) {
    auto r = ParseToolCalls(c.text);
    ASSERT_EQ(r.errors.size(), 1u) << c.text;
    EXPECT_EQ(r.errors[0].offset, c.text.find(c.where)) << c.text << " -> " << r.errors[0].message;
    EXPECT_NE(r.errors[0].message.find(c.message_part), std::string::npos) << r.errors[0].message;
    EXPECT_EQ(r.errors[0].raw.rfind("<|tool_call_start|>", 0), 0u);
    EXPECT_TRUE(r.calls.empty());
  }
  // A bad block does not hide a good one, and text around both is kept.
  auto r = ParseToolCalls("a<|tool_call_start|>[f(]<|tool_call_end|>b<|tool_call_start|>[g()]<|tool_call_end|>c");
  EXPECT_EQ(r.errors.size(), 1u);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "g");
  EXPECT_EQ(r.content, "abc");
}

TEST(ToolCalls, PythonLiteralParser) {
  Json v;
  size_t off = 0;
  std::string err;
  ASSERT_TRUE(ParsePythonLiteral(" [1, 'a', {\"b\": (True,)}, 1_000, .5, -0, 9223372036854775807] ", &v, &off, &err))
      << err;
  EXPECT_EQ(v.dump(), R"([1,"a",{"b":[true]},1000,0.5,0,9223372036854775807])");
  EXPECT_FALSE(ParsePythonLiteral("[1, 2", &v, &off, &err));
  EXPECT_EQ(off, 5u);
  EXPECT_FALSE(ParsePythonLiteral("'\\ud800'", &v, &off, &err));
  EXPECT_FALSE(ParsePythonLiteral("1 2", &v, &off, &err));
  EXPECT_EQ(off, 2u);
}

}  // namespace
}  // namespace lfm
