// `lfm quantize`: an LFM2 (or LFM2-VL's text half) model directory written as a llama.cpp GGUF text
// model: general.architecture lfm2 with every lfm2.* hyper-parameter, the tokenizer as
// tokenizer.ggml.* (tokens, token types, merges, special ids, add_bos) and the chat template, and the
// tensors under llama.cpp's names. Matrices of the decoder become `type`; with q8_0/q4_0 they are
// quantized exactly as Engine::Load's `--dtype q8_0|q4_0` does (from the stored values, per row) and
// the token embedding stays as stored, as it does at load; 1-D tensors and the short-conv kernel are
// written f32 (llama.cpp's converter does the same).
#pragma once

#include <functional>
#include <string>

#include "lfm/status.h"
#include "tensor/dtype.h"

namespace lfm {

// progress(bytes written, total bytes) after each tensor.
Status ExportLfm2TextGguf(const std::string& model_dir, DType type, const std::string& out_path,
                          const std::function<void(size_t, size_t)>& progress = nullptr);

}  // namespace lfm
