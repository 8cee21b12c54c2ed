// Chat on top of sessions: request JSON -> admission control -> special-token guard -> template
// render -> token budget -> (images) -> tokenize -> generate -> tool-call parsing.
#include "lfm/chat.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_input.h"
#include "base/utf8.h"
#include "base/thread_pool.h"
#include "engine/admission.h"
#include "engine/engine_impl.h"
#include "engine/image_embedding_cache.h"
#include "engine/image_input.h"
#include "text/messages.h"
#include "text/special_tokens_guard.h"
#include "text/tool_calls.h"

namespace lfm {

namespace {

const AdmissionLimits& LimitsFor(const Engine::Impl& m, const ChatOptions* options) {
  return options != nullptr && options->admission ? *options->admission : m.admission;
}

// Roles first (a forged role is refused whatever the policy), then every string that enters the
// template: refused, or defused with the escape policy.
Status GuardTemplateInput(ChatRequest& request, const std::vector<std::string>& special_tokens, bool escape) {
  LFM_RETURN_IF_ERROR(CheckRoles(request.messages));
  if (escape) {
    EscapeSpecialTokens(request, special_tokens);
    return Status::Ok();
  }
  Status st = CheckNoSpecialTokens(request, special_tokens);
  if (!st.ok()) return InvalidArgument(st.message() + " [CLI: --escape-special]");
  return Status::Ok();
}

Result<std::string> GuardAndRender(const ChatTemplate& tmpl, const std::vector<std::string>& special_tokens,
                                   ChatRequest& request, bool escape_special_tokens) {
  LFM_RETURN_IF_ERROR(GuardTemplateInput(request, special_tokens, escape_special_tokens));
  ChatRenderOptions ro;
  ro.tools = request.tools;
  ro.add_generation_prompt = request.add_generation_prompt;
  ro.extra_context = request.template_kwargs;
  return tmpl.Render(request.messages, ro);
}

// Splits raw model output into content and tool calls (LFM2's <|tool_call_start|>[...]<|tool_call_end|>).
void FillToolCalls(const std::string& raw, ChatResult* out) {
  ToolCallParseResult parsed = ParseToolCalls(raw);
  out->content = parsed.content;
  for (const auto& c : parsed.calls) out->tool_calls.push_back({c.name, c.arguments.dump()});
  for (const auto& e : parsed.errors)
    out->tool_call_errors.push_back("at byte " + std::to_string(e.offset) + ": " + e.message + " in " + e.raw);
}

// The reply's raw text (special tokens kept, for the tool-call parser), cut before the first stop
// string when one ended the run, as Generation::text is: the last token may run past the stop string.
std::string RawReply(const Engine& engine, const Generation& g, const std::vector<std::string>& stop) {
  std::vector<int32_t> body = g.ids;
  if (g.finish_reason == "eos" && !body.empty()) body.pop_back();
  std::string raw = engine.Detokenize(body, /*skip_special_tokens=*/false);
  if (g.finish_reason == "stop") {
    size_t cut = std::string::npos;
    for (const auto& s : stop)
      if (!s.empty()) cut = std::min(cut, raw.find(s));
    if (cut != std::string::npos) raw.resize(cut);
  }
  return raw;
}

}  // namespace

Result<std::string> RenderChatRequest(const ChatTemplate& tmpl, const std::vector<std::string>& special_tokens,
                                      const std::string& request_json, bool escape_special_tokens,
                                      const AdmissionLimits& limits) {
  LFM_ASSIGN_OR_RETURN(ChatRequest request, ParseAndAdmitChatRequest(request_json, limits));
  return GuardAndRender(tmpl, special_tokens, request, escape_special_tokens);
}

namespace {

struct PreparedPrompt {
  std::string text;                // rendered, images expanded
  std::vector<int32_t> ids;        // tokenized (the template wrote BOS)
  std::vector<float> image_rows;   // vision features for the image tokens, when encoded
  std::vector<double> image_encode_ms;  // per image, when encoded
  size_t num_images = 0;
  bool stopped = false;            // the progress callback stopped image encoding
};

// The images' vision rows, in order: those in the engine's image cache are copied from it, the
// others run through the tower together (one progress stage over them) and are then cached.
Status EncodeWithCache(Engine::Impl& m, const std::vector<PreprocessedImage>& images, const ChatOptions* options,
                       PreparedPrompt* out) {
  const bool caching = m.image_cache.enabled();
  std::vector<ContentHash> keys(images.size());
  std::vector<std::shared_ptr<const std::vector<float>>> cached(images.size());
  std::vector<PreprocessedImage> misses;
  std::vector<size_t> miss_index;
  for (size_t i = 0; i < images.size(); ++i) {
    if (caching) {
      keys[i] = ImageEmbeddingCache::KeyOf(images[i]);
      cached[i] = m.image_cache.Find(keys[i]);
    }
    if (!cached[i]) {
      misses.push_back(images[i]);
      miss_index.push_back(i);
    }
  }
  std::vector<float> miss_rows;
  std::vector<double> miss_ms;
  if (!misses.empty()) {
    ScopedThreadLimit thread_limit(m.threads);
    const ProgressCallback none;
    LFM_RETURN_IF_ERROR(EncodeImages(*m.vision, misses, &miss_rows, &miss_ms,
                                     options != nullptr ? options->generate.on_progress : none, &out->stopped));
    if (out->stopped) return Status::Ok();
  }
  const size_t hidden = static_cast<size_t>(m.info.hidden_size);
  out->image_rows.clear();
  out->image_encode_ms.assign(images.size(), 0.0);
  size_t next_miss = 0, miss_row = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    if (cached[i]) {
      out->image_rows.insert(out->image_rows.end(), cached[i]->begin(), cached[i]->end());
      continue;
    }
    size_t n = 0;
    for (const auto& c : images[i].crops) n += static_cast<size_t>(c.tokens) * hidden;
    if (miss_row + n > miss_rows.size())
      return Internal("image " + std::to_string(i) + ": the vision tower gave fewer rows than the processor expects");
    const auto begin = miss_rows.begin() + static_cast<std::ptrdiff_t>(miss_row);
    out->image_rows.insert(out->image_rows.end(), begin, begin + static_cast<std::ptrdiff_t>(n));
    if (caching) m.image_cache.Insert(keys[i], std::vector<float>(begin, begin + static_cast<std::ptrdiff_t>(n)));
    if (next_miss < miss_ms.size()) out->image_encode_ms[i] = miss_ms[next_miss];
    ++next_miss;
    miss_row += n;
  }
  return Status::Ok();
}

// Admission steps 1-6 (parse) -> image sizes (7-8) -> guard -> render -> token budget (9) -> decode,
// preprocess, expand images -> tokenize -> encode images. Nothing is decoded before the budget holds.
Result<PreparedPrompt> PreparePrompt(Engine::Impl& m, const std::string& request_json,
                                     const ChatOptions* options, bool tokenize, bool encode_images) {
  if (!m.chat_template)
    return Unsupported(m.info.path + " has no usable chat template: " + m.chat_template_error.message() +
                       " (use `lfm generate` for raw completion)");
  const AdmissionLimits& limits = LimitsFor(m, options);
  LFM_ASSIGN_OR_RETURN(ChatRequest request, ParseAndAdmitChatRequest(request_json, limits));
  std::vector<std::string> sources;
  for (const auto& msg : request.messages)
    for (auto& url : msg.ImageUrls()) sources.push_back(url);
  if (!sources.empty() && !m.vision)
    return Unsupported(m.info.path + " is a text model (" + m.info.model_type +
                       "); image inputs need an LFM2-VL model");
  Lfm2VlProcessorConfig config = m.processor;
  std::vector<ImageHeaderSize> headers;
  if (!sources.empty()) {
    if (options != nullptr && options->image_min_tokens > 0) config.min_image_tokens = options->image_min_tokens;
    if (options != nullptr && options->image_max_tokens > 0) config.max_image_tokens = options->image_max_tokens;
    if (options != nullptr && options->image_splitting) config.do_image_splitting = *options->image_splitting;
    LFM_RETURN_IF_ERROR(config.Validate());
    LFM_ASSIGN_OR_RETURN(headers, AdmitImages(sources, limits));
  }
  PreparedPrompt out;
  LFM_ASSIGN_OR_RETURN(out.text, GuardAndRender(*m.chat_template, m.special_tokens, request,
                                                options != nullptr && options->escape_special_tokens));
  if (tokenize || !sources.empty()) {
    LFM_ASSIGN_OR_RETURN(out.ids, m.tokenizer.Encode(out.text, /*add_special_tokens=*/false));
    LFM_RETURN_IF_ERROR(AdmitTokenBudget(out.ids.size(), headers, config, m.info.max_context));
  }
  std::vector<PreprocessedImage> images;
  if (!sources.empty()) {
    PreprocessOptions po;
    po.include_pixels = encode_images;
    const DecodeOptions decode = DecodeOptionsFor(limits);
    for (size_t i = 0; i < sources.size(); ++i) {
      auto img = LoadImageSource(sources[i], decode);
      if (!img.ok()) return img.status().WithContext("image " + std::to_string(i));
      auto pre = PreprocessLfm2Vl(*img, config, po);
      if (!pre.ok()) return pre.status().WithContext("image " + std::to_string(i) + " (" + sources[i] + ")");
      images.push_back(std::move(pre).value());
    }
    LFM_ASSIGN_OR_RETURN(out.text, ExpandPromptImages(out.text, images, config));
  }
  out.num_images = images.size();
  if (tokenize && !images.empty()) {  // the image expansion changed the text
    LFM_ASSIGN_OR_RETURN(out.ids, m.tokenizer.Encode(out.text, /*add_special_tokens=*/false));
  }
  if (encode_images && !images.empty()) {
    LFM_RETURN_IF_ERROR(EncodeWithCache(m, images, options, &out));
  }
  return out;
}

}  // namespace

Result<std::string> Engine::RenderChat(const std::string& request_json, bool expand_images,
                                       const ChatOptions* options) const {
  if (!expand_images) {
    const Impl& m = *impl_;
    if (!m.chat_template)
      return Unsupported(m.info.path + " has no usable chat template: " + m.chat_template_error.message());
    return RenderChatRequest(*m.chat_template, m.special_tokens, request_json,
                             options != nullptr && options->escape_special_tokens, LimitsFor(m, options));
  }
  LFM_ASSIGN_OR_RETURN(PreparedPrompt p, PreparePrompt(*impl_, request_json, options, false, false));
  return p.text;
}

Result<ChatResult> Engine::Chat(const std::string& request_json, const ChatOptions& options,
                                const TokenCallback& on_token) {
  LFM_ASSIGN_OR_RETURN(PreparedPrompt p, PreparePrompt(*impl_, request_json, &options, true, true));
  if (p.stopped) {
    ChatResult out;
    out.prompt = std::move(p.text);
    out.generation.finish_reason = "callback";
    return out;
  }
  auto session = NewSession();
  if (p.num_images > 0) {
    LFM_RETURN_IF_ERROR(session->AppendWithImageRows(p.ids, std::move(p.image_rows)));
  } else {
    LFM_RETURN_IF_ERROR(session->Append(p.ids));
  }
  // Besides the end of the prompt and of the reply, a snapshot where the last message begins (the
  // second-to-last <|im_start|>; the last opens the reply): a request with the same system prompt
  // or history and a new last message starts from there.
  std::vector<size_t> points;
  if (auto im_start = impl_->tokenizer.TokenToId("<|im_start|>")) {
    std::vector<size_t> starts;
    for (size_t i = 0; i < p.ids.size(); ++i)
      if (p.ids[i] == *im_start) starts.push_back(i);
    if (starts.size() >= 2) points.push_back(starts[starts.size() - 2]);
  }
  UsePrefixCache(*session, std::move(points));
  ChatResult out;
  out.prompt = std::move(p.text);
  LFM_ASSIGN_OR_RETURN(out.generation, session->Generate(options.generate, on_token));
  out.generation.timings.image_encode_ms = std::move(p.image_encode_ms);
  FillToolCalls(RawReply(*this, out.generation, options.generate.stop), &out);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct Conversation::Impl {
  Engine* engine = nullptr;
  std::unique_ptr<Session> session;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null = none
  std::string session_text;      // the text the session's tokens spell (special tokens included)
  int reprefills = 0;
  int turns = 0;
  AdmissionLimits admission;  // the engine's, for SetToolsJson
};

Conversation::Conversation(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Conversation::~Conversation() = default;
int64_t Conversation::prefilled_tokens() const { return impl_->session->prefilled_tokens(); }
int Conversation::history_reprefills() const { return impl_->reprefills; }
int Conversation::turns() const { return impl_->turns; }

Status Conversation::SetSystemPrompt(std::string system_prompt) {
  LFM_RETURN_IF_ERROR(CheckUtf8(system_prompt, "system prompt"));
  if (!impl_->messages.empty() && impl_->messages[0]["role"] == "system") impl_->messages.erase(0);
  if (!system_prompt.empty())
    // object() spelled out: a bare braced list here is read as an array of two pairs, not an object.
    impl_->messages.insert(impl_->messages.begin(),
                           nlohmann::ordered_json::object({{"role", "system"}, {"content", std::move(system_prompt)}}));
  return Status::Ok();
}

Status Conversation::SetToolsJson(const std::string& tools_json) {
  LFM_RETURN_IF_ERROR(CheckUtf8(tools_json, "tools"));
  // Size and depth before parsing; the full limits apply again to every request Send() builds.
  LFM_RETURN_IF_ERROR(AdmitRequestText(tools_json, impl_->admission));
  LFM_ASSIGN_OR_RETURN(auto t, ParseOrderedJson(tools_json, "tools", impl_->admission.max_json_depth));
  if (!t.is_array()) return InvalidArgument("tools must be a JSON array");
  impl_->tools = std::move(t);
  return Status::Ok();
}

std::unique_ptr<Conversation> Engine::NewConversation() {
  auto impl = std::make_unique<Conversation::Impl>();
  impl->engine = this;
  impl->admission = impl_->admission;
  impl->session = NewSession();
  return std::unique_ptr<Conversation>(new Conversation(std::move(impl)));
}

Result<ChatResult> Conversation::Send(const std::string& user_text, const ChatOptions& options,
                                      const TokenCallback& on_token) {
  Impl& c = *impl_;
  LFM_RETURN_IF_ERROR(CheckUtf8(user_text, "message"));
  nlohmann::ordered_json messages = c.messages;
  messages.push_back({{"role", "user"}, {"content", user_text}});
  nlohmann::ordered_json request = {{"messages", messages}, {"add_generation_prompt", true}};
  if (!c.tools.is_null()) request["tools"] = c.tools;
  // Earlier replies are model output and may end inside a UTF-8 character: replace, never throw.
  const std::string request_json = request.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  LFM_ASSIGN_OR_RETURN(std::string prompt, c.engine->RenderChat(request_json, /*expand_images=*/true, &options));

  // Reuse the cache when the new prompt extends what the session already holds; otherwise the
  // template rewrote history and the conversation is run again from the start.
  std::string delta;
  if (!c.session_text.empty() && prompt.compare(0, c.session_text.size(), c.session_text) == 0) {
    delta = prompt.substr(c.session_text.size());
  } else {
    if (!c.session_text.empty()) c.reprefills++;
    c.session->Reset();
    delta = prompt;
  }
  LFM_ASSIGN_OR_RETURN(std::vector<int32_t> delta_ids, c.engine->Tokenize(delta, /*add_special_tokens=*/false));
  LFM_RETURN_IF_ERROR(c.session->Append(delta_ids));
  ChatResult out;
  out.prompt = prompt;
  LFM_ASSIGN_OR_RETURN(out.generation, c.session->Generate(options.generate, on_token));
  if (out.generation.finish_reason == "error") {
    // The decoder cache may hold the failed step (NaN state): the next turn starts from scratch, and
    // the failed turn is not part of the conversation.
    c.session->Reset();
    c.session_text.clear();
    out.content = c.engine->Detokenize(out.generation.ids, /*skip_special_tokens=*/true);
    return out;
  }
  if (out.generation.ids.empty() && out.generation.finish_reason == "callback") {
    // The progress callback stopped prefill: the turn did not happen. The session holds part of
    // the prompt, so it is dropped and the next Send() runs the conversation again from the start.
    c.session->Reset();
    c.session_text.clear();
    return out;
  }
  FillToolCalls(RawReply(*c.engine, out.generation, options.generate.stop), &out);

  c.session_text = prompt + c.engine->Detokenize(out.generation.ids, /*skip_special_tokens=*/false);
  messages.push_back({{"role", "assistant"}, {"content", out.content}});
  c.messages = std::move(messages);
  c.turns++;
  return out;
}

}  // namespace lfm
