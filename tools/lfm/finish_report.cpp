#include "finish_report.h"

#include <cstdio>

#include "common_options.h"

namespace lfm::cli {

namespace {

// The stop string that ended the run: the generation's text is cut right before it, so it is the
// one the full decoded output continues with.
std::string WhichStopString(const Engine& engine, const Generation& g, const GenerateOptions& opts) {
  const std::string full = engine.Detokenize(g.ids, /*skip_special_tokens=*/true);
  for (const auto& s : opts.stop)
    if (full.size() >= g.text.size() + s.size() && full.compare(g.text.size(), s.size(), s) == 0) return s;
  return opts.stop.size() == 1 ? opts.stop[0] : std::string();
}

}  // namespace

std::string StopExplanation(const Engine& engine, const Generation& g, const GenerateOptions& opts) {
  if (g.finish_reason == "length")
    return "max tokens (" + std::to_string(opts.max_tokens) + ") reached \u2014 raise -n";
  if (g.finish_reason == "context")
    return "context full (" + std::to_string(engine.info().max_context) + " tokens) \u2014 raise -c";
  if (g.finish_reason == "stop") {
    const std::string s = WhichStopString(engine, g, opts);
    return s.empty() ? "stop string" : "stop string \"" + s + "\"";
  }
  if (g.finish_reason == "error") return "error: " + g.error;
  if (g.finish_reason == "callback") return "stopped by the caller";
  return "";
}

int ReportFinish(const char* cmd, const Engine& engine, const Generation& g, const GenerateOptions& opts) {
  const std::string why = StopExplanation(engine, g, opts);
  if (g.finish_reason == "error") {
    std::fprintf(stderr, "\nlfm %s: stopped after %zu tokens: error: %s\n", cmd, g.ids.size(), g.error.c_str());
    return kExitFailure;
  }
  if (!why.empty()) std::fprintf(stderr, "stopped: %s\n", why.c_str());
  return kExitOk;
}

}  // namespace lfm::cli
