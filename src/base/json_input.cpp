#include "base/json_input.h"

#include <new>
#include <stdexcept>

namespace lfm {
namespace {

// nlohmann's what() starts with "[json.exception.parse_error.101] parse error at line 1, column 5: ";
// the byte offset we report says the same more usefully, so keep only the reason.
std::string ReasonOf(const std::exception& e) {
  std::string_view w = e.what();
  if (w.rfind("[json.exception.", 0) == 0) {
    size_t close = w.find("] ");
    if (close != std::string_view::npos) w.remove_prefix(close + 2);
  }
  size_t colon = w.find(": ");
  if (w.rfind("parse error", 0) == 0 && colon != std::string_view::npos) w.remove_prefix(colon + 2);
  return std::string(w);
}

template <typename Json>
Result<Json> ParseChecked(std::string_view text, std::string_view input_name, size_t max_depth) {
  LFM_RETURN_IF_ERROR(CheckJsonDepth(text, input_name, max_depth));
  const std::string name(input_name);
  // nlohmann stops at a NUL byte as if the input ended there, so "[1]\0<anything>" would parse
  // as [1] and the rest be silently ignored. No valid JSON text holds a raw NUL.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos)
    return InvalidArgument(name + ": invalid JSON at byte " + std::to_string(nul) + ": a NUL byte");
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points one past the offending character; report a 0-based offset.
    const size_t at = e.byte > 0 ? e.byte - 1 : 0;
    return InvalidArgument(name + ": invalid JSON at byte " + std::to_string(at) + ": " + ReasonOf(e));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(name + ": invalid JSON: " + ReasonOf(e));
  } catch (const std::bad_alloc&) {
    return ResourceExhausted(name + ": out of memory while parsing " + std::to_string(text.size()) +
                             " bytes of JSON");
  } catch (const std::exception& e) {
    return InvalidArgument(name + ": invalid JSON: " + e.what());
  }
}

}  // namespace

Status CheckJsonDepth(std::string_view text, std::string_view input_name, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          return InvalidArgument(std::string(input_name) + ": JSON nesting deeper than " +
                                 std::to_string(max_depth) + " at byte " + std::to_string(i));
        }
        break;
      case ']':
      case '}':
        // An unmatched closer is a syntax error the parser reports; never let it lower the count
        // below zero, which would let a later run of openers go unnoticed.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view input_name, size_t max_depth) {
  return ParseChecked<nlohmann::json>(text, input_name, max_depth);
}

Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text, std::string_view input_name,
                                                size_t max_depth) {
  return ParseChecked<nlohmann::ordered_json>(text, input_name, max_depth);
}

}  // namespace lfm
