#include "bench_streams.h"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <thread>

namespace lfm::cli {

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

}  // namespace

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

Result<StreamsRun> RunStreams(Engine& engine, int streams, int prompt, int gen, std::mt19937& rng) {
  const int vocab = engine.info().vocab_size;
  std::uniform_int_distribution<int32_t> pick(std::min(501, vocab - 1), vocab - 1);
  struct Stream {
    std::vector<int32_t> prompt;
    Clock::time_point first, last;
    int tokens = 0;
    Status status;
  };
  std::vector<Stream> s(static_cast<size_t>(streams));
  for (Stream& st : s) {
    st.prompt.resize(static_cast<size_t>(prompt));
    for (auto& id : st.prompt) id = pick(rng);
  }
  const int before_max = engine.batch_stats().max_batch;
  std::barrier sync(streams);
  Clock::time_point start;
  std::vector<std::thread> threads;
  for (int i = 0; i < streams; ++i) {
    threads.emplace_back([&, i] {
      Stream& st = s[static_cast<size_t>(i)];
      auto session = engine.NewSession();
      st.status = session->Append(st.prompt);
      GenerateOptions go;
      go.max_tokens = gen + 1;
      go.ignore_eos = true;
      go.sampling = SamplingParams{.temperature = 0};
      sync.arrive_and_wait();
      if (i == 0) start = Clock::now();  // read after the join only
      if (!st.status.ok()) return;
      auto g = session->Generate(go, [&](int32_t id, std::string_view) {
        if (id < 0) return true;
        const auto now = Clock::now();
        if (st.tokens++ == 0) st.first = now;
        st.last = now;
        return true;
      });
      if (!g.ok()) {
        st.status = g.status();
      } else if (g->finish_reason == "error") {
        st.status = Internal(g->error);
      } else if (g->timings.generated_tokens != gen + 1) {
        st.status = Internal("a stream stopped after " + std::to_string(g->timings.generated_tokens) + " tokens (" +
                             g->finish_reason + ")");
      }
    });
  }
  for (auto& t : threads) t.join();
  StreamsRun run;
  Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
  for (const Stream& st : s) {
    LFM_RETURN_IF_ERROR(st.status);
    first = std::min(first, st.first);
    last = std::max(last, st.last);
    run.ttft_ms.push_back(Ms(start, st.first));
  }
  const double wall_ms = Ms(first, last);
  run.aggregate_tok_s = wall_ms > 0 ? static_cast<double>(streams) * gen * 1e3 / wall_ms : 0;
  run.max_batch = std::max(before_max, engine.batch_stats().max_batch);
  return run;
}

}  // namespace lfm::cli
