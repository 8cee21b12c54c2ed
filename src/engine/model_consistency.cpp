#include "engine/model_consistency.h"

namespace lfm {
namespace {

// "<dir>/processor_config.json: encoder_patch_size" when a file set it, else the default's name.
std::string ProcessorSource(const Lfm2VlProcessorConfig& p, const std::string& field) {
  auto it = p.field_sources.find(field);
  return it != p.field_sources.end() ? it->second : "the processor's default " + field;
}

}  // namespace

Status CheckProcessorMatchesVision(const std::string& model_dir, const Lfm2VlProcessorConfig& processor,
                                   const Lfm2VlVisionConfig& vision) {
  const std::string config = model_dir + "/config.json";
  if (vision.vision.num_channels != 3) {
    return InvalidArgument(config + ": vision_config.num_channels is " + std::to_string(vision.vision.num_channels) +
                           " but the image processor makes RGB patches (3 channels)");
  }
  if (processor.encoder_patch_size != vision.vision.patch_size) {
    return InvalidArgument(ProcessorSource(processor, "encoder_patch_size") + " is " +
                           std::to_string(processor.encoder_patch_size) + " but " + config +
                           ": vision_config.patch_size is " + std::to_string(vision.vision.patch_size) +
                           " (the vision tower would read patches of the wrong size)");
  }
  if (processor.downsample_factor != vision.downsample_factor) {
    return InvalidArgument(ProcessorSource(processor, "downsample_factor") + " is " +
                           std::to_string(processor.downsample_factor) + " but " + config +
                           ": downsample_factor is " + std::to_string(vision.downsample_factor) +
                           " (the image token count would not match the projector's rows)");
  }
  return Status::Ok();
}

Status CheckSpecialIdsInVocab(const std::string& model_dir, const GenerationConfig& generation,
                              const Lfm2Config& config) {
  const int vocab = config.vocab_size;
  auto check = [&](const std::string& file, const char* key, int id) -> Status {
    if (id >= 0 && id < vocab) return Status::Ok();
    return InvalidArgument(model_dir + "/" + file + ": " + key + " " + std::to_string(id) +
                           " is outside the vocabulary (config.json vocab_size " + std::to_string(vocab) + ")");
  };
  for (int id : generation.eos_token_ids) LFM_RETURN_IF_ERROR(check("generation_config.json", "eos_token_id", id));
  if (generation.bos_token_id) LFM_RETURN_IF_ERROR(check("generation_config.json", "bos_token_id", *generation.bos_token_id));
  if (generation.pad_token_id) LFM_RETURN_IF_ERROR(check("generation_config.json", "pad_token_id", *generation.pad_token_id));
  for (int id : config.eos_token_ids) LFM_RETURN_IF_ERROR(check("config.json", "eos_token_id", id));
  if (config.bos_token_id >= 0) LFM_RETURN_IF_ERROR(check("config.json", "bos_token_id", config.bos_token_id));
  if (config.pad_token_id >= 0) LFM_RETURN_IF_ERROR(check("config.json", "pad_token_id", config.pad_token_id));
  return Status::Ok();
}

}  // namespace lfm
