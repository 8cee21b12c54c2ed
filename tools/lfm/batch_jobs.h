// The jobs file of `lfm batch`: one JSON object a line,
//   {"id": "a1", "images": ["img/1.jpg"], "prompt": "Describe it.", "schema": {...}, "max_tokens": 64}
// read as a stream (one line in memory per worker), never loaded whole.
#pragma once

#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "lfm/chat.h"
#include "lfm/status.h"

namespace lfm::cli {

// One job, ready to run: the chat request and what to change in the command line's options.
struct BatchJob {
  std::string request_json;           // OpenAI-shaped: {"messages": [...]}
  std::optional<std::string> schema;  // JSON Schema text ("schema")
  std::string task;                   // "image-analysis" or empty
  std::vector<std::string> images;    // resolved paths (for the task)
  std::string prompt;                 // the task's hint
  nlohmann::json overrides;           // sampling / length keys given by the job
};

// The job's id as JSON text ("\"a1\"", "7"): a string or an integer. Error: the line is not a JSON
// object or has no usable id (such a line cannot be recorded or resumed, so the batch refuses it).
Result<std::string> ParseJobId(const std::string& line);

// Parses one job line; relative image paths are taken relative to `base_dir` (the jobs file's
// folder). Errors name the key.
Result<BatchJob> ParseBatchJob(const std::string& line, const std::string& base_dir);

// Applies a job's overrides (temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, seed,
// max_tokens, min_new_tokens, stop) to the options the command line resolved.
Status ApplyJobOverrides(const nlohmann::json& overrides, GenerateOptions* opts);

// Hands out the lines of the jobs file one at a time to any number of threads.
class JobReader {
 public:
  static Result<std::unique_ptr<JobReader>> Open(const std::string& path);
  // The next non-blank line and its 1-based number; false at the end of the file.
  bool Next(std::string* line, int* line_number);

 private:
  std::ifstream in_;
  std::mutex mu_;
  int line_number_ = 0;
};

}  // namespace lfm::cli
