// lfm render: renders a chat request with the model's chat template and tokenizes it, without
// loading weights (a directory with tokenizer.json + chat template is enough).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "admission_options.h"
#include "base/mapped_file.h"
#include "chat_request.h"
#include "commands.h"
#include "engine/engine_impl.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace lfm::cli {

void RegisterRender(CLI::App& app, Runners& runners) {
  struct Opts {
    std::string model_dir;
    ChatRequestOptions request;
    AdmissionOptions admission;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "render",
      "Render messages with the model's chat template (chat_template.jinja or tokenizer_config.json)\n"
      "and print the prompt; --json adds its token ids. Needs no weights.");
  SetExamples(sub, {
      R"ex(lfm render -m models/LFM2.5-VL-450M --messages chat.json --json)ex",
      R"ex(lfm render -m models/LFM2-350M -p "Hi" --system "Be brief.")ex",
  });
  sub->add_option("-m,--model", o->model_dir, "Model directory")->required();
  o->request.Add(sub);
  o->admission.Add(sub);
  sub->add_flag("--json", o->json, "Print {\"prompt\": ..., \"ids\": [...]} (ids need tokenizer.json)");
  runners.emplace_back(sub, [o]() {
    auto request = o->request.Build(o->admission.limits);
    if (!request.ok()) {
      std::fprintf(stderr, "lfm render: %s\n", request.status().message().c_str());
      return 2;
    }
    auto tmpl = ChatTemplate::FromModelDir(o->model_dir);
    if (!tmpl.ok()) {
      std::fprintf(stderr, "lfm render: %s\n", tmpl.status().ToString().c_str());
      return 1;
    }
    std::vector<std::string> special = tmpl->special_tokens();
    std::optional<Tokenizer> tok;
    const std::string tok_path = o->model_dir + "/tokenizer.json";
    if (FileExists(tok_path)) {
      auto t = Tokenizer::FromFile(tok_path);
      if (!t.ok()) {
        std::fprintf(stderr, "lfm render: %s\n", t.status().ToString().c_str());
        return 1;
      }
      tok = std::move(t).value();
      for (const auto& s : tok->SpecialTokenStrings())
        if (std::find(special.begin(), special.end(), s) == special.end()) special.push_back(s);
    }
    auto prompt = RenderChatRequest(*tmpl, special, *request, o->request.escape_special, o->admission.limits);
    if (!prompt.ok()) {
      std::fprintf(stderr, "lfm render: %s\n", prompt.status().ToString().c_str());
      return 1;
    }
    if (o->json) {
      nlohmann::ordered_json j = {{"prompt", *prompt}};
      if (tok) {
        auto ids = tok->Encode(*prompt, /*add_special_tokens=*/false);
        if (!ids.ok()) {
          std::fprintf(stderr, "lfm render: %s\n", ids.status().ToString().c_str());
          return 1;
        }
        j["ids"] = *ids;
      }
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::fwrite(prompt->data(), 1, prompt->size(), stdout);
      if (!prompt->empty() && prompt->back() != '\n') std::printf("\n");
    }
    return 0;
  });
}

}  // namespace lfm::cli
