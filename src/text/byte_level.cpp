#include "text/byte_level.h"

#include <array>

#include "base/utf8.h"

namespace lfm::byte_level {
namespace {

struct Tables {
  std::array<uint16_t, 256> byte_to_cp{};
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 512> cp_to_byte{};  // every table code point is < 0x144

  Tables() {
    cp_to_byte.fill(-1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint16_t cp = printable ? static_cast<uint16_t>(b) : static_cast<uint16_t>(256 + next++);
      byte_to_cp[b] = cp;
      AppendUtf8(cp, byte_to_utf8[b]);
      cp_to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

}  // namespace

void EncodeBytes(std::string_view bytes, std::string& out) {
  const Tables& t = GetTables();
  for (char c : bytes) out += t.byte_to_utf8[static_cast<uint8_t>(c)];
}

int CharToByte(uint32_t cp) { return cp < 512 ? GetTables().cp_to_byte[cp] : -1; }

bool DecodeToken(std::string_view token, std::string& out) {
  size_t start = out.size();
  size_t i = 0;
  while (i < token.size()) {
    int b = CharToByte(DecodeUtf8(token, i));
    if (b < 0) {
      out.resize(start);
      out.append(token);
      return false;
    }
    out += static_cast<char>(b);
  }
  return true;
}

}  // namespace lfm::byte_level
