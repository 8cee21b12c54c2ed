// The tokenizer of a llama.cpp GGUF file (tokenizer.ggml.* metadata) as a Hugging Face
// tokenizer.json, so Engine::Load can run a .gguf file with the same Tokenizer class it uses for
// a model directory. Only the byte-level BPE kind LFM2 uses (model "gpt2", pre-tokenizer "lfm2" or
// one of the LLaMA-3 family that share its split regex) is supported; others are refused by name.
#pragma once

#include <string>

#include "lfm/status.h"
#include "weights/gguf.h"

namespace lfm {

Result<std::string> TokenizerJsonFromGguf(const GgufHeader& h, const std::string& path);

}  // namespace lfm
