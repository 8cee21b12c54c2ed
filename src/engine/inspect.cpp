// lfm::InspectModel: a model's facts from its headers and small files, no weights loaded (the
// safetensors / GGUF files are mmap'd and only their headers are parsed).
#include "lfm/inspect.h"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_input.h"
#include "base/mapped_file.h"
#include "engine/engine_impl.h"
#include "engine/gguf_tokenizer.h"
#include "image/lfm2vl_processor.h"
#include "model/generation_config.h"
#include "model/lfm2_config.h"
#include "model/lfm2_gguf.h"
#include "tensor/dtype.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"
#include "weights/gguf.h"
#include "weights/weight_store.h"

namespace lfm {

namespace {

void FillConfig(const Lfm2Config& c, ModelInspection* m) {
  m->model_type = c.model_type;
  m->is_vl = c.is_vl;
  m->vocab_size = c.vocab_size;
  m->hidden_size = c.hidden_size;
  m->intermediate_size = c.intermediate_size;
  m->num_layers = c.num_hidden_layers;
  m->num_attention_heads = c.num_attention_heads;
  m->num_key_value_heads = c.num_key_value_heads;
  m->head_dim = c.head_dim;
  m->conv_kernel = c.conv_L_cache;
  for (auto t : c.layer_types) m->layer_types.push_back(t == Lfm2LayerType::kAttention ? "attention" : "conv");
  m->max_position_embeddings = c.max_position_embeddings;
  m->rope_theta = c.rope_theta;
  m->norm_eps = c.norm_eps;
  m->tie_word_embeddings = c.tie_word_embeddings;
  if (c.bos_token_id >= 0) m->bos_id = c.bos_token_id;
  for (int id : c.eos_token_ids) m->eos_ids.push_back(id);
}

void FillTokenizer(const Tokenizer& t, ModelInspection* m) {
  m->tokenizer_vocab_size = t.vocab_size();
  for (const auto& s : t.SpecialTokenStrings())
    if (auto id = t.TokenToId(s)) m->special_tokens.push_back({s, *id});
  std::sort(m->special_tokens.begin(), m->special_tokens.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  if (auto bos = t.bos_id()) m->bos_id = *bos;
}

void SortTensors(ModelInspection* m) {
  std::sort(m->tensors.begin(), m->tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
}

Status InspectGguf(const std::string& path, ModelInspection* m) {
  m->format = "gguf";
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  const GgufHeader& h = file->header();
  if (const GgufValue* a = h.Find("general.architecture"); a != nullptr && a->kind == GgufValue::kString)
    m->architecture = a->s;
  for (const auto& t : h.tensors)
    m->tensors.push_back({t.name, t.shape, DTypeName(t.dtype), static_cast<int64_t>(t.nbytes), path});
  SortTensors(m);
  auto config = Lfm2ConfigFromGguf(h, path);
  if (config.ok()) {
    FillConfig(*config, m);
  } else {
    m->config_error = config.status().message();
  }
  m->tokenizer_source = "gguf tokenizer.ggml.*";
  auto tok_json = TokenizerJsonFromGguf(h, path);
  if (tok_json.ok()) {
    auto tok = Tokenizer::FromJson(*tok_json, path + " (tokenizer.ggml.*)");
    if (tok.ok()) {
      FillTokenizer(*tok, m);
    } else {
      m->tokenizer_error = tok.status().message();
    }
  } else {
    m->tokenizer_error = tok_json.status().message();
  }
  if (const GgufValue* v = h.Find("tokenizer.ggml.bos_token_id"); v != nullptr && v->kind == GgufValue::kInt)
    m->bos_id = static_cast<int32_t>(v->i);
  if (const GgufValue* v = h.Find("tokenizer.ggml.eos_token_id"); v != nullptr && v->kind == GgufValue::kInt) {
    m->eos_ids.clear();
    m->eos_ids.push_back(static_cast<int32_t>(v->i));
  }
  if (const GgufValue* v = h.Find("tokenizer.chat_template"); v != nullptr && v->kind == GgufValue::kString) {
    m->chat_template = v->s;
    m->chat_template_file = path + " (tokenizer.chat_template)";
  }
  return Status::Ok();
}

Status InspectDirectory(const std::string& dir, ModelInspection* m) {
  m->format = "hf-directory";
  LFM_ASSIGN_OR_RETURN(Lfm2Config config, LoadLfm2Config(dir + "/config.json"));
  FillConfig(config, m);
  {
    LFM_ASSIGN_OR_RETURN(std::string raw, ReadFileToString(dir + "/config.json", file_limits::kConfig));
    LFM_ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(raw, dir + "/config.json"));
    const auto it = j.is_object() ? j.find("lfm_cpp_random_weights") : j.end();
    m->random_weights = it != j.end() && it->is_boolean() && it->get<bool>();
  }
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<WeightStore> store, WeightStore::OpenDirectory(dir));
  for (const auto& name : store->Names()) {
    LFM_ASSIGN_OR_RETURN(TensorView v, store->Get(name));
    m->tensors.push_back({name, v.shape, DTypeName(v.dtype), v.nbytes(), store->SourceFile(name)});
  }
  SortTensors(m);
  m->tokenizer_source = dir + "/tokenizer.json";
  auto tok = Tokenizer::FromFile(dir + "/tokenizer.json");
  if (tok.ok()) {
    FillTokenizer(*tok, m);
  } else {
    m->tokenizer_error = tok.status().message();
  }
  auto tmpl = ChatTemplate::FromModelDir(dir);
  if (tmpl.ok()) {
    m->chat_template = tmpl->source();
    m->chat_template_file =
        FileExists(dir + "/chat_template.jinja") ? dir + "/chat_template.jinja" : dir + "/tokenizer_config.json";
  }
  if (config.is_vl) {
    LFM_ASSIGN_OR_RETURN(Lfm2VlProcessorConfig p, Lfm2VlProcessorConfig::FromModelDir(dir));
    ProcessorInspection pi;
    pi.do_image_splitting = p.do_image_splitting;
    pi.tile_size = p.tile_size;
    pi.min_tiles = p.min_tiles;
    pi.max_tiles = p.max_tiles;
    pi.use_thumbnail = p.use_thumbnail;
    pi.min_image_tokens = p.min_image_tokens;
    pi.max_image_tokens = p.max_image_tokens;
    pi.encoder_patch_size = p.encoder_patch_size;
    pi.downsample_factor = p.downsample_factor;
    pi.max_pixels_tolerance = p.max_pixels_tolerance;
    pi.image_token = p.image_token;
    m->processor = pi;
  }
  const std::string gen_path = dir + "/generation_config.json";
  if (FileExists(gen_path)) {
    LFM_ASSIGN_OR_RETURN(GenerationConfig g, LoadGenerationConfig(gen_path));
    m->default_sampling = SamplingParamsFromGeneration(g);
    m->max_new_tokens = g.max_new_tokens;
    // EOS as the engine uses it: generation_config.json wins over config.json.
    if (!g.eos_token_ids.empty()) m->eos_ids.assign(g.eos_token_ids.begin(), g.eos_token_ids.end());
  } else {
    m->default_sampling = SamplingParamsFromGeneration(GenerationConfig{});
  }
  return Status::Ok();
}

}  // namespace

Result<ModelInspection> InspectModel(const std::string& path) {
  ModelInspection m;
  m.path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return NotFound("'" + path + "' does not exist");
  if (!S_ISDIR(st.st_mode)) {
    if (path.size() < 5 || path.compare(path.size() - 5, 5, ".gguf") != 0)
      return InvalidArgument("'" + path + "' is a file but not a .gguf file (give a model directory or a .gguf file)");
    m.default_sampling = SamplingParamsFromGeneration(GenerationConfig{});
    LFM_RETURN_IF_ERROR(InspectGguf(path, &m));
    return m;
  }
  if (!FileExists(path + "/config.json"))
    return NotFound("'" + path + "' is not a model directory: no config.json there");
  LFM_RETURN_IF_ERROR(InspectDirectory(path, &m));
  return m;
}

}  // namespace lfm
