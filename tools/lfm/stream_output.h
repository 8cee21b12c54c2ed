// The text `lfm generate`, `lfm run` and `lfm chat` stream to stdout while a reply is generated.
#pragma once

#include "lfm/engine.h"

namespace lfm::cli {

// Writes each newly complete piece of text to stdout as it comes (flushed, so a pipe sees it at
// once), or with --show-tokens each token as [id 'piece'] (text held back to the end, id -1, is
// then not printed). Null with --json: the result is printed whole at the end instead.
TokenCallback StdoutTokenPrinter(const Engine& engine, bool show_tokens, bool json);

}  // namespace lfm::cli
