// Constrained decoding: compile a JSON Schema, a Lark grammar or a regular expression once, then
// pass it to any number of requests (GenerateOptions::grammar). Every generated token keeps the
// output a prefix of the language; EOS is allowed exactly when the output is complete.
#pragma once

#include <memory>
#include <string>

namespace lfm {

enum class GrammarKind { kJsonSchema, kLark, kRegex };
const char* GrammarKindName(GrammarKind kind);

// Immutable and thread-safe; share it across requests. Made by Engine::CompileGrammar.
class CompiledGrammar {
 public:
  GrammarKind kind() const { return kind_; }
  const std::string& source() const { return source_; }

  struct Impl;
  const Impl& impl() const { return *impl_; }
  CompiledGrammar(GrammarKind kind, std::string source, std::shared_ptr<const Impl> impl)
      : kind_(kind), source_(std::move(source)), impl_(std::move(impl)) {}

 private:
  GrammarKind kind_;
  std::string source_;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace lfm
