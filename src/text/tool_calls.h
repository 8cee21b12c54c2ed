// LFM2 tool calls in model output:
//   <|tool_call_start|>[get_weather(city="Paris", days=2), search(q='x')]<|tool_call_end|>
// The list holds Python-style calls with keyword arguments whose values are Python literals:
// strings in either quote style with escapes, ints, floats, True/False/None, lists, tuples and
// dicts (JSON's true/false/null are accepted too). A list item may also be a JSON object
// {"name": ..., "arguments": {...}} (LFM2's JSON tool-call mode).
//
// Text outside the markers is kept as content. A block that does not parse, or a start marker
// without an end marker, is reported with its byte offset and raw text instead of being dropped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lfm {

struct ParsedToolCall {
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
  size_t offset = 0;  // byte offset of the call (its name) in the model output
};

struct ToolCallParseError {
  size_t offset = 0;  // byte offset in the model output where parsing failed
  std::string message;
  std::string raw;  // the whole malformed block, markers included
};

struct ToolCallParseResult {
  std::string content;  // model output with the tool-call blocks removed
  std::vector<ParsedToolCall> calls;
  std::vector<ToolCallParseError> errors;
  bool ok() const { return errors.empty(); }
};

struct ToolCallMarkers {
  std::string start = "<|tool_call_start|>";
  std::string end = "<|tool_call_end|>";
};

ToolCallParseResult ParseToolCalls(std::string_view text, const ToolCallMarkers& markers = {});

// Parses one Python literal (as written inside a tool call) into JSON; tuples become arrays.
// On failure returns false and sets *error_offset (relative to `text`) and *error.
bool ParsePythonLiteral(std::string_view text, nlohmann::ordered_json* out, size_t* error_offset, std::string* error);

}  // namespace lfm
