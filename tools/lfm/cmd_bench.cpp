// lfm bench: speed of a model as llama-bench measures it, so the two can be put side by side:
// prefill (ppN: N prompt tokens in one timed prefill) and decode (tgN: N timed single-token forward
// passes), optionally at a depth (-d D: D tokens already in the cache, untimed), every combination of
// the lists given (-p, -n, -d, -t, --dtype, --kv-type), each repeated -r times after one untimed warm-up run;
// median and standard deviation of tok/s. Decode rows also give the bytes one token reads (decoder
// weights at their in-memory dtype + the KV cache at that depth) and the GB/s that makes, next to the
// machine's read bandwidth measured in the same run. VL models: --image FILE times the vision tower
// per image and per crop (tile), and one end-to-end image analysis.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "base/cpu_features.h"
#include "base/mapped_file.h"
#include "bench_streams.h"
#include "commands.h"
#include "common_options.h"
#include "engine/random_model.h"
#include "kernels/bf16_dot.h"
#include "kernels/vision_gemm.h"
#include "lfm/chat.h"
#include "peak_rss.h"
#include "read_bandwidth.h"

namespace lfm::cli {

namespace {

// Medians settle within a few runs; a bound keeps a mistyped -r from running for days.
constexpr int kMaxReps = 1000;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Sample standard deviation (n - 1), as llama-bench reports it; 0 for one sample.
double Stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Peak RSS of one loaded engine (each --dtype / -t combination loads its own) next to what the
// engine accounts for (MemoryUse: weights as loaded + KV cache + scratch).
struct MemRow {
  std::string dtype;
  std::string kv_type;
  int threads = 0;
  int64_t base_rss = 0;  // resident before the load (program, libraries, earlier leftovers)
  int64_t peak_rss = 0;
  MemoryUse use;
  bool per_load = true;  // false: the kernel refused to reset the peak, so it spans earlier loads too
};

struct Opts {
  std::string model;
  std::string mmproj;
  std::string shape;
  std::vector<std::string> dtypes{"auto"};
  std::vector<std::string> kv_types{"f32"};
  std::vector<int> prompt{512}, gen{128}, depth{0}, threads{0};
  std::vector<std::string> images;
  int image_gen = 16;
  int reps = 5;
  int max_context = 0;
  std::string output = "md";
  bool json = false;
  bool no_bandwidth_probe = false;
  std::vector<int> streams;  // --streams: concurrent-generation tests instead of pp/tg
  int stream_prompt = 32;
  double rss_ratio = 1.1;
  bool check_rss = false;
};

// One row of the results table.
struct Row {
  std::string dtype;
  int threads = 0;
  std::string test;  // "pp512", "tg128 @ d512", "vision tile", ...
  std::string unit;  // "tok/s" or "ms"
  std::vector<double> samples;
  double bytes_per_token = 0;  // decode rows: weights + KV read per decoded token
  int prompt = 0, gen = 0, depth = 0;
  int streams = 0;  // --streams rows: concurrent generations
  std::string kv_type = {};  // "f32" / "bf16": how the KV cache stores keys and values (set once a load's rows are in)
};

std::string TestName(const char* kind, int n, int depth) {
  std::string s = kind + std::to_string(n);
  if (depth > 0) s += " @ d" + std::to_string(depth);
  return s;
}

// Ordinary (non-special) ids only, so the run looks like text.
std::vector<int32_t> RandomIds(int n, int vocab, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> pick(std::min(501, vocab - 1), vocab - 1);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = pick(rng);
  return ids;
}

GenerateOptions Greedy(int max_tokens) {
  GenerateOptions go;
  go.max_tokens = max_tokens;
  go.ignore_eos = true;
  go.sampling = SamplingParams{.temperature = 0};
  return go;
}

// Runs `depth` untimed tokens, then the timed part. pp: n prompt tokens in one prefill (prefill_ms).
// tg: n decode passes, as llama-bench's tgN: one more token is generated than timed, because the
// first comes from the prefill's logits (Timings::decode_ms covers the n passes after it).
Result<double> RunOnce(Engine& engine, bool prefill, int n, int depth, std::mt19937& rng) {
  const int vocab = engine.info().vocab_size;
  auto session = engine.NewSession();
  if (depth > 0) {
    LFM_RETURN_IF_ERROR(session->Append(RandomIds(depth, vocab, rng)));
    LFM_ASSIGN_OR_RETURN(Generation warm, session->Generate(Greedy(0)));
    (void)warm;
  }
  LFM_RETURN_IF_ERROR(session->Append(RandomIds(prefill ? n : 1, vocab, rng)));
  LFM_ASSIGN_OR_RETURN(Generation g, session->Generate(Greedy(prefill ? 1 : n + 1)));
  if (g.finish_reason == "error") return Internal(g.error);
  if (prefill) return g.timings.prefill_tokens_per_s();
  if (g.timings.generated_tokens != n + 1)
    return Internal("decode stopped after " + std::to_string(g.timings.generated_tokens) + " tokens (" +
                    g.finish_reason + ")");
  return g.timings.decode_tokens_per_s();
}

struct ImageRun {
  double encode_ms = 0;  // vision tower + projector, the whole image
  int crops = 0;         // tiles (+ thumbnail) the processor cut it into
  double total_ms = 0;   // image encode + prompt prefill + image_gen decoded tokens
};

Result<ImageRun> RunImage(Engine& engine, const std::string& path, int gen) {
  nlohmann::json req = {
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "image"}, {"image", path}}, {{"type", "text"}, {"text", "Describe this image in detail."}}}}}}}};
  ChatOptions co;
  co.generate = Greedy(gen);
  ImageRun run;
  co.generate.on_progress = [&run](const Progress& p) {
    if (p.stage == "vision") run.crops = static_cast<int>(p.total);
    return true;
  };
  LFM_ASSIGN_OR_RETURN(ChatResult r, engine.Chat(req.dump(), co));
  const Timings& t = r.generation.timings;
  if (r.generation.finish_reason == "error") return Internal(r.generation.error);
  for (double ms : t.image_encode_ms) run.encode_ms += ms;
  run.total_ms = run.encode_ms + t.prefill_ms + t.decode_ms;
  return run;
}

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double Mb(int64_t bytes) { return static_cast<double>(bytes) / 1e6; }

int64_t MaxPeak(const std::vector<MemRow>& mem) {
  int64_t p = 0;
  for (const MemRow& m : mem) p = std::max(p, m.peak_rss);
  return p;
}

void PrintMemory(const Opts& o, const std::vector<MemRow>& mem) {
  std::printf("\n| dtype | kv | threads | peak RSS | weights | KV cache | scratch | bound (%.2fx sum) | peak / sum |\n",
              o.rss_ratio);
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const MemRow& m : mem) {
    const double ratio = m.use.total() > 0 ? static_cast<double>(m.peak_rss) / m.use.total() : 0;
    std::printf("| %s | %s | %d | %.1f MB | %.1f MB | %.1f MB | %.1f MB | %.1f MB | %.3f %s|\n", m.dtype.c_str(),
                m.kv_type.c_str(), m.threads,
                Mb(m.peak_rss), Mb(m.use.weight_bytes), Mb(m.use.kv_cache_bytes), Mb(m.use.scratch_bytes),
                o.rss_ratio * Mb(m.use.total()), ratio,
                RssWithinBound(m.peak_rss, m.use.total(), o.rss_ratio) ? "" : "OVER ");
  }
  if (!mem.empty() && !mem[0].per_load)
    std::printf("(the kernel did not allow resetting the peak: each row's peak spans the loads before it)\n");
}

// How bf16 weights are multiplied here (kernels/bf16_dot.h): vdpbf16ps, or FMA on weights widened to
// f32 where the probe found vdpbf16ps slower; with the probe's figures when it ran.
std::string Bf16MathNote() {
  const Bf16DotSpeed& s = Bf16DotProbeResult();
  std::string note = UseBf16Dot() ? "vdpbf16ps (activations rounded to bf16)" : "FMA on weights widened to f32";
  if (s.measured) {
    note += "; vdpbf16ps " + Fmt("%.1f", s.dot_products_per_ns) + " vs FMA " + Fmt("%.1f", s.fma_products_per_ns) +
            " products/ns on this core";
  }
  if (CpuHasAvx512Bf16()) note += "; LFM_ISA=avx512bf16 forces vdpbf16ps, LFM_ISA=avx512 FMA";
  return note;
}

// How the vision tower multiplies its bf16 / f16 weights (kernels/vision_gemm.h, PackedMath).
std::string VisionMathNote() {
  switch (VisionPackedMath()) {
    case PackedMath::kFp16:
      return "bf16/f16 weights: fp16 FMA, runs of 64 products summed in fp16, then in f32 (AVX512_FP16; "
             "LFM_ISA=avx512 keeps f32 math)";
    case PackedMath::kBf16Dot:
      return "bf16 weights: vdpbf16ps (activations rounded to bf16)";
    case PackedMath::kF32:
      break;
  }
  return "f32 FMA";
}

void PrintMarkdown(const Opts& o, const ModelInfo& info, const std::vector<Row>& rows, const ReadBandwidth& bw,
                   const std::vector<MemRow>& mem) {
  std::printf("model        %s (%s, %d layers, hidden %d)\n", o.model.c_str(), info.model_type.c_str(),
              info.num_layers, info.hidden_size);
  std::printf("kernels      %s  (CPU supports %s; LFM_ISA=scalar|avx2|avx512 lowers it)\n", IsaName(ActiveIsa()),
              IsaName(DetectCpuIsa()));
  std::printf("bf16 math    %s\n", Bf16MathNote().c_str());
  if (info.has_vision) std::printf("vision math  %s\n", VisionMathNote().c_str());
  if (bw.gb_per_s > 0)
    std::printf("memory read  %.1f GB/s  (streaming read of %zu MB, %d threads, this run)\n", bw.gb_per_s,
                bw.buffer_bytes >> 20, bw.threads);
  std::printf("reps         %d (+1 warm-up), median ± stddev\n\n", o.reps);
  std::printf("| dtype | kv | threads | test | median | ± stddev | bytes/token | GB/s |\n");
  std::printf("|---|---|---:|---|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    const double med = Median(r.samples);
    std::string bytes = "", gbs = "";
    if (r.bytes_per_token > 0) {
      bytes = Fmt("%.1f MB", r.bytes_per_token / 1e6);
      gbs = Fmt("%.1f", r.bytes_per_token * med / 1e9);
      if (bw.gb_per_s > 0) gbs += Fmt(" (%.0f%%)", 100.0 * r.bytes_per_token * med / 1e9 / bw.gb_per_s);
    }
    std::printf("| %s | %s | %d | %s | %.2f %s | %.2f | %s | %s |\n", r.dtype.c_str(), r.kv_type.c_str(), r.threads,
                r.test.c_str(), med, r.unit.c_str(), Stddev(r.samples), bytes.c_str(), gbs.c_str());
  }
  // --streams: each aggregate against the single-stream one of the same run.
  if (std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.streams > 1; })) std::printf("\n");
  for (const Row& r : rows) {
    if (r.streams <= 1 || r.unit != "tok/s") continue;
    for (const Row& one : rows) {
      if (one.streams == 1 && one.unit == "tok/s" && one.gen == r.gen && one.dtype == r.dtype &&
          one.kv_type == r.kv_type &&
          one.threads == r.threads && Median(one.samples) > 0)
        std::printf("%s: %.2fx the single-stream aggregate\n", r.test.c_str(), Median(r.samples) / Median(one.samples));
    }
  }
  PrintMemory(o, mem);
}

nlohmann::ordered_json RowJson(const Row& r) {
  const double med = Median(r.samples);
  nlohmann::ordered_json j = {{"dtype", r.dtype},       {"kv_type", r.kv_type},   {"threads", r.threads},
                              {"test", r.test},
                              {"n_prompt", r.prompt},   {"n_gen", r.gen},         {"n_depth", r.depth},
                              {"unit", r.unit},         {"median", med},          {"stddev", Stddev(r.samples)},
                              {"samples", r.samples}};
  if (r.streams > 0) j["n_streams"] = r.streams;
  if (r.bytes_per_token > 0) {
    j["bytes_per_token"] = r.bytes_per_token;
    j["gb_s"] = r.bytes_per_token * med / 1e9;
  }
  return j;
}

void PrintJson(const Opts& o, const ModelInfo& info, const std::vector<Row>& rows, const ReadBandwidth& bw,
               const std::vector<MemRow>& mem) {
  nlohmann::ordered_json j = {{"model", o.model},
                              {"model_type", info.model_type},
                              {"kernel_isa", IsaName(ActiveIsa())},
                              {"cpu_isa", IsaName(DetectCpuIsa())},
                              {"bf16_dot", UseBf16Dot()},
                              {"bf16_math", Bf16MathNote()},
                              {"vision_math", info.has_vision ? VisionMathNote() : ""},
                              {"reps", o.reps},
                              {"memory_read_gb_s", bw.gb_per_s},
                              {"peak_rss_mb", Mb(MaxPeak(mem))},
                              {"rss_ratio", o.rss_ratio}};
  j["results"] = nlohmann::ordered_json::array();
  for (const Row& r : rows) j["results"].push_back(RowJson(r));
  j["memory"] = nlohmann::ordered_json::array();
  for (const MemRow& m : mem)
    j["memory"].push_back({{"dtype", m.dtype},
                           {"kv_type", m.kv_type},
                           {"threads", m.threads},
                           {"base_rss_bytes", m.base_rss},
                           {"peak_rss_bytes", m.peak_rss},
                           {"peak_is_per_load", m.per_load},
                           {"weight_bytes", m.use.weight_bytes},
                           {"kv_cache_bytes", m.use.kv_cache_bytes},
                           {"scratch_bytes", m.use.scratch_bytes},
                           {"accounted_bytes", m.use.total()},
                           {"bound_bytes", o.rss_ratio * static_cast<double>(m.use.total())},
                           {"within_bound", RssWithinBound(m.peak_rss, m.use.total(), o.rss_ratio)}});
  std::printf("%s\n", j.dump().c_str());
}

void PrintCsv(const Opts& o, const std::vector<Row>& rows, const ReadBandwidth& bw) {
  std::printf("model,kernel_isa,dtype,threads,test,n_prompt,n_gen,n_depth,unit,median,stddev,bytes_per_token,gb_s,"
              "memory_read_gb_s,kv_type\n");
  for (const Row& r : rows) {
    const double med = Median(r.samples);
    std::printf("\"%s\",%s,%s,%d,%s,%d,%d,%d,%s,%.4f,%.4f,%.0f,%.3f,%.3f,%s\n", o.model.c_str(), IsaName(ActiveIsa()),
                r.dtype.c_str(), r.threads, r.test.c_str(), r.prompt, r.gen, r.depth, r.unit.c_str(), med,
                Stddev(r.samples), r.bytes_per_token, r.bytes_per_token * med / 1e9, bw.gb_per_s,
                r.kv_type.c_str());
  }
}

// Flag values out of range, checked before a model is written or loaded.
Status ValidateFlags(const Opts& o) {
  auto list = [](const std::vector<int>& v, const char* flag, int lo) -> Status {
    if (v.empty()) return InvalidArgument(std::string(flag) + " needs at least one value");
    for (int x : v)
      if (x < lo)
        return InvalidArgument("need " + std::string(flag) + " >= " + std::to_string(lo) + " (got " + flag + " " +
                               std::to_string(x) + ")");
    return Status::Ok();
  };
  LFM_RETURN_IF_ERROR(list(o.prompt, "-p", 1));
  LFM_RETURN_IF_ERROR(list(o.gen, "-n", 1));
  LFM_RETURN_IF_ERROR(list(o.depth, "-d", 0));
  LFM_RETURN_IF_ERROR(list(o.threads, "-t", 0));
  for (int t : o.threads)
    if (t > MaxLoadThreads())
      return InvalidArgument("-t " + std::to_string(t) + " is more than the limit of " +
                             std::to_string(MaxLoadThreads()) + " (4x this machine's hardware threads)");
  if (o.reps < 1 || o.reps > kMaxReps)
    return InvalidArgument("need 1 <= -r <= " + std::to_string(kMaxReps) + " (got -r " + std::to_string(o.reps) + ")");
  if (o.image_gen < 1) return InvalidArgument("need --image-tokens >= 1 (got " + std::to_string(o.image_gen) + ")");
  if (o.max_context < 0) return InvalidArgument("-c/--ctx-size must be >= 0, got " + std::to_string(o.max_context));
  for (int st : o.streams)
    if (st < 1 || st > 256) return InvalidArgument("--streams values must be in [1, 256], got " + std::to_string(st));
  if (o.stream_prompt < 1)
    return InvalidArgument("need --stream-prompt >= 1 (got " + std::to_string(o.stream_prompt) + ")");
  if (!(o.rss_ratio >= 1.0) || o.rss_ratio > 100.0)
    return InvalidArgument("need 1 <= --rss-ratio <= 100 (got " + std::to_string(o.rss_ratio) + ")");
  if (o.output != "md" && o.output != "json" && o.output != "csv")
    return InvalidArgument("-o must be md, json or csv, got '" + o.output + "'");
  for (const std::string& d : o.dtypes)
    if (d != "auto" && d != "f32" && d != "bf16" && d != "f16" && d != "q8_0" && d != "q4_0")
      return InvalidArgument("--dtype must be auto, f32, bf16, f16, q8_0 or q4_0, got '" + d + "'");
  if (o.kv_types.empty()) return InvalidArgument("--kv-type needs at least one value");
  for (const std::string& k : o.kv_types)
    if (k != "f32" && k != "bf16") return InvalidArgument("--kv-type must be f32 or bf16, got '" + k + "'");
  return Status::Ok();
}

}  // namespace

void RegisterBench(CLI::App& app, Runners& runners) {
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Measure prefill (ppN) and decode (tgN) speed like llama-bench: every combination of the lists given,\n"
      "median and stddev of -r runs after one warm-up. Decode rows give the bytes one token reads (weights at\n"
      "their in-memory dtype + KV cache at that depth) and the GB/s achieved, next to the machine's read\n"
      "bandwidth measured in the same run. -m takes a model directory or a llama.cpp .gguf file.\n"
      "With --shape, a random model of that shape is written first to the -m directory if it has none.");
  SetExamples(sub, {
      R"ex(lfm bench -m /tmp/tiny --shape tiny -p 64 -n 16)ex",
      R"ex(lfm bench -m /tmp/tiny --shape tiny -p 16,64 -n 8 -d 0,32 -t 1,2 -r 3 -o csv)ex",
      R"ex(lfm bench -m /tmp/tiny-vl --shape tiny-vl -p 32 -n 8 --image photo.jpg -o json)ex",
      R"ex(lfm bench -m /tmp/lfm2-350m --shape lfm2-350m -p 512 -n 128 --dtype f32,bf16,q8_0,q4_0)ex",
      R"ex(lfm bench -m /tmp/tiny --shape tiny --streams 1,2,4,8 -n 32 -r 2)ex",
  });
  sub->add_option("-m,--model", o->model, "Model directory (Hugging Face layout) or a llama.cpp .gguf file")
      ->required();
  sub->add_option("--mmproj", o->mmproj, MmprojHelp());
  sub->add_option("--shape", o->shape, "Write a random model of this shape to -m DIR first if it has no weights");
  sub->add_option("--dtype", o->dtypes,
                  "Weight dtypes in memory, comma-separated: auto (as stored), f32, bf16, f16, q8_0, q4_0 (a VL model's vision tower takes the float types; with q8_0 / q4_0 it stays as stored)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--kv-type", o->kv_types,
                  "KV cache types, comma-separated: f32, bf16 (keys and values rounded to bf16: half the cache "
                  "bytes a decoded token reads)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("-p,--n-prompt", o->prompt, "Prompt lengths for prefill tests (ppN), comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("-n,--n-gen", o->gen, "Decoded tokens for decode tests (tgN), comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("-d,--n-depth", o->depth, "Tokens already in the cache before each test (untimed), comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("-t,--threads", o->threads, "Thread counts, comma-separated (0 = all cores)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("-r,--reps", o->reps, "Repetitions after one warm-up (median and stddev), at most 1000")
      ->capture_default_str();
  sub->add_option("--image", o->images,
                  "VL models: time the vision tower on this image (per image and per crop) and one end-to-end "
                  "image analysis (repeatable)");
  sub->add_option("--image-tokens", o->image_gen, "Tokens decoded in the end-to-end image analysis")
      ->capture_default_str();
  sub->add_option("-c,--ctx-size", o->max_context, "Context length (0 = the model's max_position_embeddings)");
  sub->add_option("-o,--output", o->output, "Output format: md (a table), json or csv")->capture_default_str();
  sub->add_flag("--json", o->json, "Same as -o json");
  sub->add_option("--streams", o->streams,
                  "Concurrent generations, comma-separated (e.g. 1,2,4,8): instead of the pp/tg tests, run that many\n"
                  "streams at once on one engine (continuous batching) and report the aggregate decode tok/s of -n\n"
                  "tokens per stream, and p50/p99 time to first token of the streams started together")
      ->delimiter(',');
  sub->add_option("--stream-prompt", o->stream_prompt, "Prompt tokens of each --streams stream")->capture_default_str();
  sub->add_flag("--no-bandwidth-probe", o->no_bandwidth_probe, "Skip the machine read-bandwidth measurement");
  sub->add_option("--rss-ratio", o->rss_ratio,
                  "The bound the memory table checks each load's peak RSS against: this many times the engine's\n"
                  "accounted bytes (weights as loaded + KV cache + scratch)")
      ->capture_default_str();
  sub->add_flag("--check-rss", o->check_rss, "Exit with status 1 if a load's peak RSS is above the --rss-ratio bound");
  runners.emplace_back(sub, [o]() {
    if (o->json) o->output = "json";
    if (Status st = ValidateFlags(*o); !st.ok()) return UsageError("bench", st);
    const bool is_gguf = o->model.size() > 5 && o->model.compare(o->model.size() - 5, 5, ".gguf") == 0;
    if (!o->shape.empty() && !is_gguf && !FileExists(o->model + "/model.safetensors")) {
      auto shape = RandomModelShapeByName(o->shape);
      if (!shape.ok()) {
        std::fprintf(stderr, "lfm bench: %s\n", shape.status().message().c_str());
        return kExitUsage;
      }
      std::fprintf(stderr, "lfm bench: writing random '%s' model to %s\n", o->shape.c_str(), o->model.c_str());
      if (Status st = WriteRandomModel(*shape, o->model, {}); !st.ok()) {
        std::fprintf(stderr, "lfm bench: %s\n", st.ToString().c_str());
        return kExitFailure;
      }
    }
    std::vector<Row> rows;
    std::vector<MemRow> mem;
    ModelInfo info;
    std::mt19937 rng(1234);
    for (const std::string& dtype : o->dtypes) {
      for (const std::string& kv : o->kv_types) {
        for (int threads : o->threads) {
          LoadOptions lo;
          lo.threads = threads;
          lo.weight_dtype = dtype;
          lo.kv_type = kv;
          lo.max_context = o->max_context;
          lo.mmproj = o->mmproj;
          MemRow mem_row;
          mem_row.threads = threads;
          mem_row.per_load = ResetPeakRss();
          mem_row.base_rss = CurrentRssBytes();
          auto loaded = Engine::Load(o->model, lo);
          if (!loaded.ok()) {
            std::fprintf(stderr, "lfm bench: cannot load model: %s\n", loaded.status().ToString().c_str());
            return kExitFailure;
          }
          Engine& engine = **loaded;
          info = engine.info();
          // Rows from here on are of this KV type (set once they are all in, whichever branch made them).
          auto stamp_kv = [&rows, first = rows.size(), kv_name = info.kv_type] {
            for (size_t i = first; i < rows.size(); ++i) rows[i].kv_type = kv_name;
          };
          // Checked before any prompt is allocated: -p 2000000000 would otherwise ask for 8 GB of ids.
          const int max_depth = *std::max_element(o->depth.begin(), o->depth.end());
          const int64_t need = static_cast<int64_t>(max_depth) +
                               std::max(*std::max_element(o->prompt.begin(), o->prompt.end()),
                                        *std::max_element(o->gen.begin(), o->gen.end()) + 1);
          if (info.max_context > 0 && need > info.max_context) {
            std::fprintf(stderr, "lfm bench: -d %d + -p/-n %lld tokens exceed the model's context of %d tokens\n",
                         max_depth, static_cast<long long>(need - max_depth), info.max_context);
            return kExitUsage;
          }
          if (!o->images.empty() && !info.has_vision) {
            std::fprintf(stderr, "lfm bench: --image needs a vision-language (LFM2-VL) model; %s is %s\n",
                         o->model.c_str(), info.model_type.c_str());
            return kExitUsage;
          }
          const std::string dtype_name = info.weight_dtype;
          // Read once this engine's tests are done, before the next load and the bandwidth probe's buffer.
          auto record_memory = [&]() {
            mem_row.dtype = dtype_name;
            mem_row.kv_type = info.kv_type;
            mem_row.peak_rss = PeakRssBytes();
            mem_row.use = engine.memory_use();
            mem.push_back(mem_row);
          };
          const int nthreads =
              threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
          auto measure = [&](Row row, bool prefill, int n) -> bool {
            for (int r = 0; r <= o->reps; ++r) {  // run 0 warms caches and page-ins, not counted
              auto v = RunOnce(engine, prefill, n, row.depth, rng);
              if (!v.ok()) {
                std::fprintf(stderr, "lfm bench: %s: %s\n", row.test.c_str(), v.status().ToString().c_str());
                return false;
              }
              if (r > 0) row.samples.push_back(*v);
            }
            rows.push_back(std::move(row));
            return true;
          };
          if (!o->streams.empty()) {
            // Interleaved: each repetition runs every stream count once, so a slow patch of a loaded
            // machine hits all counts alike and their ratios stay comparable.
            for (int n : o->gen) {
              std::vector<Row> agg, p50, p99;
              std::vector<std::vector<double>> ttft(o->streams.size());
              for (int st : o->streams) {
                const std::string name = "tg" + std::to_string(n) + " x" + std::to_string(st) + " streams";
                agg.push_back(
                    Row{dtype_name, nthreads, name + " (aggregate)", "tok/s", {}, 0, o->stream_prompt, n, 0, st});
                p50.push_back(Row{dtype_name, nthreads, "ttft p50 x" + std::to_string(st) + " streams (pp" +
                                  std::to_string(o->stream_prompt) + ")", "ms", {}, 0, o->stream_prompt, n, 0, st});
                p99.push_back(p50.back());
                p99.back().test.replace(5, 3, "p99");
              }
              for (int r = 0; r <= o->reps; ++r) {
                for (size_t i = 0; i < o->streams.size(); ++i) {
                  auto run = RunStreams(engine, o->streams[i], o->stream_prompt, n, rng);
                  if (!run.ok()) {
                    std::fprintf(stderr, "lfm bench: %s: %s\n", agg[i].test.c_str(), run.status().ToString().c_str());
                    return kExitFailure;
                  }
                  if (r == 0) continue;
                  agg[i].samples.push_back(run->aggregate_tok_s);
                  ttft[i].insert(ttft[i].end(), run->ttft_ms.begin(), run->ttft_ms.end());
                }
              }
              for (size_t i = 0; i < o->streams.size(); ++i) {
                p50[i].samples = {Percentile(ttft[i], 50)};
                p99[i].samples = {Percentile(ttft[i], 99)};
                rows.push_back(agg[i]);
              }
              for (size_t i = 0; i < o->streams.size(); ++i) rows.push_back(p50[i]);
              for (size_t i = 0; i < o->streams.size(); ++i) rows.push_back(p99[i]);
            }
            record_memory();
            stamp_kv();
            continue;
          }
          for (int depth : o->depth) {
            for (int p : o->prompt) {
              Row row{dtype_name, nthreads, TestName("pp", p, depth), "tok/s", {}, 0, p, 0, depth};
              if (!measure(row, true, p)) return kExitFailure;
            }
            for (int n : o->gen) {
              // Each decoded token reads every weight once and the KV cache up to its position.
              const double avg_pos = depth + 1 + (n - 1) / 2.0;
              Row row{dtype_name, nthreads, TestName("tg", n, depth), "tok/s", {}, 0, 0, n, depth};
              row.bytes_per_token = static_cast<double>(info.decode_weight_bytes) +
                                    avg_pos * static_cast<double>(info.kv_bytes_per_position);
              if (!measure(row, false, n)) return kExitFailure;
            }
          }
          for (const std::string& image : o->images) {
            Row tile{dtype_name, nthreads, "vision ms/crop: " + image, "ms", {}, 0, 0, 0, 0};
            Row whole{dtype_name, nthreads, "vision ms/image: " + image, "ms", {}, 0, 0, 0, 0};
            Row e2e{dtype_name, nthreads, "image analysis ms (encode+prefill+tg" + std::to_string(o->image_gen) +
                        "): " + image, "ms", {}, 0, 0, o->image_gen, 0};
            for (int r = 0; r <= o->reps; ++r) {
              auto run = RunImage(engine, image, o->image_gen);
              if (!run.ok()) {
                std::fprintf(stderr, "lfm bench: %s: %s\n", image.c_str(), run.status().ToString().c_str());
                return kExitFailure;
              }
              if (r == 0) continue;
              tile.samples.push_back(run->encode_ms / std::max(1, run->crops));
              whole.samples.push_back(run->encode_ms);
              e2e.samples.push_back(run->total_ms);
              tile.prompt = run->crops;  // reported as n_prompt in json/csv: the crop count
            }
            rows.push_back(tile);
            rows.push_back(whole);
            rows.push_back(e2e);
          }
          record_memory();
          stamp_kv();
        }
      }
    }
    ReadBandwidth bw;
    if (!o->no_bandwidth_probe)
      bw = MeasureReadBandwidth(*std::max_element(o->threads.begin(), o->threads.end()));
    if (o->output == "json") {
      PrintJson(*o, info, rows, bw, mem);
    } else if (o->output == "csv") {
      PrintCsv(*o, rows, bw);
    } else {
      PrintMarkdown(*o, info, rows, bw, mem);
    }
    if (o->check_rss) {
      for (const MemRow& m : mem) {
        if (RssWithinBound(m.peak_rss, m.use.total(), o->rss_ratio)) continue;
        std::fprintf(stderr,
                     "lfm bench: --check-rss: dtype %s, KV %s, %d threads: peak RSS %.1f MB is more than %.2f x (weights "
                     "%.1f MB + KV cache %.1f MB + scratch %.1f MB) = %.1f MB\n",
                     m.dtype.c_str(), m.kv_type.c_str(), m.threads, Mb(m.peak_rss), o->rss_ratio, Mb(m.use.weight_bytes),
                     Mb(m.use.kv_cache_bytes), Mb(m.use.scratch_bytes), o->rss_ratio * Mb(m.use.total()));
        return kExitFailure;
      }
    }
    return kExitOk;
  });
}

}  // namespace lfm::cli
