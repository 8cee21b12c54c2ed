// Recursive-descent parser for Jinja2 templates (the statement and expression grammar of Jinja2's
// parser.py, minus template inheritance and includes, which chat templates cannot use).
#pragma once

#include <string>
#include <vector>

#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"

namespace lfm::jinja {

// Throws jinja::Error (with the byte offset) on a syntax error or when nesting passes max_depth.
Body ParseTemplate(const std::vector<Token>& tokens, int max_depth);

}  // namespace lfm::jinja
