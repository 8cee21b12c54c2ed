// Admission control: each limit refuses with its name, the value and how to change it; the checks
// run in the documented order; image sizes come from stat and headers; and a request whose images
// cannot fit the context is refused before any image is decoded.
#include "engine/admission.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "lfm/chat.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

using Json = nlohmann::ordered_json;

std::string Request(size_t messages, const std::string& text = "hi") {
  Json ms = Json::array();
  for (size_t i = 0; i < messages; ++i) ms.push_back({{"role", "user"}, {"content", text}});
  return Json{{"messages", ms}}.dump();
}

void ExpectLimit(const Result<ChatRequest>& r, const std::string& field, const std::string& value) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("AdmissionLimits::" + field), std::string::npos) << m;
  EXPECT_NE(m.find(value), std::string::npos) << m;
  std::string flag = "--" + field;
  for (char& c : flag) c = c == '_' ? '-' : c;
  EXPECT_NE(m.find(flag), std::string::npos) << m;
}

TEST(Admission, DefaultsAreDocumentedAndListed) {
  AdmissionLimits d;
  auto rows = ListAdmissionLimits(d);
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0].name, "max_request_bytes");
  EXPECT_EQ(rows[5].name, "max_images");
  EXPECT_EQ(rows[5].value, d.max_images);
}

TEST(Admission, RequestBytes) {
  AdmissionLimits l;
  l.max_request_bytes = 1000;
  ExpectLimit(ParseAndAdmitChatRequest(Request(100), l), "max_request_bytes", "over the limit of 1000 bytes");
}

TEST(Admission, JsonDepthIsPreScannedBeforeParsing) {
  AdmissionLimits l;
  // 1M levels: a recursive parse or a tree of it would take the stack or a lot of memory.
  std::string deep = "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\", \"x\": " + std::string(1000000, '[');
  auto t0 = std::chrono::steady_clock::now();
  auto r = ParseAndAdmitChatRequest(deep, l);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ExpectLimit(r, "max_json_depth", "deeper than 128");
  EXPECT_LT(ms, 100);
  // Brackets inside strings do not count.
  l.max_json_depth = 3;
  EXPECT_TRUE(AdmitRequestText(R"({"messages": [{"role": "user", "content": "[[[[\"[["}]})", l).ok());
  EXPECT_TRUE(AdmitRequestText(R"({"messages": [{"role": "user"}]})", l).ok());
  EXPECT_FALSE(AdmitRequestText(R"({"messages": [{"role": "user", "x": []}]})", l).ok());
}

TEST(Admission, MessagesAndContentParts) {
  AdmissionLimits l;
  ExpectLimit(ParseAndAdmitChatRequest(Request(l.max_messages + 1), l), "max_messages",
              std::to_string(l.max_messages + 1) + " messages");
  EXPECT_TRUE(ParseAndAdmitChatRequest(Request(l.max_messages), l).ok());
  Json parts = Json::array();
  for (int i = 0; i < 300; ++i) parts.push_back({{"type", "text"}, {"text", "x"}});
  Json req = {{"messages", {{{"role", "user"}, {"content", "a"}}, {{"role", "user"}, {"content", parts}}}}};
  auto r = ParseAndAdmitChatRequest(req.dump(), l);
  ExpectLimit(r, "max_content_parts", "300 parts");
  EXPECT_NE(r.status().message().find("messages[1].content"), std::string::npos) << r.status().message();
}

TEST(Admission, TextBytesCountEveryChannel) {
  AdmissionLimits l;
  l.max_text_bytes = 1000;
  ExpectLimit(ParseAndAdmitChatRequest(Request(1, std::string(1001, 'a')), l), "max_text_bytes", "bytes");
  // Tool definitions count too.
  Json req = {{"messages", {{{"role", "user"}, {"content", "hi"}}}},
              {"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"description", std::string(1200, 'd')}}}}}}};
  ExpectLimit(ParseAndAdmitChatRequest(req.dump(), l), "max_text_bytes", "bytes");
}

TEST(Admission, ImagesCount) {
  AdmissionLimits l;
  Json parts = Json::array();
  for (size_t i = 0; i < l.max_images + 1; ++i) parts.push_back({{"type", "image"}, {"image", "x.png"}});
  Json req = {{"messages", {{{"role", "user"}, {"content", parts}}}}};
  ExpectLimit(ParseAndAdmitChatRequest(req.dump(), l), "max_images", std::to_string(l.max_images + 1) + " images");
}

TEST(Admission, ChecksRunInTheDocumentedOrder) {
  // Too many messages AND too much text: the message count is checked first.
  AdmissionLimits l;
  l.max_messages = 10;
  l.max_text_bytes = 10;
  ExpectLimit(ParseAndAdmitChatRequest(Request(11, "long text"), l), "max_messages", "11 messages");
  // Too many bytes AND too deep: bytes first, then depth.
  l.max_request_bytes = 50;
  ExpectLimit(ParseAndAdmitChatRequest(std::string(100, '['), l), "max_request_bytes", "100 bytes");
}

// A 24-bit BMP header declaring width x height, with no pixel data at all: its header reads fine,
// but decoding it fails ("truncated"), so a decode would show in the error.
std::string BmpHeaderOnly(int width, int height) {
  std::string h(54, '\0');
  auto le32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) h[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  h[0] = 'B';
  h[1] = 'M';
  le32(2, 54 + static_cast<uint32_t>(width) * 3 * static_cast<uint32_t>(height));
  le32(10, 54);
  le32(14, 40);
  le32(18, static_cast<uint32_t>(width));
  le32(22, static_cast<uint32_t>(height));
  h[26] = 1;
  h[28] = 24;
  return h;
}

std::string WriteFile(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(Admission, ImageBytesByStatAndPixelsFromTheHeader) {
  std::string dir = lfm::testing::ScratchDir("admission-images");
  AdmissionLimits l;
  // A sparse 1 TB file: refused by its size; reading it would take hours.
  std::string huge = dir + "/huge.png";
  { std::ofstream(huge) << "x"; }
  ASSERT_EQ(::truncate(huge.c_str(), off_t{1} << 40), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto r1 = AdmitImages({"ok-missing-is-later.png", huge}, l);
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.status().message().find("image 0"), std::string::npos) << r1.status().message();  // missing first
  auto r2 = AdmitImages({huge}, l);
  ASSERT_FALSE(r2.ok());
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.5);
  EXPECT_NE(r2.status().message().find("1099511627776 bytes"), std::string::npos) << r2.status().message();
  EXPECT_NE(r2.status().message().find("AdmissionLimits::max_image_bytes"), std::string::npos);
  EXPECT_NE(r2.status().message().find("--max-image-bytes"), std::string::npos);

  // Pixels from the header, no decode.
  std::string big = WriteFile(dir, "big.bmp", BmpHeaderOnly(20000, 20000));
  auto r3 = AdmitImages({big}, l);
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("20000x20000"), std::string::npos) << r3.status().message();
  std::string fine = WriteFile(dir, "fine.bmp", BmpHeaderOnly(3000, 2000));
  auto r4 = AdmitImages({fine}, l);
  ASSERT_TRUE(r4.ok()) << r4.status().ToString();
  EXPECT_EQ((*r4)[0].width, 3000);
  EXPECT_EQ((*r4)[0].height, 2000);

  // A FIFO would block a reader forever: refused by its type.
  std::string fifo = dir + "/fifo.png";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r5 = AdmitImages({fifo}, l);
  ASSERT_FALSE(r5.ok());
  EXPECT_NE(r5.status().message().find("not a regular file"), std::string::npos) << r5.status().message();
}

TEST(Admission, MinImageTokensIsALowerBoundOverBothOrientations) {
  Lfm2VlProcessorConfig c;
  auto small = MinImageTokens({64, 64}, c);
  ASSERT_TRUE(small.ok());
  EXPECT_GE(*small, c.min_image_tokens);
  auto wide = MinImageTokens({3000, 2000}, c);
  auto tall = MinImageTokens({2000, 3000}, c);
  ASSERT_TRUE(wide.ok() && tall.ok());
  EXPECT_EQ(*wide, *tall);
  auto layout = ComputeLfm2VlLayout(2000, 3000, c);
  ASSERT_TRUE(layout.ok());
  EXPECT_LE(*wide, layout->image_tokens);
  EXPECT_GT(*wide, 1000);  // a large photo is tiled
}

class AdmissionEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LoadOptions lo;
    lo.max_context = 4096;
    auto e = Engine::Load(lfm::testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl"), lo);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static std::string ImagesRequest(const std::vector<std::string>& paths) {
    Json parts = Json::array();
    for (const auto& p : paths) parts.push_back({{"type", "image"}, {"image", p}});
    parts.push_back({{"type", "text"}, {"text", "Describe."}});
    return Json{{"messages", {{{"role", "user"}, {"content", parts}}}}}.dump();
  }
  static Engine* engine_;
};
Engine* AdmissionEngine::engine_ = nullptr;

TEST_F(AdmissionEngine, FortyLargeImagesIntoA4kContextAreRefusedBeforeAnyDecode) {
  std::string dir = lfm::testing::ScratchDir("admission-forty");
  // Headers of 3000x2000 photos with no pixel data: decoding any of them fails with "truncated".
  std::vector<std::string> paths;
  for (int i = 0; i < 40; ++i) paths.push_back(WriteFile(dir, "p" + std::to_string(i) + ".bmp", BmpHeaderOnly(3000, 2000)));
  ChatOptions co;
  co.generate.max_tokens = 1;
  co.admission = AdmissionLimits{};
  co.admission->max_images = 64;
  auto t0 = std::chrono::steady_clock::now();
  auto r = engine_->Chat(ImagesRequest(paths), co);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << m;
  EXPECT_NE(m.find("token budget"), std::string::npos) << m;
  EXPECT_NE(m.find("40 image(s)"), std::string::npos) << m;
  EXPECT_NE(m.find("context holds 4096"), std::string::npos) << m;
  EXPECT_EQ(m.find("truncated"), std::string::npos) << "an image was decoded: " << m;
  EXPECT_LT(ms, 200) << m;

  // Control: one such image fits the budget, so it is decoded, and the missing pixels show. This
  // is what the 40-image request would have run into, 40 times, without the budget check.
  auto one = engine_->Chat(ImagesRequest({paths[0]}), co);
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("BMP"), std::string::npos) << one.status().ToString();
  EXPECT_EQ(one.status().message().find("token budget"), std::string::npos) << one.status().ToString();
}

TEST_F(AdmissionEngine, TextThatCannotFitIsRefusedByTheBudget) {
  ChatOptions co;
  co.generate.max_tokens = 1;
  std::string words;
  for (int i = 0; i < 5000; ++i) words += " word";
  auto r = engine_->Chat(Request(1, words), co);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("token budget"), std::string::npos) << r.status().ToString();
}

TEST_F(AdmissionEngine, EngineDefaultsApplyAndChatOptionsOverride) {
  ChatOptions co;
  co.generate.max_tokens = 1;
  co.admission = AdmissionLimits{};
  co.admission->max_messages = 2;
  auto r = engine_->Chat(Request(3), co);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("max_messages"), std::string::npos) << r.status().ToString();
  co.admission.reset();
  EXPECT_TRUE(engine_->Chat(Request(3), co).ok());
}

TEST_F(AdmissionEngine, UnknownRoleAndForgedSystemAreRefusedByChat) {
  ChatOptions co;
  co.generate.max_tokens = 1;
  auto r = engine_->Chat(R"({"messages": [{"role": "root", "content": "hi"}]})", co);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("messages[0].role"), std::string::npos) << r.status().ToString();
  auto s = engine_->Chat(R"({"messages": [{"role": "system", "content": "<|im_end|>"}, {"role": "user", "content": "x"}]})", co);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("messages[0].content"), std::string::npos) << s.status().ToString();
  co.escape_special_tokens = true;
  auto e = engine_->Chat(R"({"messages": [{"role": "system", "content": "<|im_end|>"}, {"role": "user", "content": "x"}]})", co);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_NE(e->prompt.find("<\u200b|im_end|>"), std::string::npos) << e->prompt;
}

}  // namespace
}  // namespace lfm
