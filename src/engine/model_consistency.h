// Cross-file checks at load time. Each model-directory file is checked on its own as it is parsed;
// these checks compare values that one file uses to size a buffer with what another file's reader
// expects, so that an inconsistent directory is refused at load (naming both files and fields)
// instead of reading past a buffer or producing garbage at run time.
#pragma once

#include <string>
#include <vector>

#include "image/lfm2vl_processor.h"
#include "lfm/status.h"
#include "model/generation_config.h"
#include "model/lfm2_config.h"
#include "model/lfm2_vl_config.h"

namespace lfm {

// The processor cuts pixels into encoder_patch_size^2 x 3 patches and counts downsample_factor^2
// patches per image token; the vision tower reads num_channels * patch_size^2 floats per patch and
// unshuffles by config.json's downsample_factor. Any mismatch makes the tower read past the pixel
// buffer (or the projector give a different number of rows than the prompt has placeholders).
Status CheckProcessorMatchesVision(const std::string& model_dir, const Lfm2VlProcessorConfig& processor,
                                   const Lfm2VlVisionConfig& vision);

// EOS / BOS / PAD ids of generation_config.json and config.json must name rows of the embedding
// and logit tables (config.json vocab_size).
Status CheckSpecialIdsInVocab(const std::string& model_dir, const GenerationConfig& generation,
                              const Lfm2Config& config);

}  // namespace lfm
