// Grammar::FromRegex: the whole output is one lexeme that must fully match the regex.
#include "grammar/cfg.h"
#include "grammar/grammar.h"
#include "grammar/regex_compiler.h"

namespace lfm {

Result<std::shared_ptr<const Grammar>> Grammar::FromRegex(std::string_view regex) {
  auto rx = std::make_unique<grammar::RegexBuilder>();
  grammar::RegexCompiler rc(rx.get());
  grammar::RegexSyntax syntax;
  syntax.ecma_dot = false;
  LFM_ASSIGN_OR_RETURN(grammar::RxId r, rc.Compile(regex, grammar::CharEncoding::kUtf8, syntax));
  grammar::Cfg cfg;
  cfg.start = cfg.AddNt("start");
  cfg.AddRule(cfg.start, {cfg.Lexeme(r)});
  return FromCfg(std::move(cfg), std::move(rx));
}

}  // namespace lfm
