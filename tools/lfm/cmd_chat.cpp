// lfm chat: interactive multi-turn chat. The decoder cache is kept between turns, so each turn only
// prefills its own new tokens.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "admission_options.h"
#include "base/mapped_file.h"
#include "base/utf8.h"
#include "chat_output.h"
#include "commands.h"
#include "common_options.h"
#include "finish_report.h"
#include "lfm/chat.h"
#include "stream_output.h"

namespace lfm::cli {

void RegisterChat(CLI::App& app, Runners& runners) {
  struct Opts {
    ModelOptions model;
    SamplingOptions sampling;
    AdmissionOptions admission;
    ConstraintOptions constraint;
    std::string system, tools_file, prompt_file;
    bool json = false, escape_special = false, show_tokens = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "chat",
      "Interactive chat: type a message, get the reply; the conversation's decoder cache is kept, so\n"
      "earlier turns are never re-run. Commands: /reset (new conversation), /stats, /exit (or Ctrl-D).\n"
      "Reads lines from stdin, so it can be scripted (one line, one turn).");
  SetExamples(sub, {
      R"ex(lfm chat -m models/LFM2-350M --system "You are concise.")ex",
      R"ex(printf 'Hi\nMore\n' | lfm chat -m models/LFM2-350M --json)ex",
      R"ex(lfm chat -m models/LFM2-350M -f prompt.txt --show-tokens --seed -1 -v)ex",
  });
  o->model.Add(sub);
  o->sampling.Add(sub);
  o->admission.Add(sub);
  o->constraint.Add(sub);
  sub->add_option("--system", o->system, "System prompt");
  sub->add_option("-f,--file", o->prompt_file,
                  "Send this file's content as the first message (then read stdin as usual)");
  sub->add_flag("--show-tokens", o->show_tokens, "Print each generated token as [id 'piece'] instead of plain text");
  sub->add_option("--tools", o->tools_file, "JSON file with a tools array (OpenAI function-tool shape)");
  sub->add_flag("--escape-special", o->escape_special,
                "Defuse special-token strings in your messages instead of refusing them");
  sub->add_flag("--json", o->json, "Print one JSON object per turn (with prefill counts) instead of plain text");
  runners.emplace_back(sub, [o]() {
    if (Status st = o->model.Validate(); !st.ok()) return UsageError("chat", st);
    if (Status st = o->sampling.Validate(); !st.ok()) return UsageError("chat", st);
    if (Status st = CheckUtf8(o->system, "--system"); !st.ok()) return UsageError("chat", st);
    auto engine = o->model.Load();
    if (!engine) return 1;
    ChatOptions co;
    co.generate = o->sampling.Resolve(*engine, &o->model);
    // One grammar for every reply (compiled once).
    if (!o->constraint.Apply(*engine, &co.generate)) return 2;
    co.escape_special_tokens = o->escape_special;
    co.admission = o->admission.limits;
    std::string tools_json;
    if (!o->tools_file.empty()) {
      auto t = ReadFileToString(o->tools_file, file_limits::kRequest);
      if (!t.ok()) {
        std::fprintf(stderr, "lfm chat: %s\n", t.status().ToString().c_str());
        return 2;
      }
      tools_json = *t;
      if (Status st = CheckUtf8(tools_json, o->tools_file); !st.ok()) return UsageError("chat", st);
    }
    auto start = [&]() -> std::unique_ptr<Conversation> {
      auto c = engine->NewConversation();
      if (Status st = c->SetSystemPrompt(o->system); !st.ok()) {
        std::fprintf(stderr, "lfm chat: %s\n", st.message().c_str());
        return nullptr;
      }
      if (!tools_json.empty()) {
        if (Status st = c->SetToolsJson(tools_json); !st.ok()) {
          std::fprintf(stderr, "lfm chat: %s: %s\n", o->tools_file.c_str(), st.message().c_str());
          return nullptr;
        }
      }
      return c;
    };
    auto conv = start();
    if (!conv) return 2;
    // The system prompt and tools are part of every turn: check them (limits, special tokens) once,
    // up front, instead of refusing every message the user types.
    {
      nlohmann::ordered_json probe = {{"messages", nlohmann::ordered_json::array()}};
      if (!o->system.empty())
        probe["messages"].push_back(nlohmann::ordered_json::object({{"role", "system"}, {"content", o->system}}));
      probe["messages"].push_back(nlohmann::ordered_json::object({{"role", "user"}, {"content", ""}}));
      if (!tools_json.empty()) {
        auto tools = nlohmann::ordered_json::parse(tools_json, nullptr, /*allow_exceptions=*/false);
        if (!tools.is_discarded()) probe["tools"] = std::move(tools);
      }
      auto rendered = engine->RenderChat(probe.dump(), /*expand_images=*/false, &co);
      if (!rendered.ok()) {
        std::fprintf(stderr, "lfm chat: --system/--tools: %s\n", rendered.status().ToString().c_str());
        return 2;
      }
    }
    const bool interactive = isatty(STDIN_FILENO) && !o->json;
    if (interactive) std::fprintf(stderr, "lfm chat: type a message (/reset, /stats, /exit)\n");
    std::string line;
    int line_number = 0;
    std::string first_message;
    if (!o->prompt_file.empty()) {
      auto text = ReadFileToString(o->prompt_file, file_limits::kRequest);
      if (!text.ok()) {
        std::fprintf(stderr, "lfm chat: %s\n", text.status().ToString().c_str());
        return 2;
      }
      if (Status st = CheckUtf8(*text, o->prompt_file); !st.ok()) return UsageError("chat", st);
      if (text->empty()) {
        std::fprintf(stderr, "lfm chat: %s: the prompt file is empty\n", o->prompt_file.c_str());
        return 2;
      }
      first_message = std::move(text).value();
    }
    // A turn that fails is reported and the chat goes on (the user can try again); the exit code
    // still says that something failed, for scripts.
    bool any_failed = false;
    while (true) {
      const bool from_file = !first_message.empty();
      if (from_file) {
        line = std::move(first_message);
        first_message.clear();
      } else {
        if (interactive) std::fprintf(stderr, "> ");
        if (!std::getline(std::cin, line)) break;
        ++line_number;
      }
      if (line.empty()) continue;
      if (from_file) {
        // The file's whole content is one message, even if it starts with "/": no commands here.
      } else if (Status st = CheckUtf8(line, "stdin line " + std::to_string(line_number)); !st.ok()) {
        std::fprintf(stderr, "lfm chat: %s\n", st.message().c_str());
        any_failed = true;
        continue;
      }
      if (!from_file && (line == "/exit" || line == "/quit")) break;
      if (!from_file && line == "/reset") {
        conv = start();
        if (!conv) return 2;
        continue;
      }
      if (!from_file && line == "/stats") {
        std::fprintf(stderr, "turns %d, tokens prefilled %lld, history re-runs %d\n", conv->turns(),
                     static_cast<long long>(conv->prefilled_tokens()), conv->history_reprefills());
        continue;
      }
      const TokenCallback cb = StdoutTokenPrinter(*engine, o->show_tokens, o->json);
      auto r = conv->Send(line, co, cb);
      if (!r.ok()) {
        std::fprintf(stderr, "lfm chat: %s\n", r.status().ToString().c_str());
        any_failed = true;
        continue;  // the conversation is unchanged; the user can try again
      }
      if (r->generation.finish_reason == "error") any_failed = true;
      if (o->json) {
        auto j = nlohmann::ordered_json::parse(ChatResultJson(*r, co.generate));
        j["turn"] = conv->turns();
        j["prefilled_tokens_total"] = conv->prefilled_tokens();
        j["history_reprefills"] = conv->history_reprefills();
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
        std::fflush(stdout);
      } else {
        std::printf("\n");
        std::fflush(stdout);
        ReportFinish("chat", *engine, r->generation, co.generate);
        const Timings& t = r->generation.timings;
        std::fprintf(stderr, "[prefill %d new tokens, %.1f ms | decode %d tokens, %.1f tok/s]\n", t.prompt_tokens,
                     t.prefill_ms, t.generated_tokens, t.decode_tokens_per_s());
      }
    }
    return any_failed ? kExitFailure : kExitOk;
  });
}

}  // namespace lfm::cli
