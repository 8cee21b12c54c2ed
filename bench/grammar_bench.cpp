// Grammar benchmark over JSONSchemaBench/MaskBench (shared/testdata/jsonschemabench), single-threaded,
// LFM2 synthetic 65,536-token vocabulary:
//   - compile time per schema, and TTFM = compile + the first mask (mean, p50, p99, max);
//   - mask time per token while replaying the valid instances (p50, p90, p99, p99.9, max) = TBM: cold
//     (first replay through the freshly compiled grammar, building lexer states as it goes) and warm
//     (the same tokens again, as when a compiled grammar serves many requests);
//   - with --full, coverage per subset: compiled / unsupported / passing / valid rejected / invalid accepted.
// usage: grammar_bench [--full] [--stride N] [--coverage] [--tokenizer TOKENIZER.json] [--json OUT.json]
//                      [--dump-tokens OUT.jsonl] [--verbose] [--slowest N] [--trace NAME]
//        (default: every 10th record, timing only, the synthetic vocabulary; --coverage: coverage for the
//        chosen stride too (--full: every record, with coverage); --tokenizer: another HF tokenizer.json,
//        e.g. the real LFM2.5 one in tests/text/data/lfm2.5-vl-450m; --json: the summary as JSON;
//        --dump-tokens: per record the token ids of every instance replayed, so bench/grammar_compare.py
//        feeds llguidance and XGrammar exactly the same tokens; --slowest: the N slowest compiles and
//        masks, the records with most masks over 300 us, and what those masks did; --trace: one record,
//        each mask over 300 us with its position and what it did)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "../tests/grammar/maskbench_runner.h"
#include "base/timer.h"
#include "grammar/grammar.h"

using namespace lfm;

namespace {

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  bool full = false, verbose = false, coverage = false;
  int slowest = 0;
  size_t stride = 10;
  std::string data = LFM_TESTDATA_DIR;
  if (const char* env = std::getenv("LFM_TESTDATA_DIR")) data = env;
  std::string tokenizer_path = data + "/lfm2-synthetic/tiny-lfm2/tokenizer.json", json_out, dump_tokens;
  std::string trace;  // --trace FILE: only that record, each cold mask over 300 us shown with its text
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--full")) full = true, stride = 1;
    else if (!std::strcmp(argv[i], "--verbose")) verbose = true;
    else if (!std::strcmp(argv[i], "--slowest") && i + 1 < argc) slowest = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--trace") && i + 1 < argc) trace = argv[++i];
    else if (!std::strcmp(argv[i], "--stride") && i + 1 < argc) stride = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--coverage")) coverage = true;
    else if (!std::strcmp(argv[i], "--tokenizer") && i + 1 < argc) tokenizer_path = argv[++i];
    else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) json_out = argv[++i];
    else if (!std::strcmp(argv[i], "--dump-tokens") && i + 1 < argc) dump_tokens = argv[++i];
    else {
      std::fprintf(stderr, "grammar_bench: unknown argument %s (see the usage at the top of bench/grammar_bench.cpp)\n",
                   argv[i]);
      return 2;
    }
  }
  if (full) coverage = true;
  // EOS is <|im_end|> (id 7) in both the synthetic and the real LFM2 vocabularies.
  auto vocab = testing::LoadHfVocabBytes(tokenizer_path, {7});
  if (!vocab.ok()) {
    std::fprintf(stderr, "%s\n", vocab.status().ToString().c_str());
    return 1;
  }
  Timer tt;
  auto trie = TokenTrie::Build(*vocab).value();
  std::printf("vocab %zu tokens, trie %zu nodes, %zu tokens with a non-plain suffix (%zu distinct, trie %zu nodes), "
              "built in %.1f ms\n",
              trie->vocab_size(), trie->nodes().size(), trie->suffixed_dfs().size(), trie->num_suffixes(),
              trie->suffix_nodes().size(), tt.Millis());
  std::string dir = data + "/jsonschemabench";
  auto files = testing::MaskbenchFiles(dir);
  std::vector<double> compile_ms, ttfm_ms, mask_us, warm_us;
  std::vector<std::pair<double, std::string>> worst_compile, worst_mask;  // for --slowest
  std::map<std::string, std::pair<int, double>> tail_kinds;  // --slowest: what the masks over 300 us did
  std::map<std::string, testing::SubsetCounts> counts;
  testing::SubsetCounts total;
  std::vector<uint32_t> mask;
  std::ofstream dump;
  if (!dump_tokens.empty()) dump.open(dump_tokens);
  if (!trace.empty()) stride = 1;
  for (size_t i = 0; i < files.size(); i += stride) {
    auto& [subset, file] = files[i];
    if (!trace.empty() && file.find(trace) == std::string::npos) continue;
    std::ifstream in(dir + "/maskbench-data/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::ordered_json rec = nlohmann::ordered_json::parse(ss.str());
    if (dump.is_open()) {  // the exact token sequences RunRecord and the timing replay use
      nlohmann::json line = {{"subset", subset}, {"file", file}, {"tests", nlohmann::json::array()}};
      for (const auto& test : rec["tests"]) {
        try {
          std::string text = test["data"].dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
          line["tests"].push_back({{"valid", test["valid"].get<bool>()}, {"ids", testing::GreedySplit(*trie, text)}});
        } catch (...) {
        }
      }
      dump << line.dump() << "\n";
    }
    Timer t;
    auto g = Grammar::FromJsonSchema(rec["schema"]);
    double ms = t.Millis();
    if (!g.ok()) {
      if (verbose || !trace.empty()) std::printf("%s: %s\n", file.c_str(), g.status().ToString().c_str());
      if (coverage) testing::RunRecord(rec, trie, &counts[subset], false);
      continue;
    }
    compile_ms.push_back(ms);
    worst_compile.emplace_back(ms, file);
    double first_mask_us = -1;  // TTFM = compile + the first mask (taken from the cold replay)
    for (const auto& test : rec["tests"]) {
      if (!test["valid"].get<bool>()) continue;
      std::string text;
      try {
        text = test["data"].dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
      } catch (...) {
        continue;
      }
      // Cold: the first replay, which also builds the lexer states it meets. Warm: the same tokens
      // again through the same compiled grammar (a grammar reused across requests).
      for (int pass = 0; pass < 2; ++pass) {
        GrammarMatcher m(g.value(), trie);
        size_t pos = 0;
        for (int32_t id : testing::GreedySplit(*trie, text)) {
          Timer mt;
          Status s = m.ComputeMask(&mask);
          double us = mt.Seconds() * 1e6;
          if (!trace.empty() && pass == 1 && us > 300)
            std::printf("%8.1f us  warm at %zu\n", us, pos);
          if (pass == 0 && us > 300) {
            const auto& st = m.last_mask_stats();
            std::string kind = std::string(st.classified_root ? "classified" : "trie walk") +
                               (st.new_lexer_states ? ", new lexer states" : "") +
                               (st.suffix_sets == 0   ? ""
                                : st.suffix_sets == 1 ? ", 1 suffix set"
                                : st.suffix_sets < 5  ? ", 2-4 suffix sets"
                                                      : ", 5+ suffix sets");
            ++tail_kinds[kind].first, tail_kinds[kind].second += us;
            if (!trace.empty())
              std::printf("%8.1f us  %s  lexer %u rec %u jumps %u classified %u suffix sets %u (%u nodes) memo hits %u new "
                          "lexer states %u transitions %u  at %zu: ...%s|\n",
                          us, st.classified_root ? "C" : "W", st.lexer_nodes, st.recognizer_nodes, st.jumps,
                          st.classified_tokens, st.suffix_sets, st.suffix_nodes, st.walk_memo_hits, st.new_lexer_states, st.new_transitions, pos,
                          text.substr(pos < 60 ? 0 : pos - 60, pos < 60 ? pos : 60).c_str());
          }
          pos += trie->token_bytes(id).size();
          (pass == 0 ? mask_us : warm_us).push_back(us);
          if (first_mask_us < 0) first_mask_us = us;
          if (pass == 0) worst_mask.emplace_back(us, file);
          if (!s.ok() || !((mask[id >> 5] >> (id & 31)) & 1) || !m.AcceptToken(id).ok()) break;
        }
      }
    }
    if (first_mask_us < 0) {  // no valid instance to replay: time one mask at the start
      GrammarMatcher m(g.value(), trie);
      Timer mt;
      (void)m.ComputeMask(&mask);
      first_mask_us = mt.Seconds() * 1e6;
    }
    ttfm_ms.push_back(ms + first_mask_us / 1000);
    if (coverage) {
      auto out = testing::RunRecord(rec, trie, &counts[subset], false);
      if (verbose && !out.passing) {
        std::cout << file << ": " << out.compile_error << "\n";
        for (auto& f : out.failures) std::cout << "    " << f << "\n";
      }
    }
  }
  auto report_ms = [](const char* what, const std::vector<double>& ms) {
    double mean = 0;
    for (double x : ms) mean += x;
    mean /= std::max<size_t>(1, ms.size());
    std::printf("%s over %zu schemas: mean %.3f ms  p50 %.3f  p99 %.3f  max %.3f\n", what, ms.size(), mean,
                Pct(ms, 50), Pct(ms, 99), Pct(ms, 100));
  };
  report_ms("compile                    ", compile_ms);
  report_ms("TTFM (compile + first mask)", ttfm_ms);
  auto report = [](const char* what, const std::vector<double>& us) {
    double mean = 0;
    for (double x : us) mean += x;
    mean /= std::max<size_t>(1, us.size());
    std::printf("%s over %zu tokens: mean %.1f us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", what,
                us.size(), mean, Pct(us, 50), Pct(us, 90), Pct(us, 99), Pct(us, 99.9), Pct(us, 100));
  };
  auto show_worst = [&](const char* what, std::vector<std::pair<double, std::string>>& v) {
    std::sort(v.begin(), v.end(), std::greater<>());
    for (int k = 0; k < slowest && k < static_cast<int>(v.size()); ++k)
      std::printf("  slowest %s: %.1f  %s\n", what, v[k].first, v[k].second.c_str());
  };
  show_worst("compile ms", worst_compile);
  report("mask (TBM, cold)", mask_us);
  show_worst("cold mask us", worst_mask);
  if (slowest > 0) {  // which records make the tail: masks over the 300 us target, per record
    std::map<std::string, std::pair<int, double>> over;
    for (auto& [us, file] : worst_mask)
      if (us > 300) ++over[file].first, over[file].second += us;
    std::vector<std::pair<int, std::string>> by_count;
    for (auto& [file, c] : over) by_count.emplace_back(c.first, file);
    std::sort(by_count.begin(), by_count.end(), std::greater<>());
    for (int k = 0; k < slowest && k < static_cast<int>(by_count.size()); ++k)
      std::printf("  cold masks over 300 us: %4d  (%.1f ms in all)  %s\n", by_count[k].first,
                  over[by_count[k].second].second / 1000, by_count[k].second.c_str());
  }
  report("mask (warm)     ", warm_us);
  for (auto& [k, v] : tail_kinds)
    std::printf("  cold masks over 300 us: %-50s %6d masks %9.1f ms\n", k.c_str(), v.first, v.second / 1000);
  if (coverage) {
    for (auto& [name, c] : counts) {
      std::cout << testing::SummaryLine(name, c) << "\n";
      total.records += c.records, total.compiled += c.compiled, total.unsupported += c.unsupported;
      total.compile_errors += c.compile_errors, total.passing += c.passing, total.valid += c.valid;
      total.invalid += c.invalid, total.valid_rejected += c.valid_rejected;
      total.invalid_accepted += c.invalid_accepted;
    }
    std::cout << testing::SummaryLine("TOTAL", total) << "\n";
  }
  if (!json_out.empty()) {
    auto stats = [](const std::vector<double>& v) {
      double mean = 0;
      for (double x : v) mean += x;
      return nlohmann::json{{"n", v.size()}, {"mean", v.empty() ? 0 : mean / v.size()}, {"p50", Pct(v, 50)},
                            {"p99", Pct(v, 99)}, {"max", Pct(v, 100)}};
    };
    nlohmann::json j = {{"engine", "lfm.cpp"},
                        {"tokenizer", tokenizer_path},
                        {"stride", stride},
                        {"compile_ms", stats(compile_ms)},
                        {"ttfm_ms", stats(ttfm_ms)},
                        {"mask_cold_us", stats(mask_us)},
                        {"mask_warm_us", stats(warm_us)}};
    if (coverage)
      j["coverage"] = {{"records", total.records},         {"compiled", total.compiled},
                       {"passing", total.passing},         {"valid", total.valid},
                       {"valid_rejected", total.valid_rejected}, {"invalid", total.invalid},
                       {"invalid_accepted", total.invalid_accepted}};
    std::ofstream(json_out) << j.dump(2) << "\n";
  }
  return 0;
}
