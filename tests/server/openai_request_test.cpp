// Request parsing and error mapping of the OpenAI-compatible server (no model, no sockets).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "server/request_slots.h"

namespace lfm::server {
namespace {

using Json = nlohmann::json;

// A 1x1 PNG.
const char* kPngB64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

ChatCompletionRequest Chat(const std::string& body) {
  auto r = ParseChatCompletionRequest(body);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << "refused: " << e->ToJson();
  return std::holds_alternative<ChatCompletionRequest>(r) ? std::get<ChatCompletionRequest>(r) : ChatCompletionRequest{};
}

ApiError ChatError(const std::string& body) {
  auto r = ParseChatCompletionRequest(body);
  if (!std::holds_alternative<ApiError>(r)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<ApiError>(r);
}

TEST(OpenAiRequest, StringContentAndSamplingFields) {
  auto r = Chat(R"({"model":"x","messages":[{"role":"user","content":"Hi"}],"temperature":0.5,"top_p":0.9,
                    "top_k":40,"min_p":0.05,"seed":7,"max_completion_tokens":12,"stop":"END","stream":true,
                    "stream_options":{"include_usage":true},"user":"u1","store":false,"n":1})");
  EXPECT_EQ(r.model, "x");
  EXPECT_FLOAT_EQ(*r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(*r.sampling.top_p, 0.9f);
  EXPECT_EQ(*r.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(*r.sampling.min_p, 0.05f);
  EXPECT_EQ(*r.sampling.seed, 7u);
  EXPECT_EQ(*r.sampling.max_tokens, 12);
  ASSERT_EQ(r.sampling.stop.size(), 1u);
  EXPECT_EQ(r.sampling.stop[0], "END");
  EXPECT_TRUE(r.sampling.stream);
  EXPECT_TRUE(r.sampling.include_usage);
  // Only messages (and tools) reach the engine: "user", "store", "model" must not become template kwargs.
  EXPECT_EQ(Json::parse(r.engine_request_json), Json::parse(R"({"messages":[{"role":"user","content":"Hi"}]})"));
}

TEST(OpenAiRequest, MaxTokensAliasesAndWholeFloats) {
  EXPECT_EQ(*Chat(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":5})").sampling.max_tokens, 5);
  EXPECT_EQ(*Chat(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":5.0})").sampling.max_tokens, 5);
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":5.5})").param, "/max_tokens");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"a"}],"max_tokens":0})").param, "/max_tokens");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"a"}],"max_completion_tokens":"9"})").param,
            "/max_completion_tokens");
}

TEST(OpenAiRequest, NegativeSeedIsAccepted) {
  EXPECT_EQ(*Chat(R"({"messages":[{"role":"user","content":"a"}],"seed":-1})").sampling.seed, ~uint64_t{0});
}

TEST(OpenAiRequest, ImagePartsBecomeEngineImageParts) {
  const std::string url = std::string("data:image/png;base64,") + kPngB64;
  auto r = Chat(R"({"messages":[{"role":"user","content":[{"type":"text","text":"What?"},
                   {"type":"image_url","image_url":{"url":")" + url + R"(","detail":"auto"}}]}]})");
  ASSERT_EQ(r.image_params.size(), 1u);
  EXPECT_EQ(r.image_params[0], "/messages/0/content/1");
  Json j = Json::parse(r.engine_request_json);
  EXPECT_EQ(j["messages"][0]["content"][1], Json::parse(R"({"type":"image_url","image_url":{"url":")" + url + "\"}}"));
}

TEST(OpenAiRequest, ImageUrlsOtherThanDataAreRefused) {
  for (const char* url : {"https://example.com/cat.png", "http://x/y.jpg"}) {
    ApiError e = ChatError(std::string(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":")") +
                           url + "\"}}]}]}");
    EXPECT_EQ(e.http_status, 400);
    EXPECT_EQ(e.param, "/messages/0/content/0/image_url/url");
    EXPECT_NE(e.message.find("does not fetch"), std::string::npos) << e.message;
  }
  for (const char* url : {"/etc/passwd", "file:///etc/passwd", "cat.png"}) {
    ApiError e = ChatError(std::string(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":")") +
                           url + "\"}}]}]}");
    EXPECT_NE(e.message.find("never read"), std::string::npos) << e.message;
  }
  // The engine's own {"type":"image","image":"path"} form reads files: not accepted from a request.
  ApiError e = ChatError(R"({"messages":[{"role":"user","content":[{"type":"image","image":"/etc/passwd"}]}]})");
  EXPECT_EQ(e.param, "/messages/0/content/0/type");
}

TEST(OpenAiRequest, UndecodableImagesNameThePart) {
  auto body = [](const std::string& url) {
    return R"({"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":")" +
           url + "\"}}]}]}";
  };
  EXPECT_EQ(ChatError(body("data:image/png;base64,@@@@")).param, "/messages/0/content/1/image_url/url");
  EXPECT_EQ(ChatError(body("data:image/png;base64,aGVsbG8gd29ybGQ=")).param, "/messages/0/content/1/image_url/url");
  EXPECT_EQ(ChatError(body("data:image/png,plain")).param, "/messages/0/content/1/image_url/url");
  EXPECT_EQ(ChatError(body("data:image/png;base64,")).param, "/messages/0/content/1/image_url/url");
}

TEST(OpenAiRequest, Base64) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(*DecodeBase64("aGVsbG8"), "hello");
  EXPECT_EQ(*DecodeBase64("aGVs\nbG8="), "hello");
  EXPECT_EQ(*DecodeBase64("-_8="), std::string("\xfb\xff"));
  EXPECT_FALSE(DecodeBase64("aGVsbG8=x"));
  EXPECT_FALSE(DecodeBase64("a"));
  EXPECT_FALSE(DecodeBase64("ab*c"));
  EXPECT_EQ(SniffImageFormat(*DecodeBase64(kPngB64)), "png");
  EXPECT_EQ(SniffImageFormat("\xFF\xD8\xFF\xE0"), "jpeg");
  EXPECT_EQ(SniffImageFormat("RIFF1234WEBPVP8 "), "webp");
  EXPECT_EQ(SniffImageFormat("GIF89a"), "gif");
  EXPECT_EQ(SniffImageFormat("BM"), "");
}

TEST(OpenAiRequest, SemanticFieldsWeDoNotImplementAreRefused) {
  const std::string m = R"("messages":[{"role":"user","content":"a"}])";
  EXPECT_EQ(ChatError("{" + m + R"(,"n":2})").param, "/n");
  EXPECT_EQ(ChatError("{" + m + R"(,"logprobs":true})").param, "/logprobs");
  EXPECT_EQ(ChatError("{" + m + R"(,"top_logprobs":3})").param, "/top_logprobs");
  EXPECT_EQ(ChatError("{" + m + R"(,"presence_penalty":0.5})").param, "/presence_penalty");
  EXPECT_EQ(ChatError("{" + m + R"(,"logit_bias":{"5":10}})").param, "/logit_bias");
  EXPECT_EQ(ChatError("{" + m + R"(,"tool_choice":"required","tools":[{"type":"function","function":{"name":"f"}}]})").param,
            "/tool_choice");
  // The neutral values of the same fields are fine (clients send them by default).
  Chat("{" + m + R"(,"n":1,"logprobs":false,"presence_penalty":0,"frequency_penalty":0,"logit_bias":{}})");
  EXPECT_EQ(ChatError("{" + m + R"(,"n":2})").code, "unsupported_parameter");
}

TEST(OpenAiRequest, RangesAndTypesNameTheField) {
  const std::string m = R"("messages":[{"role":"user","content":"a"}])";
  EXPECT_EQ(ChatError("{" + m + R"(,"temperature":3})").param, "/temperature");
  EXPECT_EQ(ChatError("{" + m + R"(,"temperature":"hot"})").param, "/temperature");
  EXPECT_EQ(ChatError("{" + m + R"(,"top_p":1.5})").param, "/top_p");
  EXPECT_EQ(ChatError("{" + m + R"(,"top_k":-1})").param, "/top_k");
  EXPECT_EQ(ChatError("{" + m + R"(,"stop":["a","b","c","d","e"]})").param, "/stop");
  EXPECT_EQ(ChatError("{" + m + R"(,"stop":["a",""]})").param, "/stop/1");
  EXPECT_EQ(ChatError("{" + m + R"(,"stream":"yes"})").param, "/stream");
  EXPECT_EQ(ChatError(R"({"messages":[]})").param, "/messages");
  EXPECT_EQ(ChatError(R"({"prompt":"x"})").param, "/messages");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"robot","content":"a"}]})").param, "/messages/0/role");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":"a"},{"role":"user"}]})").param, "/messages/1/content");
  EXPECT_EQ(ChatError(R"({"messages":[{"role":"user","content":[{"type":"audio"}]}]})").param, "/messages/0/content/0/type");
  EXPECT_EQ(ChatError("[1,2]").param, "");
  EXPECT_NE(ChatError("{nope").message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(ChatError("").message.find("empty"), std::string::npos);
}

TEST(OpenAiRequest, DeepNestingIsRefusedBeforeParsing) {
  std::string deep = R"({"messages":[{"role":"user","content":"a"}],"metadata":)" + std::string(1000, '[') +
                     std::string(1000, ']') + "}";
  ApiError e = ChatError(deep);
  EXPECT_EQ(e.code, "limit_exceeded");
  // Brackets inside strings do not count.
  Chat(R"({"messages":[{"role":"user","content":")" + std::string(1000, '[') + "\"}]}");
}

TEST(OpenAiRequest, Constraints) {
  const std::string m = R"("messages":[{"role":"user","content":"a"}])";
  auto r = Chat("{" + m + R"(,"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,
                 "schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}})");
  ASSERT_TRUE(r.constraint);
  EXPECT_EQ(r.constraint->kind, GrammarKind::kJsonSchema);
  EXPECT_EQ(Json::parse(r.constraint->source), Json::parse(R"({"type":"object","properties":{"a":{"type":"integer"}}})"));
  EXPECT_EQ(r.constraint->param, "/response_format/json_schema/schema");
  r = Chat("{" + m + R"(,"response_format":{"type":"json_object"}})");
  ASSERT_TRUE(r.constraint);
  EXPECT_EQ(r.constraint->source, R"({"type":"object"})");
  EXPECT_FALSE(Chat("{" + m + R"(,"response_format":{"type":"text"}})").constraint);
  r = Chat("{" + m + R"(,"grammar":"start: \"yes\" | \"no\""})");
  ASSERT_TRUE(r.constraint);
  EXPECT_EQ(r.constraint->kind, GrammarKind::kLark);
  r = Chat("{" + m + R"(,"json_schema":{"type":"string"}})");
  ASSERT_TRUE(r.constraint);
  EXPECT_EQ(r.constraint->param, "/json_schema");
  EXPECT_EQ(ChatError("{" + m + R"(,"response_format":{"type":"json_schema"}})").param, "/response_format/json_schema");
  EXPECT_EQ(ChatError("{" + m + R"(,"response_format":{"type":"xml"}})").param, "/response_format/type");
  EXPECT_EQ(ChatError("{" + m + R"(,"grammar":"a","json_schema":{}})").param, "");
}

TEST(OpenAiRequest, ToolsAndToolChoice) {
  const std::string m = R"("messages":[{"role":"user","content":"a"}])";
  const std::string tools = R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}])";
  auto r = Chat("{" + m + "," + tools + "}");
  EXPECT_TRUE(r.has_tools);
  EXPECT_EQ(Json::parse(r.engine_request_json)["tools"][0]["function"]["name"], "get_weather");
  r = Chat("{" + m + "," + tools + R"(,"tool_choice":"none"})");
  EXPECT_FALSE(r.has_tools);
  EXPECT_FALSE(Json::parse(r.engine_request_json).contains("tools"));
  EXPECT_EQ(ChatError("{" + m + R"(,"tools":[{"type":"retrieval"}]})").param, "/tools/0/type");
  EXPECT_EQ(ChatError("{" + m + "," + tools + R"(,"tool_choice":{"type":"function","function":{"name":"get_weather"}}})").param,
            "/tool_choice");
  // A tool round trip in the history passes through.
  r = Chat(R"({"messages":[{"role":"user","content":"weather?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
               "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"sunny"}],)" + tools + "}");
  Json j = Json::parse(r.engine_request_json);
  EXPECT_EQ(j["messages"][1]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(j["messages"][2]["tool_call_id"], "c1");
}

TEST(OpenAiRequest, Completions) {
  auto r = ParseCompletionRequest(R"({"model":"m","prompt":"Once","max_tokens":3,"temperature":0})");
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(r));
  EXPECT_EQ(std::get<CompletionRequest>(r).prompt, "Once");
  r = ParseCompletionRequest(R"({"prompt":["Once"]})");
  ASSERT_TRUE(std::holds_alternative<CompletionRequest>(r));
  auto bad = [](const std::string& body) {
    auto x = ParseCompletionRequest(body);
    return std::holds_alternative<ApiError>(x) ? std::get<ApiError>(x).param : std::string("(accepted)");
  };
  EXPECT_EQ(bad(R"({"prompt":["a","b"]})"), "/prompt");
  EXPECT_EQ(bad(R"({"prompt":""})"), "/prompt");
  EXPECT_EQ(bad(R"({"max_tokens":3})"), "/prompt");
  EXPECT_EQ(bad(R"({"prompt":"a","echo":true})"), "/echo");
  EXPECT_EQ(bad(R"({"prompt":"a","best_of":3})"), "/best_of");
  EXPECT_EQ(bad(R"({"prompt":"a","suffix":"z"})"), "/suffix");
}

TEST(ApiErrors, OpenAiShapeAndStatusMapping) {
  ApiError e = BadRequest("/messages/0/content", "must be a string", "invalid_type");
  Json j = Json::parse(e.ToJson());
  EXPECT_EQ(j["error"]["param"], "/messages/0/content");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["code"], "invalid_type");
  EXPECT_EQ(j["error"]["message"], "/messages/0/content: must be a string");
  EXPECT_TRUE(Json::parse(BadRequest("", "x", "").ToJson())["error"]["param"].is_null());
  EXPECT_EQ(FromStatus(InvalidArgument("x")).http_status, 400);
  EXPECT_EQ(FromStatus(ResourceExhausted("x")).http_status, 400);
  EXPECT_EQ(FromStatus(Unsupported("x")).http_status, 400);
  EXPECT_EQ(FromStatus(Internal("x")).http_status, 500);
  EXPECT_EQ(FromStatus(IoError("x")).type, "server_error");
  // An engine error about "image 1" names the second image part.
  ApiError img = FromChatError(InvalidArgument("image 1: image data URI: not a PNG"), {"/messages/0/content/0", "/messages/2/content/3"});
  EXPECT_EQ(img.param, "/messages/2/content/3");
  EXPECT_EQ(img.http_status, 400);
  EXPECT_EQ(FromChatError(InvalidArgument("image 5: x"), {"/a"}).param, "");
  EXPECT_EQ(FromChatError(InvalidArgument("images: x"), {"/a"}).param, "");
}

TEST(OpenAiResponse, ShapesFinishReasonsAndUsage) {
  Outcome o;
  o.generation.finish_reason = "eos";
  o.generation.timings.prompt_tokens = 7;
  o.generation.ids = {1, 2, 3};
  o.content = "hello";
  ResponseIds ids{"chatcmpl-abc", 100, "tiny"};
  OJson c = ChatCompletion(ids, o);
  EXPECT_EQ(c["object"], "chat.completion");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(c["choices"][0]["message"]["content"], "hello");
  EXPECT_EQ(c["usage"], OJson::parse(R"({"prompt_tokens":7,"completion_tokens":3,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":0}})"));
  o.generation.finish_reason = "length";
  EXPECT_EQ(FinishReason(o), "length");
  o.generation.finish_reason = "context";
  EXPECT_EQ(FinishReason(o), "length");
  o.generation.finish_reason = "stop";
  EXPECT_EQ(FinishReason(o), "stop");
  o.tool_calls = {{"get_weather", R"({"city":"Paris"})"}};
  o.content = "";
  c = ChatCompletion(ids, o);
  EXPECT_EQ(c["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(c["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(c["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(c["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(c["choices"][0]["message"]["tool_calls"][0]["type"], "function");
  OJson chunk = ChatChunk(ids, OJson{{"content", "hi"}}, "", true);
  EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(chunk["usage"].is_null());
  EXPECT_TRUE(chunk.contains("usage"));
  EXPECT_FALSE(ChatChunk(ids, OJson::object(), "stop", false).contains("usage"));
  EXPECT_EQ(ChatUsageChunk(ids, o.generation)["choices"].size(), 0u);
  EXPECT_EQ(SseEvent(OJson{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(TextCompletion(ids, o)["object"], "text_completion");
}

TEST(RequestSlots, BoundedQueueRefusesPastCapacity) {
  RequestSlots slots(1, 1);
  auto a = slots.Acquire();
  ASSERT_TRUE(a);
  EXPECT_EQ(slots.active(), 1);
  std::unique_ptr<RequestSlots::Lease> b;
  std::thread waiter([&] { b = slots.Acquire(); });
  while (slots.waiting() != 1) std::this_thread::yield();
  EXPECT_FALSE(slots.Acquire());  // 1 running + 1 waiting: full
  a.reset();
  waiter.join();
  ASSERT_TRUE(b);
  EXPECT_EQ(slots.active(), 1);
  EXPECT_EQ(slots.waiting(), 0);
  b.reset();
  EXPECT_EQ(slots.active(), 0);
  RequestSlots no_queue(2, 0);
  auto x = no_queue.Acquire(), y = no_queue.Acquire();
  EXPECT_TRUE(x && y);
  EXPECT_FALSE(no_queue.Acquire());
}

}  // namespace
}  // namespace lfm::server
