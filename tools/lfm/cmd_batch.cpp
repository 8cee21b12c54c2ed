// lfm batch: many chat jobs from a JSONL file, N at a time, each result appended to a JSONL file as
// one whole line. Resumable (ids already in --out are skipped) and robust (a failing job records its
// error and the batch goes on).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "base/timer.h"
#include "batch_jobs.h"
#include "admission_options.h"
#include "batch_results.h"
#include "commands.h"
#include "common_options.h"
#include "progress_line.h"
#include "lfm/chat.h"
#include "lfm/task.h"

namespace lfm::cli {

namespace {

using ojson = nlohmann::ordered_json;

// One job's result line (or its error line).
struct Outcome {
  ojson line;
  bool ok = false;
  int generated_tokens = 0;
};

ojson ErrorObject(const Status& st) {
  return ojson{{"code", StatusCodeName(st.code())}, {"message", st.message()}};
}

ojson Usage(const Timings& t) {
  return ojson{{"prompt_tokens", t.prompt_tokens},
               {"completion_tokens", t.generated_tokens},
               {"total_tokens", t.prompt_tokens + t.generated_tokens}};
}

Outcome RunJob(Engine& engine, const nlohmann::json& id, const std::string& line, const std::string& base_dir,
               const GenerateOptions& base_options, const AdmissionLimits& limits) {
  Outcome out;
  out.line["id"] = id;
  auto fail = [&](const Status& st) {
    out.line["error"] = ErrorObject(st);
    return out;
  };
  auto job = ParseBatchJob(line, base_dir);
  if (!job.ok()) return fail(job.status());
  ChatOptions co;
  co.generate = base_options;
  co.admission = limits;
  if (Status st = ApplyJobOverrides(job->overrides, &co.generate); !st.ok()) return fail(st);
  std::optional<ImageAnalysisTask> task;
  std::string request = job->request_json;
  if (!job->task.empty()) {
    task.emplace(job->images, job->prompt);
    request = task->RequestJson();
    if (!job->overrides.contains("max_tokens")) co.generate.max_tokens = 1024;  // the task schema's worst case
    job->schema = ImageAnalysisTask::Schema();
  }
  if (job->schema) {
    // The engine caches compiled grammars: jobs sharing a schema compile it once.
    auto g = engine.CompileGrammar(GrammarKind::kJsonSchema, *job->schema);
    if (!g.ok()) return fail(g.status().WithContext("schema"));
    co.generate.grammar = std::move(g).value();
  }
  auto r = engine.Chat(request, co);
  if (!r.ok()) return fail(r.status());
  const Generation& g = r->generation;
  out.generated_tokens = g.timings.generated_tokens;
  if (g.finish_reason == "error") {
    out.line["error"] = ojson{{"code", "generation"}, {"message", g.error}};
    out.line["text"] = g.text;
    return out;
  }
  if (task) {
    if (!g.grammar_complete)
      return fail(ResourceExhausted("the task's output was cut after " + std::to_string(g.ids.size()) +
                                    " tokens before it was complete (raise max_tokens)"));
    auto a = task->Parse(g.text);
    if (!a.ok()) return fail(a.status());
    out.line["result"] = ojson{{"caption", a->caption}, {"objects", a->objects},
                               {"visible_text", a->visible_text}, {"tags", a->tags}};
  } else {
    out.line["content"] = r->content;
    if (job->schema) {
      // The parsed object when the output is complete; a run cut by max_tokens keeps only "content".
      auto parsed = ojson::parse(g.text, nullptr, /*allow_exceptions=*/false);
      if (g.grammar_complete && !parsed.is_discarded()) out.line["json"] = std::move(parsed);
      out.line["schema_validation"] = g.schema_validation;
    }
    if (!r->tool_calls.empty()) {
      ojson calls = ojson::array();
      for (const auto& c : r->tool_calls) calls.push_back({{"name", c.name}, {"arguments", c.arguments_json}});
      out.line["tool_calls"] = calls;
    }
  }
  out.line["finish_reason"] = g.finish_reason;
  out.line["usage"] = Usage(g.timings);
  out.line["seed"] = co.generate.sampling->seed;
  out.ok = true;
  return out;
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// done/total, jobs/s, tok/s, ETA: rewritten in place on a terminal, one line per job with --progress.
class BatchProgress {
 public:
  BatchProgress(int64_t total, bool terminal, bool lines) : total_(total), terminal_(terminal), lines_(lines) {}
  void JobDone(int64_t done, int64_t failed, int64_t tokens) {
    if (!terminal_ && !lines_) return;
    const double s = timer_.Millis() / 1e3;
    const double jobs_per_s = s > 0 ? done / s : 0;
    const double eta = jobs_per_s > 0 ? (total_ - done) / jobs_per_s : 0;
    char buf[200];
    std::snprintf(buf, sizeof buf, "batch %lld/%lld jobs (%lld failed), %.2f jobs/s, %.1f tok/s, ETA %.0f s",
                  static_cast<long long>(done), static_cast<long long>(total_), static_cast<long long>(failed),
                  jobs_per_s, s > 0 ? tokens / s : 0, eta);
    std::lock_guard<std::mutex> lock(mu_);
    if (terminal_ && !lines_)
      std::fprintf(stderr, "\r\033[K%s%s", buf, done == total_ ? "\n" : "");
    else
      std::fprintf(stderr, "%s\n", buf);
    std::fflush(stderr);
  }

 private:
  int64_t total_;
  bool terminal_, lines_;
  Timer timer_;
  std::mutex mu_;
};

}  // namespace

void RegisterBatch(CLI::App& app, Runners& runners) {
  struct Opts {
    ModelOptions model;
    SamplingOptions sampling;
    AdmissionOptions admission;
    std::string in, out;
    int parallel = 1;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "batch",
      "Run many chat jobs from a JSONL file, one job a line:\n"
      "  {\"id\": \"a1\", \"images\": [\"img/1.jpg\"], \"prompt\": \"Describe it.\", \"schema\": {...}, \"max_tokens\": 64}\n"
      "Keys: id (string or integer, unique), images (paths relative to the jobs file), prompt, system,\n"
      "messages (OpenAI shape), schema (a JSON Schema: the output is constrained to it) or task\n"
      "(\"image-analysis\"), and per-job temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n,\n"
      "seed, max_tokens, min_new_tokens, stop (the flags give the defaults). One result line per job in --out:\n"
      "  {\"id\", \"content\", \"json\" (with a schema), \"result\" (task), \"finish_reason\", \"usage\", \"seed\"}\n"
      "or {\"id\", \"error\": {\"code\", \"message\"}}. Ids already in --out are skipped, so an interrupted batch\n"
      "resumes where it stopped. Exit 0 if every job succeeded, 1 if some failed (summary on stderr).");
  SetExamples(sub, {
      R"ex(lfm batch -m models/LFM2.5-VL-450M --in jobs.jsonl --out results.jsonl)ex",
      R"ex(lfm batch -m models/LFM2.5-VL-450M --in jobs.jsonl --out results.jsonl --parallel 4 --temp 0.1 --progress)ex",
  });
  o->model.Add(sub);
  o->sampling.Add(sub);
  o->admission.Add(sub);
  sub->add_option("--in", o->in, "Jobs file (JSONL, one job a line)")->required();
  sub->add_option("--out", o->out, "Results file (JSONL); appended to, ids already there are skipped")->required();
  sub->add_option("--parallel", o->parallel,
                  "Jobs run at once (worker threads sharing the model; the engine batches their decoding)")
      ->capture_default_str();
  runners.emplace_back(sub, [o]() -> int {
    if (Status st = o->model.Validate(); !st.ok()) return UsageError("batch", st);
    if (Status st = o->sampling.Validate(); !st.ok()) return UsageError("batch", st);
    if (o->parallel < 1 || o->parallel > 256)
      return UsageError("batch", InvalidArgument("--parallel must be in [1, 256], got " + std::to_string(o->parallel)));
    // Pass 1 (streamed): every line has a usable id, and no id repeats. Refused up front, before a
    // model is loaded, so a bad jobs file costs nothing.
    std::map<std::string, std::vector<int>> lines_of;
    int64_t total = 0;
    {
      auto reader = JobReader::Open(o->in);
      if (!reader.ok()) return UsageError("batch", reader.status());
      std::string line;
      int n = 0;
      std::vector<std::string> problems;
      while ((*reader)->Next(&line, &n)) {
        if (line.size() > o->admission.limits.max_request_bytes) {
          problems.push_back(o->in + ": line " + std::to_string(n) + ": " + std::to_string(line.size()) +
                             " bytes, over the request limit of " +
                             std::to_string(o->admission.limits.max_request_bytes) + " (--max-request-bytes)");
          continue;
        }
        auto id = ParseJobId(line);
        if (!id.ok()) {
          problems.push_back(o->in + ": line " + std::to_string(n) + ": " + id.status().message());
          continue;
        }
        lines_of[*id].push_back(n);
        ++total;
      }
      for (const auto& [id, lines] : lines_of) {
        if (lines.size() < 2) continue;
        std::string where;
        for (int l : lines) where += (where.empty() ? "" : ", ") + std::to_string(l);
        problems.push_back(o->in + ": duplicate id " + id + " on lines " + where);
      }
      if (!problems.empty()) {
        for (size_t i = 0; i < problems.size() && i < 20; ++i) std::fprintf(stderr, "lfm batch: %s\n", problems[i].c_str());
        if (problems.size() > 20) std::fprintf(stderr, "lfm batch: ... and %zu more\n", problems.size() - 20);
        std::fprintf(stderr, "lfm batch: refused: every job needs a unique \"id\" (nothing was run)\n");
        return kExitUsage;
      }
    }
    std::unordered_set<std::string> done_ids;
    std::string warnings;
    auto results = BatchResults::Open(o->out, &done_ids, &warnings);
    if (!results.ok()) {
      std::fprintf(stderr, "lfm batch: %s\n", results.status().ToString().c_str());
      return kExitFailure;
    }
    if (!warnings.empty()) std::fprintf(stderr, "lfm batch: warning: %s", warnings.c_str());
    int64_t skipped = 0;
    for (const auto& [id, lines] : lines_of) skipped += done_ids.count(id);
    lines_of.clear();
    const int64_t todo = total - skipped;
    if (skipped > 0)
      std::fprintf(stderr, "lfm batch: %lld of %lld jobs already in %s, skipped\n", static_cast<long long>(skipped),
                   static_cast<long long>(total), o->out.c_str());
    if (todo == 0) {
      std::fprintf(stderr, "lfm batch: nothing to do\n");
      return kExitOk;
    }
    auto engine = o->model.Load();
    if (!engine) return kExitFailure;
    GenerateOptions base = o->sampling.Resolve(*engine, &o->model);
    base.on_progress = nullptr;  // per-job prefill lines from N workers would garble the batch's line
    auto reader = JobReader::Open(o->in);
    if (!reader.ok()) return UsageError("batch", reader.status());
    const std::string base_dir = DirName(o->in);
    BatchProgress progress(todo, isatty(STDERR_FILENO) == 1, ProgressLinesForced());
    std::atomic<int64_t> done{0}, failed{0}, tokens{0};
    std::atomic<bool> write_failed{false};
    std::mutex err_mu;
    Status write_error;
    Timer timer;
    auto worker = [&] {
      std::string line;
      int n = 0;
      while (!write_failed && (*reader)->Next(&line, &n)) {
        auto id = ParseJobId(line);
        if (!id.ok() || done_ids.count(*id) != 0) continue;  // checked in pass 1; skipped: already done
        Outcome r = RunJob(*engine, nlohmann::json::parse(*id), line, base_dir, base, o->admission.limits);
        if (Status st = (*results)->Append(r.line.dump(-1, ' ', false, ojson::error_handler_t::replace)); !st.ok()) {
          std::lock_guard<std::mutex> lock(err_mu);
          write_error = st;
          write_failed = true;
          return;
        }
        if (!r.ok) failed++;
        tokens += r.generated_tokens;
        progress.JobDone(++done, failed.load(), tokens.load());
      }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < o->parallel; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (Status st = (*results)->Close(); !st.ok() && write_error.ok()) write_error = st;
    if (!write_error.ok()) {
      std::fprintf(stderr, "lfm batch: %s (the results written so far are kept; rerun to resume)\n",
                   write_error.ToString().c_str());
      return kExitFailure;
    }
    const double s = timer.Millis() / 1e3;
    std::fprintf(stderr, "lfm batch: %lld jobs run in %.1f s (%.2f jobs/s, %.1f tok/s): %lld ok, %lld failed%s\n",
                 static_cast<long long>(done.load()), s, s > 0 ? done / s : 0.0, s > 0 ? tokens / s : 0.0,
                 static_cast<long long>(done - failed), static_cast<long long>(failed.load()),
                 failed > 0 ? (" (their \"error\" lines are in " + o->out + ")").c_str() : "");
    return failed > 0 ? kExitFailure : kExitOk;
  });
}

}  // namespace lfm::cli
