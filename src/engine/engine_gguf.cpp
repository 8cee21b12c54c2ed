// Engine::Load for llama.cpp GGUF files: a text model (config, weights, tokenizer and chat template
// from its metadata) and, for LFM2-VL, the mmproj GGUF with the vision tower and projector.
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "engine/engine_impl.h"
#include "engine/gguf_tokenizer.h"
#include "model/lfm2_gguf.h"
#include "model/lfm2_vl_mmproj.h"
#include "weights/gguf.h"

namespace lfm {

namespace {

// tokenizer.chat_template, with the bos/eos/pad strings its Jinja reads. Absent: chat refuses,
// naming why; completions still run.
void LoadGgufChatTemplate(const GgufHeader& h, const std::string& path, const Tokenizer& tokenizer,
                          Engine::Impl* impl) {
  const GgufValue* t = h.Find("tokenizer.chat_template");
  if (t == nullptr || t->kind != GgufValue::kString) {
    impl->chat_template_error =
        Unsupported(path + ": the GGUF file states no chat template (tokenizer.chat_template); it runs completions");
    return;
  }
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  for (auto [key, var] : {std::pair{"tokenizer.ggml.bos_token_id", "bos_token"},
                          std::pair{"tokenizer.ggml.eos_token_id", "eos_token"},
                          std::pair{"tokenizer.ggml.padding_token_id", "pad_token"}}) {
    const GgufValue* id = h.Find(key);
    if (id == nullptr || id->kind != GgufValue::kInt) continue;
    const std::string s = tokenizer.IdToToken(static_cast<int32_t>(id->i));
    if (!s.empty()) vars[var] = s;
  }
  auto tmpl = ChatTemplate::FromString(t->s, std::move(vars));
  if (tmpl.ok()) {
    impl->chat_template = std::move(tmpl).value();
  } else {
    impl->chat_template_error = tmpl.status().WithContext(path + " (tokenizer.chat_template)");
  }
}

// The vision tower + projector of an mmproj GGUF, checked against the text model it feeds.
Status LoadMmproj(const std::string& text_path, const std::string& mmproj_path, const ModelLoadOptions& mo,
                  Engine::Impl* impl) {
  LFM_ASSIGN_OR_RETURN(Lfm2VlMmproj mm, OpenLfm2VlMmproj(mmproj_path));
  const int text_hidden = impl->model->config().hidden_size;
  if (mm.config.text_hidden_size != text_hidden)
    return InvalidArgument(mmproj_path + ": clip.vision.projection_dim is " +
                           std::to_string(mm.config.text_hidden_size) + " but the text model " + text_path +
                           " has embedding_length " + std::to_string(text_hidden) +
                           " (this mmproj belongs to another model)");
  if (mm.config.vision.num_channels != 3)
    return InvalidArgument(mmproj_path + ": the patch embedding takes " + std::to_string(mm.config.vision.num_channels) +
                           " channels but the image processor makes RGB patches (3 channels)");
  VisionLoadOptions vo;
  vo.weight_dtype = VisionDTypeFor(mo.weight_dtype);
  LFM_ASSIGN_OR_RETURN(impl->vision, Lfm2VlVision::FromWeights(mm.config, mm.weights, vo));
  if (impl->vision->text_hidden() != text_hidden)
    return InvalidArgument(mmproj_path + ": the projector gives rows of " + std::to_string(impl->vision->text_hidden()) +
                           " but the text model " + text_path + " has embedding_length " + std::to_string(text_hidden));
  // The processor: what the mmproj states, the published preprocessor_config.json for the rest
  // (Lfm2VlProcessorConfig's defaults).
  Lfm2VlProcessorConfig& p = impl->processor;
  p = Lfm2VlProcessorConfig{};
  p.encoder_patch_size = mm.config.vision.patch_size;
  p.downsample_factor = mm.config.downsample_factor;
  p.image_mean = mm.image_mean;
  p.image_std = mm.image_std;
  p.field_sources["encoder_patch_size"] = mmproj_path + ": clip.vision.patch_size";
  p.field_sources["downsample_factor"] = mmproj_path + ": clip.vision.projector.scale_factor";
  LFM_RETURN_IF_ERROR(p.Validate().WithContext(mmproj_path));
  auto image_id = impl->tokenizer.TokenToId(p.image_token);
  if (!image_id)
    return InvalidArgument(text_path + ": the tokenizer has no token '" + p.image_token +
                           "' (LFM2-VL's image placeholder); is it the text model that goes with " + mmproj_path + "?");
  impl->image_token_id = *image_id;
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Engine::Impl>> LoadGgufEngineImpl(const std::string& path, const LoadOptions& options,
                                                         const ModelLoadOptions& mo) {
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  LFM_ASSIGN_OR_RETURN(std::string tokenizer_json, TokenizerJsonFromGguf(file->header(), path));
  LFM_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::FromJson(tokenizer_json, path + " (tokenizer.ggml.*)"));
  tokenizer_json = std::string();
  auto impl = std::make_unique<Engine::Impl>(std::move(tokenizer));
  LoadGgufChatTemplate(file->header(), path, impl->tokenizer, impl.get());
  file.reset();
  impl->admission = options.admission;
  LFM_ASSIGN_OR_RETURN(Lfm2Gguf g, OpenLfm2Gguf(path));
  LFM_ASSIGN_OR_RETURN(impl->model, Lfm2Model::FromWeights(g.config, g.weights, mo));
  if (!options.mmproj.empty()) LFM_RETURN_IF_ERROR(LoadMmproj(path, options.mmproj, mo, impl.get()));
  for (const auto& t : impl->tokenizer.SpecialTokenStrings()) impl->special_tokens.push_back(t);
  ReleaseResidentPagesAgain();  // every copied tensor is read: drop what later reads mapped back
  return impl;
}

}  // namespace lfm
