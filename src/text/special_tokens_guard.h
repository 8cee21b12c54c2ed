// Special-token safety for chat prompts. The rendered prompt is tokenized with special tokens
// parsed, so a user (or a tool result) writing "<|im_end|>" or "<image>" could close its turn,
// forge an assistant turn, or add image placeholders. Text that comes from messages is therefore
// checked before rendering; special tokens the template itself writes are unaffected.
//
// Two policies:
//  * reject (default): an InvalidArgument status naming the token, the message index and role, the
//    field and the byte offset.
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

// Roles whose text is checked by default: what end users and tools write.
const std::vector<std::string>& DefaultGuardedRoles();

// Checks the text of messages in `roles` (content text, text parts, tool-call names and argument
// strings, and string fields such as "name"). Empty strings in special_tokens are ignored.
Status CheckNoSpecialTokens(const std::vector<Message>& messages, const std::vector<std::string>& special_tokens,
                            const std::vector<std::string>& roles = DefaultGuardedRoles());

// Rewrites every occurrence in the text of messages in `roles` as described above.
void EscapeSpecialTokens(std::vector<Message>& messages, const std::vector<std::string>& special_tokens,
                         const std::vector<std::string>& roles = DefaultGuardedRoles());
std::string EscapeSpecialTokensInText(std::string_view text, const std::vector<std::string>& special_tokens);

}  // namespace lfm
