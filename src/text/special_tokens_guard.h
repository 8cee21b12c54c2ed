// Special-token safety for chat prompts. The rendered prompt is tokenized with special tokens
// parsed, so any request text that reaches the template carrying "<|im_end|>" or "<image>" could
// close a turn, forge an assistant or system turn, or add image placeholders. That holds for every
// channel, not only what users type: system text, assistant history (content, reasoning, tool-call
// ids, names and arguments), extra message fields, tool definitions (names, descriptions and every
// string or key nested in parameter schemas) and template kwargs all end up in the prompt. Every
// such string is therefore checked before rendering; special tokens the template itself writes are
// unaffected. Role names are not free text at all: they must be one of the template's roles.
//
// Two policies:
//  * reject (default): an InvalidArgument status naming the JSON path of the string
//    (messages[2].content[1].text, tools[0].function.parameters.properties.x.description), the
//    token and the byte offset.
//  * escape: each occurrence is broken by inserting U+200B ZERO WIDTH SPACE after its first code
//    point ("<|im_end|>" -> "<\u200B|im_end|>"). The text keeps its meaning for the model and reads
//    the same to a person, but can no longer match the special token, so it is tokenized as plain
//    BPE text. (Routing those bytes through BPE without changing them would need span-aware
//    tokenization of the rendered prompt; the zero-width space keeps the prompt a plain string.)
//    A special token that is a single code point cannot be broken up and becomes U+FFFD.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lfm/status.h"
#include "text/messages.h"

namespace lfm {

struct SpecialTokenMatch {
  size_t offset;      // byte offset in the text
  std::string token;  // the special token found (the longest one at the earliest offset)
};

// The earliest (then longest) occurrence of any token of `special_tokens` in `text`.
std::optional<SpecialTokenMatch> FindSpecialToken(std::string_view text, const std::vector<std::string>& special_tokens);

// The roles LFM2 / LFM2-VL chat templates render: system, user, assistant, tool.
const std::vector<std::string>& Lfm2ChatRoles();
// Refuses a message whose role is not in `known_roles`, naming messages[i].role. A role is written
// verbatim after <|im_start|>, so an unknown one is either a mistake or a forged turn header.
Status CheckRoles(const std::vector<Message>& messages, const std::vector<std::string>& known_roles = Lfm2ChatRoles());

// Checks every string of the request that enters the template (see the top of this file), keys of
// free-form objects included. Empty strings in special_tokens are ignored.
Status CheckNoSpecialTokens(const ChatRequest& request, const std::vector<std::string>& special_tokens);
Status CheckNoSpecialTokens(const std::vector<Message>& messages, const std::vector<std::string>& special_tokens);

// Rewrites every occurrence in the same strings (and keys) as described above.
void EscapeSpecialTokens(ChatRequest& request, const std::vector<std::string>& special_tokens);
void EscapeSpecialTokens(std::vector<Message>& messages, const std::vector<std::string>& special_tokens);
std::string EscapeSpecialTokensInText(std::string_view text, const std::vector<std::string>& special_tokens);

}  // namespace lfm
