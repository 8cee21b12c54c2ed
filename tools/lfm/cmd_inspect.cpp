// lfm inspect: what a model directory or .gguf file holds (config, every tensor, tokenizer, chat
// template, processor settings, generation defaults, request limits), without loading weights.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "commands.h"
#include "common_options.h"
#include "lfm/inspect.h"

namespace lfm::cli {

namespace {

using ojson = nlohmann::ordered_json;

int CountLines(const std::string& s) {
  if (s.empty()) return 0;
  int n = 1;
  for (size_t i = 0; i + 1 < s.size(); ++i) n += s[i] == '\n';
  return n;
}

struct DTypeTotal {
  int64_t count = 0, bytes = 0;
};
std::map<std::string, DTypeTotal> TotalsByDtype(const ModelInspection& m) {
  std::map<std::string, DTypeTotal> out;
  for (const auto& t : m.tensors) {
    out[t.dtype].count++;
    out[t.dtype].bytes += t.bytes;
  }
  return out;
}

// The stable JSON object documented in `lfm inspect --help` and the README.
ojson InspectionJson(const ModelInspection& m) {
  ojson j;
  j["path"] = m.path;
  j["format"] = m.format;
  ojson c = {{"model_type", m.model_type},
             {"architecture", m.architecture},
             {"is_vl", m.is_vl},
             {"vocab_size", m.vocab_size},
             {"hidden_size", m.hidden_size},
             {"intermediate_size", m.intermediate_size},
             {"num_layers", m.num_layers},
             {"layer_types", m.layer_types},
             {"num_attention_heads", m.num_attention_heads},
             {"num_key_value_heads", m.num_key_value_heads},
             {"head_dim", m.head_dim},
             {"conv_kernel", m.conv_kernel},
             {"max_position_embeddings", m.max_position_embeddings},
             {"rope_theta", m.rope_theta},
             {"norm_eps", m.norm_eps},
             {"tie_word_embeddings", m.tie_word_embeddings},
             {"random_weights", m.random_weights}};
  if (!m.config_error.empty()) c["error"] = m.config_error;
  j["config"] = c;
  ojson tensors = ojson::array();
  int64_t total = 0;
  for (const auto& t : m.tensors) {
    tensors.push_back({{"name", t.name}, {"shape", t.shape}, {"dtype", t.dtype}, {"bytes", t.bytes}, {"file", t.file}});
    total += t.bytes;
  }
  j["tensors"] = tensors;
  ojson by_dtype = ojson::object();
  for (const auto& [d, tot] : TotalsByDtype(m)) by_dtype[d] = {{"count", tot.count}, {"bytes", tot.bytes}};
  j["tensor_totals"] = {{"count", m.tensors.size()}, {"bytes", total}, {"by_dtype", by_dtype}};
  ojson tok = {{"source", m.tokenizer_source}, {"vocab_size", m.tokenizer_vocab_size}};
  tok["bos_id"] = m.bos_id ? ojson(*m.bos_id) : ojson(nullptr);
  tok["eos_ids"] = m.eos_ids;
  ojson specials = ojson::array();
  for (const auto& s : m.special_tokens) specials.push_back({{"id", s.id}, {"content", s.content}});
  tok["special_tokens"] = specials;
  if (!m.tokenizer_error.empty()) tok["error"] = m.tokenizer_error;
  j["tokenizer"] = tok;
  if (m.chat_template.empty()) {
    j["chat_template"] = nullptr;
  } else {
    j["chat_template"] = {{"file", m.chat_template_file}, {"lines", CountLines(m.chat_template)}, {"source", m.chat_template}};
  }
  if (m.processor) {
    const ProcessorInspection& p = *m.processor;
    j["processor"] = {{"do_image_splitting", p.do_image_splitting}, {"tile_size", p.tile_size},
                      {"min_tiles", p.min_tiles},                   {"max_tiles", p.max_tiles},
                      {"use_thumbnail", p.use_thumbnail},           {"min_image_tokens", p.min_image_tokens},
                      {"max_image_tokens", p.max_image_tokens},     {"encoder_patch_size", p.encoder_patch_size},
                      {"downsample_factor", p.downsample_factor},   {"max_pixels_tolerance", p.max_pixels_tolerance},
                      {"image_token", p.image_token}};
  } else {
    j["processor"] = nullptr;
  }
  const SamplingParams& s = m.default_sampling;
  j["generation_defaults"] = {{"temperature", s.temperature}, {"top_k", s.top_k},
                              {"top_p", s.top_p},             {"min_p", s.min_p},
                              {"repetition_penalty", s.repetition_penalty}};
  j["generation_defaults"]["max_new_tokens"] = m.max_new_tokens ? ojson(*m.max_new_tokens) : ojson(nullptr);
  ojson limits = ojson::object();
  for (const auto& l : ListAdmissionLimits(m.admission)) limits[l.name] = l.value;
  limits["max_context"] = m.max_position_embeddings;
  j["admission_limits"] = limits;
  return j;
}

std::string Bytes(int64_t b) {
  char buf[32];
  if (b >= (int64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / double(int64_t{1} << 30));
  else if (b >= (1 << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / double(1 << 20));
  else if (b >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
  return buf;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void PrintText(const ModelInspection& m, bool full_template, size_t max_special) {
  std::printf("model: %s (%s)\n", m.path.c_str(), m.format.c_str());
  if (!m.config_error.empty()) {
    std::printf("config: not an LFM2 model (%s%s): %s\n", m.architecture.empty() ? "" : "architecture ",
                m.architecture.c_str(), m.config_error.c_str());
  } else {
    int attn = 0;
    std::string attn_at;
    for (size_t i = 0; i < m.layer_types.size(); ++i)
      if (m.layer_types[i] == "attention") attn_at += (attn++ ? "," : "") + std::to_string(i);
    std::printf("config: %s%s, vocab %d, hidden %d, FFN %d, %d layers (%d conv, %d attention at %s)\n",
                m.model_type.c_str(), m.is_vl ? " (vision-language)" : "", m.vocab_size, m.hidden_size,
                m.intermediate_size, m.num_layers, m.num_layers - attn, attn, attn_at.c_str());
    std::printf("        heads %d (kv %d, dim %d), conv kernel %d, context %d, rope theta %g, norm eps %g, "
                "tied embeddings %s%s\n",
                m.num_attention_heads, m.num_key_value_heads, m.head_dim, m.conv_kernel, m.max_position_embeddings,
                m.rope_theta, m.norm_eps, m.tie_word_embeddings ? "yes" : "no",
                m.random_weights ? ", RANDOM weights (lfm make-test-model)" : "");
  }
  int64_t total = 0;
  for (const auto& t : m.tensors) total += t.bytes;
  std::printf("\ntensors: %zu, %s\n", m.tensors.size(), Bytes(total).c_str());
  size_t width = 0;
  for (const auto& t : m.tensors) width = std::max(width, t.name.size());
  for (const auto& t : m.tensors)
    std::printf("  %-*s %-20s %-6s %s\n", static_cast<int>(width), t.name.c_str(), ShapeText(t.shape).c_str(),
                t.dtype.c_str(), Bytes(t.bytes).c_str());
  for (const auto& [d, tot] : TotalsByDtype(m))
    std::printf("  total %-6s %lld tensors, %s\n", d.c_str(), static_cast<long long>(tot.count), Bytes(tot.bytes).c_str());
  std::printf("\ntokenizer: %s", m.tokenizer_source.c_str());
  if (!m.tokenizer_error.empty()) {
    std::printf(": cannot read: %s\n", m.tokenizer_error.c_str());
  } else {
    auto name_of = [&](int32_t id) -> std::string {
      for (const auto& s : m.special_tokens)
        if (s.id == id) return " " + s.content;
      return "";
    };
    std::printf(", vocab %d, BOS %s", m.tokenizer_vocab_size,
                m.bos_id ? (std::to_string(*m.bos_id) + name_of(*m.bos_id)).c_str() : "none");
    std::string eos;
    for (int32_t id : m.eos_ids) eos += (eos.empty() ? "" : ", ") + std::to_string(id) + name_of(id);
    std::printf(", EOS %s\n", eos.empty() ? "none" : eos.c_str());
    std::printf("  special tokens: %zu\n", m.special_tokens.size());
    for (size_t i = 0; i < m.special_tokens.size() && i < max_special; ++i)
      std::printf("  %6d %s\n", m.special_tokens[i].id, m.special_tokens[i].content.c_str());
    if (m.special_tokens.size() > max_special)
      std::printf("  ... %zu more (--all-special or --json lists them all)\n", m.special_tokens.size() - max_special);
  }
  if (m.chat_template.empty()) {
    std::printf("\nchat template: none (chat needs one; `lfm generate` runs raw completions)\n");
  } else {
    const int lines = CountLines(m.chat_template);
    std::printf("\nchat template: %s (%d lines)\n", m.chat_template_file.c_str(), lines);
    std::istringstream in(m.chat_template);
    std::string line;
    int shown = 0;
    while (std::getline(in, line) && (full_template || shown < 8)) {
      std::printf("  | %s\n", line.c_str());
      ++shown;
    }
    if (shown < lines) std::printf("  ... %d more lines (--template prints it whole)\n", lines - shown);
  }
  if (m.processor) {
    const ProcessorInspection& p = *m.processor;
    std::printf("\nprocessor: image splitting %s (tiles %dx%d px, %d..%d tiles%s), image tokens %d..%d per image/tile, "
                "patch %d, downsample %d, image token %s\n",
                p.do_image_splitting ? "on" : "off", p.tile_size, p.tile_size, p.min_tiles, p.max_tiles,
                p.use_thumbnail ? " + thumbnail" : "", p.min_image_tokens, p.max_image_tokens, p.encoder_patch_size,
                p.downsample_factor, p.image_token.c_str());
  }
  const SamplingParams& s = m.default_sampling;
  std::printf("\ngeneration defaults: %s", s.greedy() ? "greedy" : "sampling");
  if (!s.greedy()) std::printf(", temperature %g, top_k %d, top_p %g, min_p %g", s.temperature, s.top_k, s.top_p, s.min_p);
  std::printf(", repetition penalty %g", s.repetition_penalty);
  if (m.max_new_tokens) std::printf(", max_new_tokens %d", *m.max_new_tokens);
  std::printf("\n\nrequest limits (defaults; lfm run/chat/batch flags --max-*):\n");
  for (const auto& l : ListAdmissionLimits(m.admission))
    std::printf("  %-20s %llu  %s\n", l.name.c_str(), static_cast<unsigned long long>(l.value), l.description.c_str());
  std::printf("  %-20s %d  context tokens (text + image tokens; -c lowers it)\n", "max_context", m.max_position_embeddings);
}

}  // namespace

void RegisterInspect(CLI::App& app, Runners& runners) {
  struct Opts {
    std::string model;
    bool json = false, full_template = false, all_special = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "inspect",
      "What a model directory or .gguf file holds, read from headers only (no weights loaded):\n"
      "config summary, every tensor (name, shape, dtype, bytes; totals per dtype), tokenizer and special\n"
      "tokens, chat template, LFM2-VL processor settings, generation defaults and request limits.\n"
      "--json keys: path, format, config {model_type, architecture, is_vl, vocab_size, hidden_size,\n"
      "intermediate_size, num_layers, layer_types, num_attention_heads, num_key_value_heads, head_dim,\n"
      "conv_kernel, max_position_embeddings, rope_theta, norm_eps, tie_word_embeddings, random_weights,\n"
      "error?}, tensors [{name, shape, dtype, bytes, file}], tensor_totals {count, bytes, by_dtype},\n"
      "tokenizer {source, vocab_size, bos_id, eos_ids, special_tokens [{id, content}], error?},\n"
      "chat_template {file, lines, source} | null, processor {...} | null, generation_defaults,\n"
      "admission_limits {max_request_bytes, ..., max_context}.");
  SetExamples(sub, {
      R"ex(lfm inspect -m models/LFM2.5-VL-450M)ex",
      R"ex(lfm inspect -m models/LFM2-350M --json)ex",
      R"ex(lfm inspect -m models/LFM2-350M --template)ex",
  });
  sub->add_option("-m,--model", o->model, "Model directory (Hugging Face layout) or .gguf file")->required();
  sub->add_flag("--json", o->json, "Print one JSON object (keys above)");
  sub->add_flag("--template", o->full_template, "Print the whole chat template (default: its first 8 lines)");
  sub->add_flag("--all-special", o->all_special, "List every special token (default: the first 40)");
  runners.emplace_back(sub, [o]() {
    auto m = InspectModel(o->model);
    if (!m.ok()) {
      std::fprintf(stderr, "lfm inspect: %s\n", m.status().ToString().c_str());
      return kExitFailure;
    }
    if (o->json) {
      std::printf("%s\n", InspectionJson(*m).dump(-1, ' ', false, ojson::error_handler_t::replace).c_str());
    } else {
      PrintText(*m, o->full_template, o->all_special ? SIZE_MAX : 40);
    }
    return kExitOk;
  });
}

}  // namespace lfm::cli
