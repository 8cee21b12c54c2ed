// The thread-safety contract of include/lfm/engine.h: engines and sessions used from several threads
// give exactly the outputs of running the same work one after another, and loading an engine never
// disturbs engines that are generating (the kernels' thread pool is shared by the process).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "base/thread_pool.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

std::string TinyModel() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

std::unique_ptr<Engine> LoadTiny(int threads) {
  LoadOptions lo;
  lo.threads = threads;
  lo.max_context = 512;
  auto e = Engine::Load(TinyModel(), lo);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

GenerateOptions Greedy(int max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  SamplingParams greedy;
  greedy.temperature = 0.0f;
  o.sampling = greedy;
  o.ignore_eos = true;
  o.return_prompt_logits = true;
  return o;
}

struct Output {
  std::vector<int32_t> ids;
  std::vector<float> prompt_logits;
  bool operator==(const Output&) const = default;
};

Output Generate(Engine& e, const std::string& prompt, int max_tokens) {
  auto g = e.Complete(prompt, Greedy(max_tokens));
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return {};
  return {g->ids, g->prompt_logits};
}

const char* const kPrompts[] = {"The capital of France is", "Once upon a time, in a land far away,",
                                "def fibonacci(n):", "1, 2, 3, 4,"};

TEST(EngineConcurrency, TwoEnginesInTwoThreadsGiveTheSequentialOutputs) {
  // Both engines use the shared pool (more than one thread each), so their parallel regions meet
  // in it. (The old pool took one job at a time, unguarded: a second caller's job replaced the first.)
  auto a = LoadTiny(2);
  auto b = LoadTiny(2);
  ASSERT_TRUE(a && b);
  constexpr int kTokens = 10, kRounds = 2;
  // Sequential reference: every prompt on each engine, one after another.
  std::vector<Output> want_a, want_b;
  for (const char* p : kPrompts) want_a.push_back(Generate(*a, p, kTokens));
  for (const char* p : kPrompts) want_b.push_back(Generate(*b, p, kTokens));
  EXPECT_EQ(want_a, want_b);  // same model, same outputs

  std::atomic<int> mismatches{0};
  auto worker = [&](Engine& e, const std::vector<Output>& want) {
    for (int r = 0; r < kRounds; ++r)
      for (size_t i = 0; i < want.size(); ++i)
        if (!(Generate(e, kPrompts[i], kTokens) == want[i])) mismatches++;
  };
  std::thread ta(worker, std::ref(*a), std::cref(want_a));
  std::thread tb(worker, std::ref(*b), std::cref(want_b));
  ta.join();
  tb.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(EngineConcurrency, OneEngineSharedByThreadsEachWithItsOwnSession) {
  auto e = LoadTiny(2);
  ASSERT_TRUE(e);
  constexpr int kTokens = 12;
  std::vector<Output> want;
  for (const char* p : kPrompts) want.push_back(Generate(*e, p, kTokens));
  // Each thread runs its own prompt through its own Session (Complete makes one per call), so any
  // per-engine scratch state (such as logits) shared between them shows up as wrong tokens.
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < std::size(kPrompts); ++i)
    threads.emplace_back([&, i] {
      for (int r = 0; r < 2; ++r)
        if (!(Generate(*e, kPrompts[i], kTokens) == want[i])) mismatches++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(EngineConcurrency, LoadWhileAnotherEngineGenerates) {
  auto a = LoadTiny(2);
  ASSERT_TRUE(a);
  constexpr int kTokens = 16;
  const Output want = Generate(*a, kPrompts[1], kTokens);
  std::atomic<bool> loading_done{false};
  std::atomic<int> runs{0}, mismatches{0};
  std::thread gen([&] {
    // Keep generating until every load below has finished (and at least twice).
    while (!loading_done.load() || runs.load() < 2) {
      if (!(Generate(*a, kPrompts[1], kTokens) == want)) mismatches++;
      runs++;
    }
  });
  // Loads asking for other thread counts: the old Load rebuilt the shared pool under the running
  // engine. Each loaded engine also generates at once, beside the running one, and its thread
  // count does not change the outputs (the kernels split work without changing the arithmetic).
  for (int threads : {3, 1, 4}) {
    auto b = LoadTiny(threads);
    ASSERT_TRUE(b);
    EXPECT_EQ(Generate(*b, kPrompts[1], kTokens), want) << "threads " << threads;
  }
  loading_done = true;
  gen.join();
  EXPECT_GE(runs.load(), 2);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(EngineConcurrency, LoadRefusesAbsurdThreadCountsBeforeTouchingThePool) {
  const int before = DefaultThreadPool().num_threads();
  for (int threads : {-1, MaxLoadThreads() + 1, 1 << 30}) {
    LoadOptions lo;
    lo.threads = threads;
    auto e = Engine::Load(TinyModel(), lo);
    ASSERT_FALSE(e.ok()) << threads;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << e.status().ToString();
  }
  EXPECT_EQ(DefaultThreadPool().num_threads(), before);
}

}  // namespace
}  // namespace lfm
