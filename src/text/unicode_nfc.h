// Unicode NFC (canonical decomposition, canonical ordering, canonical composition) without ICU, on tables
// generated from Python's unicodedata by tools/unicode/gen_nfc_tables.py. Used by the NFC normalizer
// (Qwen-style tokenizer.json files).
#pragma once

#include <string>
#include <string_view>

namespace lfm {

// NFC of valid UTF-8 text (ill-formed bytes decode as U+FFFD).
std::string ToNfc(std::string_view text);
// The Unicode version of the tables.
const char* NfcUnicodeVersion();

}  // namespace lfm
