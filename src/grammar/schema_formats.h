// JSON Schema `format` values asserted by the grammar, as regexes over the decoded string.
#pragma once

#include <string>

namespace lfm::grammar {

// Full-match regex for a supported format, or nullptr if the format is not supported.
const char* FormatRegex(const std::string& format);

}  // namespace lfm::grammar
