// What the text-mode commands tell the user on stderr after a generation: why it stopped when the
// model did not end it itself, and the error that cut it short.
#pragma once

#include <string>

#include "lfm/engine.h"

namespace lfm::cli {

// "max tokens (256) reached — raise -n", "context full (4096 tokens) — raise -c", "stop string \"###\"",
// "error: ...", or "" when the model ended the reply (EOS).
std::string StopExplanation(const Engine& engine, const Generation& g, const GenerateOptions& opts);

// Text mode, after the streamed text: prints "stopped: <why>" to stderr unless the model ended the
// reply; returns the exit code (1 when the generation ended in an error).
int ReportFinish(const char* cmd, const Engine& engine, const Generation& g, const GenerateOptions& opts);

}  // namespace lfm::cli
