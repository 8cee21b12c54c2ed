#include "engine/gguf_export.h"

#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/json_input.h"
#include "base/mapped_file.h"
#include "model/generation_config.h"
#include "model/lfm2_config.h"
#include "model/lfm2_gguf.h"
#include "tensor/convert.h"
#include "text/chat_template.h"
#include "weights/gguf_writer.h"
#include "weights/weight_store.h"

namespace lfm {

namespace {

// llama.cpp token types.
enum : int32_t { kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5 };

struct GgufVocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
};

// tokenizer.json (byte-level BPE) -> llama.cpp's tokens by id, token types and "a b" merges.
Result<GgufVocab> VocabFromTokenizerJson(const std::string& path, int vocab_size) {
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, file_limits::kTokenizer));
  LFM_ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(text, path));
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    return InvalidArgument(path + ": no 'model' object");
  const nlohmann::json& m = j["model"];
  if (m.value("type", "") != "BPE") return Unsupported(path + ": only BPE tokenizers can be written to GGUF");
  if (!m.contains("vocab") || !m["vocab"].is_object()) return InvalidArgument(path + ": model.vocab missing");
  GgufVocab v;
  v.tokens.assign(vocab_size, "");
  v.types.assign(vocab_size, kUnused);
  auto put = [&](const std::string& tok, int64_t id, int32_t type) -> Status {
    if (id < 0 || id >= vocab_size)
      return InvalidArgument(path + ": token '" + tok + "' has id " + std::to_string(id) +
                             " outside the config's vocab_size " + std::to_string(vocab_size));
    v.tokens[id] = tok;
    v.types[id] = type;
    return Status::Ok();
  };
  for (const auto& [tok, id] : m["vocab"].items()) {
    if (!id.is_number_integer()) return InvalidArgument(path + ": model.vocab['" + tok + "'] is not an integer");
    LFM_RETURN_IF_ERROR(put(tok, id.get<int64_t>(), kNormal));
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& a : j["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a.contains("content")) continue;
      LFM_RETURN_IF_ERROR(put(a["content"].get<std::string>(), a["id"].get<int64_t>(),
                              a.value("special", false) ? kControl : kUserDefined));
    }
  // Ids the tokenizer never names (vocab_size padding): placeholders, as llama.cpp's converter writes.
  for (int i = 0; i < vocab_size; ++i)
    if (v.types[i] == kUnused) v.tokens[i] = "[PAD" + std::to_string(i) + "]";
  if (m.contains("merges") && m["merges"].is_array())
    for (const auto& mg : m["merges"]) {
      if (mg.is_string()) {
        v.merges.push_back(mg.get<std::string>());
      } else if (mg.is_array() && mg.size() == 2 && mg[0].is_string() && mg[1].is_string()) {
        v.merges.push_back(mg[0].get<std::string>() + " " + mg[1].get<std::string>());
      } else {
        return InvalidArgument(path + ": model.merges: an entry is neither \"a b\" nor [a, b]");
      }
    }
  return v;
}

// Whether the tokenizer's post-processor puts BOS first (llama.cpp's add_bos_token).
bool PostProcessorAddsBos(const std::string& path, const std::string& bos) {
  auto text = ReadFileToString(path, file_limits::kTokenizer);
  if (!text.ok()) return false;
  auto j = ParseJson(*text, path);
  if (!j.ok() || !j->is_object() || !j->contains("post_processor")) return false;
  return (*j)["post_processor"].dump().find("\"" + bos + "\"") != std::string::npos;
}

bool IsDecoderMatrix(const std::string& gguf_name) {
  for (const char* s : {"ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", "attn_q.weight", "attn_k.weight",
                        "attn_v.weight", "attn_output.weight", "shortconv.in_proj.weight", "shortconv.out_proj.weight"}) {
    const std::string suffix = std::string(".") + s;
    if (gguf_name.size() > suffix.size() && gguf_name.compare(gguf_name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

}  // namespace

Status ExportLfm2TextGguf(const std::string& dir, DType type, const std::string& out_path,
                          const std::function<void(size_t, size_t)>& progress) {
  if (type != DType::kF32 && type != DType::kF16 && type != DType::kBF16 && type != DType::kQ8_0 &&
      type != DType::kQ4_0)
    return InvalidArgument("GGUF export: type must be f32, f16, bf16, q8_0 or q4_0");
  LFM_ASSIGN_OR_RETURN(Lfm2Config c, LoadLfm2Config(dir + "/config.json"));
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<WeightStore> owned, WeightStore::OpenDirectory(dir));
  std::shared_ptr<const WeightStore> store(std::move(owned));
  GenerationConfig gen;
  if (FileExists(dir + "/generation_config.json")) {
    LFM_ASSIGN_OR_RETURN(gen, LoadGenerationConfig(dir + "/generation_config.json"));
  }
  LFM_ASSIGN_OR_RETURN(GgufVocab vocab, VocabFromTokenizerJson(dir + "/tokenizer.json", c.vocab_size));

  GgufWriter w;
  w.SetString("general.architecture", "lfm2");
  w.SetString("general.type", "model");
  const size_t slash = dir.find_last_of('/', dir.size() > 1 && dir.back() == '/' ? dir.size() - 2 : std::string::npos);
  w.SetString("general.name", slash == std::string::npos ? dir : dir.substr(slash + 1));
  // llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7, MOSTLY_BF16 32.
  w.SetU32("general.file_type", type == DType::kF32    ? 0
                                : type == DType::kF16  ? 1
                                : type == DType::kQ4_0 ? 2
                                : type == DType::kQ8_0 ? 7
                                                       : 32);
  w.SetU32("general.quantization_version", 2);
  const std::string& p = c.weight_prefix;
  LFM_ASSIGN_OR_RETURN(TensorView w1, store->Get(p + "layers.0.feed_forward.w1.weight"));
  w.SetU32("lfm2.block_count", c.num_hidden_layers);
  w.SetU32("lfm2.context_length", c.max_position_embeddings);
  w.SetU32("lfm2.embedding_length", c.hidden_size);
  w.SetU32("lfm2.feed_forward_length", static_cast<uint32_t>(w1.rows()));
  w.SetU32("lfm2.attention.head_count", c.num_attention_heads);
  std::vector<int32_t> kv;
  for (int l = 0; l < c.num_hidden_layers; ++l) kv.push_back(c.is_attention(l) ? c.num_key_value_heads : 0);
  w.SetI32Array("lfm2.attention.head_count_kv", kv);
  if (c.head_dim * c.num_attention_heads != c.hidden_size) {
    w.SetU32("lfm2.attention.key_length", c.head_dim);
    w.SetU32("lfm2.attention.value_length", c.head_dim);
  }
  w.SetF32("lfm2.rope.freq_base", static_cast<float>(c.rope_theta));
  w.SetF32("lfm2.attention.layer_norm_rms_epsilon", c.norm_eps);
  w.SetU32("lfm2.vocab_size", c.vocab_size);
  w.SetU32("lfm2.shortconv.l_cache", c.conv_L_cache);

  w.SetString("tokenizer.ggml.model", "gpt2");
  w.SetString("tokenizer.ggml.pre", "lfm2");
  w.SetStringArray("tokenizer.ggml.tokens", vocab.tokens);
  w.SetI32Array("tokenizer.ggml.token_type", vocab.types);
  w.SetStringArray("tokenizer.ggml.merges", vocab.merges);
  // generation_config.json wins over config.json, as for HF generate().
  const int bos = gen.bos_token_id.value_or(c.bos_token_id);
  const int eos = !gen.eos_token_ids.empty() ? gen.eos_token_ids[0] : !c.eos_token_ids.empty() ? c.eos_token_ids[0] : -1;
  const int pad = gen.pad_token_id.value_or(c.pad_token_id);
  if (bos >= 0) w.SetU32("tokenizer.ggml.bos_token_id", bos);
  if (eos >= 0) w.SetU32("tokenizer.ggml.eos_token_id", eos);
  if (pad >= 0) w.SetU32("tokenizer.ggml.padding_token_id", pad);
  w.SetBool("tokenizer.ggml.add_bos_token",
            bos >= 0 && bos < c.vocab_size && PostProcessorAddsBos(dir + "/tokenizer.json", vocab.tokens[bos]));
  w.SetBool("tokenizer.ggml.add_sep_token", false);
  if (auto tmpl = ChatTemplate::FromModelDir(dir); tmpl.ok()) w.SetString("tokenizer.chat_template", tmpl->source());

  // Tensors: the text model only, in the store's (sorted) order.
  for (const std::string& name : store->Names()) {
    std::string hf = name;
    if (hf.rfind(p, 0) == 0) {
      hf = "model." + hf.substr(p.size());
    } else if (hf != "lm_head.weight") {
      continue;  // LFM2-VL's vision tower and projector (an mmproj, not this file)
    }
    const std::string g = Lfm2GgufNameFromHf(hf);
    if (g.empty()) return Unsupported(store->SourceFile(name) + ": tensor '" + name + "' has no llama.cpp LFM2 name");
    LFM_ASSIGN_OR_RETURN(TensorView v, store->Get(name));
    std::vector<int64_t> shape = v.shape;
    DType want = v.dtype;
    if (shape.size() == 3 && shape[1] == 1) shape = {shape[0], shape[2]};  // the converter squeezes the conv kernel
    if (IsDecoderMatrix(g)) {
      want = type;
    } else if (shape.size() == 1 || g.find("shortconv.conv") != std::string::npos) {
      want = DType::kF32;
    } else if (type == DType::kF32 || type == DType::kF16 || type == DType::kBF16) {
      want = type;  // embedding / lm_head: the float type asked for; kept as stored for q8_0/q4_0
    }
    const int64_t cols = shape.back(), rows = v.numel() / cols;
    LFM_RETURN_IF_ERROR(w.AddTensor(g, want, shape, [v, want, rows, cols](uint8_t* dst, size_t) -> Status {
      if (want == v.dtype) {
        std::memcpy(dst, v.data, static_cast<size_t>(v.nbytes()));
        return Status::Ok();
      }
      std::vector<float> row(static_cast<size_t>(cols));
      const int64_t src_row = DTypeBytes(v.dtype, cols), dst_row = DTypeBytes(want, cols);
      for (int64_t r = 0; r < rows; ++r) {
        DequantizeRow(v.dtype, static_cast<const uint8_t*>(v.data) + r * src_row, row.data(), cols);
        QuantizeRow(want, row.data(), dst + r * dst_row, cols);
      }
      return Status::Ok();
    }));
  }
  return w.Write(out_path, progress);
}

}  // namespace lfm
