// lfm tokenize: prints the ids (and optionally pieces) of a text.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "base/utf8.h"
#include "commands.h"
#include "common_options.h"
#include "text/tokenizer.h"

namespace lfm::cli {

void RegisterTokenize(CLI::App& app, std::vector<std::pair<CLI::App*, CommandRunner>>& runners) {
  struct Opts {
    std::string model_dir, text;
    bool json = false, no_special = false, pieces = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "tokenize", "Print the token ids of TEXT with the model's tokenizer.json (BOS added, as `generate` does).");
  SetExamples(sub, {
      R"ex(lfm tokenize -m models/LFM2-350M "Hello world" --pieces)ex",
      R"ex(lfm tokenize -m models/LFM2-350M "<|im_start|>user" --no-special --json)ex",
  });
  sub->add_option("-m,--model", o->model_dir, "Model directory")->required();
  sub->add_option("text", o->text, "Text to tokenize")->required();
  sub->add_flag("--json", o->json, "Print {\"ids\": [...], \"pieces\": [...]} as JSON");
  sub->add_flag("--no-special", o->no_special, "Do not add BOS (no post-processor)");
  sub->add_flag("--pieces", o->pieces, "Print one 'id<TAB>piece' line per token");
  runners.emplace_back(sub, [o]() {
    if (Status st = CheckUtf8(o->text, "TEXT"); !st.ok()) {
      std::fprintf(stderr, "lfm tokenize: %s\n", st.message().c_str());
      return 2;
    }
    auto tok = Tokenizer::FromFile(o->model_dir + "/tokenizer.json");
    if (!tok.ok()) {
      std::fprintf(stderr, "lfm tokenize: %s\n", tok.status().ToString().c_str());
      return 1;
    }
    auto encoded = tok->Encode(o->text, !o->no_special);
    if (!encoded.ok()) {
      std::fprintf(stderr, "lfm tokenize: %s\n", encoded.status().ToString().c_str());
      return 1;
    }
    const std::vector<int32_t>& ids = *encoded;
    if (o->json) {
      nlohmann::ordered_json j;
      j["ids"] = ids;
      std::vector<std::string> pieces;
      for (int32_t id : ids) pieces.push_back(tok->IdToToken(id));
      j["pieces"] = pieces;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (o->pieces) {
      for (int32_t id : ids) std::printf("%d\t%s\n", id, tok->IdToToken(id).c_str());
    } else {
      for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
      std::printf("\n");
    }
    return 0;
  });
}

}  // namespace lfm::cli
