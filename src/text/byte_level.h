// GPT-2's reversible byte <-> printable-character table used by the ByteLevel pre-tokenizer and decoder:
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lfm::byte_level {

// Appends the UTF-8 of the character standing for each byte of `bytes`.
void EncodeBytes(std::string_view bytes, std::string& out);
// The byte a code point stands for, or -1 if it is not one of the 256 table characters.
int CharToByte(uint32_t cp);
// Decodes the characters of `token` back to bytes. If any character is outside the table, the token's
// own UTF-8 bytes are appended instead (HF does the same for e.g. added tokens). Returns false then.
bool DecodeToken(std::string_view token, std::string& out);

}  // namespace lfm::byte_level
