// Continuous batching (engine/decode_batcher.h): generations running concurrently on one Engine
// share batched decoder passes, and each gets exactly the output it gets alone (same seed): ids,
// text, finish reason and prompt logits. Labelled "engine", so CI runs it under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

std::unique_ptr<Engine> LoadTiny(int ubatch = 512) {
  LoadOptions lo;
  lo.threads = 2;
  lo.max_context = 512;
  lo.ubatch = ubatch;
  auto e = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"), lo);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

// Job i: its own prompt (different lengths, so every sequence sits at its own position), sampling
// (greedy or seeded temperature sampling with top-k/top-p) and length (so sequences leave the batch
// at different steps); job 3 stops itself through its callback after 4 tokens.
struct Job {
  std::string prompt;
  GenerateOptions options;
  int stop_after = -1;
};

std::vector<Job> Jobs(int n) {
  const char* prompts[] = {"The capital of France is", "Once upon a time, in a land far away, there lived",
                           "def fibonacci(n):", "1, 2, 3, 4,", "Hello", "A long list of fruits: apple, pear,"};
  std::vector<Job> jobs;
  for (int i = 0; i < n; ++i) {
    Job j;
    j.prompt = std::string(prompts[i % 6]) + (i >= 6 ? " again" : "");
    j.options.max_tokens = 12 + 5 * (i % 4);
    j.options.ignore_eos = true;
    j.options.return_prompt_logits = true;
    SamplingParams sp;
    if (i % 2 == 0) {
      sp.temperature = 0.0f;
    } else {
      sp.temperature = 0.9f;
      sp.top_k = 40;
      sp.top_p = 0.95f;
      sp.seed = 1000 + i;
    }
    j.options.sampling = sp;
    if (i == 3) j.stop_after = 4;
    jobs.push_back(j);
  }
  return jobs;
}

struct Output {
  std::vector<int32_t> ids;
  std::string text, finish_reason;
  std::vector<float> prompt_logits;
  bool operator==(const Output&) const = default;
};

Output Run(Engine& e, const Job& j) {
  int seen = 0;
  auto g = e.Complete(j.prompt, j.options, [&](int32_t id, std::string_view) {
    if (id < 0) return true;
    return j.stop_after < 0 || ++seen < j.stop_after;
  });
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return {};
  return {g->ids, g->text, g->finish_reason, g->prompt_logits};
}

void ExpectConcurrentEqualsAlone(Engine& e, const std::vector<Job>& jobs, int rounds) {
  std::vector<Output> alone;
  for (const Job& j : jobs) alone.push_back(Run(e, j));
  const BatchStats before = e.batch_stats();
  EXPECT_EQ(before.max_batch, 1);  // one at a time: never more than one sequence per pass
  std::atomic<int> mismatches{0};
  std::barrier start(static_cast<std::ptrdiff_t>(jobs.size()));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < rounds; ++r) {
        start.arrive_and_wait();  // all start together, so their decode steps overlap
        Output got = Run(e, jobs[i]);
        if (!(got == alone[i])) {
          ADD_FAILURE() << "job " << i << " round " << r << ": concurrent output differs from the output alone";
          mismatches++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
  const BatchStats after = e.batch_stats();
  // The concurrent runs were really batched: some pass carried several sequences, and there were
  // fewer passes than decode steps.
  EXPECT_GE(after.max_batch, 2);
  EXPECT_LT(after.passes - before.passes, after.decode_steps - before.decode_steps);
}

TEST(EngineBatching, ConcurrentGenerationsGiveTheOutputsTheyGetAlone) {
  auto e = LoadTiny();
  ASSERT_TRUE(e);
  ExpectConcurrentEqualsAlone(*e, Jobs(6), 2);
}

TEST(EngineBatching, PrefillChunksInterleaveWithDecodeSteps) {
  // ubatch 4: every prompt is prefilled in several chunks, which the batcher runs between the other
  // sequences' decode steps; outputs still equal the ones alone.
  auto e = LoadTiny(/*ubatch=*/4);
  ASSERT_TRUE(e);
  ExpectConcurrentEqualsAlone(*e, Jobs(8), 1);
  EXPECT_GT(e->batch_stats().prefill_chunks, 8);
}

TEST(EngineBatching, ConversationsInParallelKeepTheirOwnHistory) {
  // Multi-turn sessions: turn 2 of each conversation continues its own cache while others decode.
  auto e = LoadTiny();
  ASSERT_TRUE(e);
  auto two_turns = [&](int i) {
    auto s = e->NewSession();
    GenerateOptions o;
    o.max_tokens = 8;
    o.ignore_eos = true;
    SamplingParams greedy;
    greedy.temperature = 0;
    o.sampling = greedy;
    std::vector<int32_t> out;
    for (int turn = 0; turn < 2; ++turn) {
      auto ids = e->Tokenize("turn " + std::to_string(turn) + " of conversation " + std::to_string(i), turn == 0);
      EXPECT_TRUE(ids.ok());
      EXPECT_TRUE(s->Append(*ids).ok());
      auto g = s->Generate(o);
      EXPECT_TRUE(g.ok());
      if (g.ok()) out.insert(out.end(), g->ids.begin(), g->ids.end());
    }
    return out;
  };
  constexpr int kConversations = 5;
  std::vector<std::vector<int32_t>> alone, together(kConversations);
  for (int i = 0; i < kConversations; ++i) alone.push_back(two_turns(i));
  std::vector<std::thread> threads;
  for (int i = 0; i < kConversations; ++i) threads.emplace_back([&, i] { together[i] = two_turns(i); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(together, alone);
}

}  // namespace
}  // namespace lfm
