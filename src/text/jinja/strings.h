// Python str operations on UTF-8 strings (whitespace, case mapping, split/strip), as the Jinja
// filters and string methods need them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lfm::jinja {

bool PyIsSpace(uint32_t cp);
// str.upper()/lower() for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic.
uint32_t PyToUpper(uint32_t cp);
uint32_t PyToLower(uint32_t cp);
bool PyIsAlpha(uint32_t cp);
bool PyIsUpperCase(uint32_t cp);
bool PyIsLowerCase(uint32_t cp);

std::string PyUpper(std::string_view s);
std::string PyLower(std::string_view s);
std::string PyCapitalize(std::string_view s);
std::string PyTitle(std::string_view s);
// chars == nullopt strips Python whitespace; otherwise the given set of code points.
std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep, maxsplit) / str.rsplit; sep == nullopt splits on runs of whitespace.
std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit,
                                 bool from_right);
std::string PyReplace(std::string_view s, std::string_view old_s, std::string_view new_s, int64_t count);
std::vector<std::string> PySplitLines(std::string_view s, bool keepends);

}  // namespace lfm::jinja
