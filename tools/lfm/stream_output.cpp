#include "stream_output.h"

#include <cstdio>
#include <string_view>

namespace lfm::cli {

TokenCallback StdoutTokenPrinter(const Engine& engine, bool show_tokens, bool json) {
  if (json) return nullptr;
  return [&engine, show_tokens](int32_t id, std::string_view piece) {
    if (!show_tokens) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
    } else if (id >= 0) {
      std::printf("[%d '%s']", id, engine.TokenString(id).c_str());
    }
    std::fflush(stdout);
    return true;
  };
}

}  // namespace lfm::cli
