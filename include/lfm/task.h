// The Task contract: a task supplies its chat request, a grammar that constrains the model's output,
// and parse(text) -> a typed result. RunTask() ties them together; the engine caches compiled
// grammars, so a task's grammar is compiled once and reused across requests.
//
//   lfm::ImageAnalysisTask task({"photo.jpg"});
//   auto analysis = lfm::RunTask(*engine, task);          // Result<lfm::ImageAnalysis>
//   printf("%s\n", analysis->caption.c_str());
#pragma once

#include <string>
#include <vector>

#include "lfm/chat.h"
#include "lfm/engine.h"
#include "lfm/grammar.h"

namespace lfm {

// What ImageAnalysisTask extracts. Its JSON Schema (ImageAnalysisTask::Schema()):
//   caption       string, <= 300 chars: one or two sentences describing the image
//   objects       array of <= 20 strings (<= 60 chars each): the distinct things visible
//   visible_text  string, <= 500 chars: text readable in the image ("" if none)
//   tags          array of <= 15 strings (<= 40 chars each): short keywords (scene, style, colours)
// All four are required and no other key is allowed.
struct ImageAnalysis {
  std::string caption;
  std::vector<std::string> objects;
  std::string visible_text;
  std::vector<std::string> tags;
};

class ImageAnalysisTask {
 public:
  using Output = ImageAnalysis;
  // images: file paths or data: URIs. hint: optional extra instruction from the user.
  explicit ImageAnalysisTask(std::vector<std::string> images, std::string hint = "");

  static const std::string& Schema();
  GrammarKind grammar_kind() const { return GrammarKind::kJsonSchema; }
  const std::string& grammar_source() const { return Schema(); }
  std::string RequestJson() const;
  // Resilient: trims whitespace, drops empty and duplicate list entries (case-insensitively for
  // tags); fails only if the text is not a JSON object with a string caption.
  Result<ImageAnalysis> Parse(const std::string& text) const;

 private:
  std::vector<std::string> images_;
  std::string hint_;
};

// Runs a task: compile (or reuse) its grammar, chat with it, parse the constrained output.
template <typename Task>
Result<typename Task::Output> RunTask(Engine& engine, const Task& task, ChatOptions options = {},
                                      const TokenCallback& on_token = nullptr) {
  LFM_ASSIGN_OR_RETURN(auto grammar, engine.CompileGrammar(task.grammar_kind(), task.grammar_source()));
  options.generate.grammar = grammar;
  LFM_ASSIGN_OR_RETURN(ChatResult r, engine.Chat(task.RequestJson(), options, on_token));
  if (!r.generation.grammar_complete)
    return ResourceExhausted("the task's output was cut after " + std::to_string(r.generation.ids.size()) +
                             " tokens before it was complete (raise max_tokens)");
  return task.Parse(r.generation.text);
}

}  // namespace lfm
