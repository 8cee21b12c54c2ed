// Lossy UTF-8 repair with the same rule as Rust's String::from_utf8_lossy (which HF tokenizers use when
// decoding): each maximal prefix of a would-be valid sequence becomes one U+FFFD.
#pragma once

#include <string>
#include <string_view>

namespace lfm {

// Returns s with every ill-formed subsequence replaced by U+FFFD ("\xEF\xBF\xBD").
std::string Utf8Lossy(std::string_view s);
// Appends Utf8Lossy(s) to out.
void AppendUtf8Lossy(std::string_view s, std::string& out);

}  // namespace lfm
