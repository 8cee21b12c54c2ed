// Hostile weight files through the CLI: a model directory whose config, tokenizer and generation
// config are the tiny model's (symlinks to shared testdata), with a broken model.safetensors or
// index. Each case must fail closed (exit 1/2, < 2 s, < 512 MB, stderr names the problem). The
// data area is written as a sparse file, so a "17 MB" model costs no disk or time.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "e2e/hostile_util.h"

namespace lfm {
namespace {

using testing::ExpectFailsClosed;
using testing::HostileScratch;

const char* kEmbed = "model.embed_tokens.weight";

std::string TinyDir() { return std::string(LFM_TESTDATA_DIR) + "/lfm2-synthetic/tiny-lfm2"; }

// The tiny model's real safetensors header and the size of its data area.
nlohmann::json TinyHeader(uint64_t* data_size) {
  std::ifstream f(TinyDir() + "/model.safetensors", std::ios::binary);
  uint8_t len_bytes[8] = {};
  f.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];
  std::string text(n, '\0');
  f.read(text.data(), static_cast<std::streamsize>(n));
  *data_size = std::filesystem::file_size(TinyDir() + "/model.safetensors") - 8 - n;
  return nlohmann::json::parse(text);
}

// A model directory: the tiny model's small files, and model.safetensors = the 8-byte length
// `declared_len` (default: the header's real length), `header_bytes`, then `data_size` zero bytes.
std::string ModelDir(const std::string& name, const std::string& header_bytes, uint64_t data_size,
                     int64_t declared_len = -1) {
  const std::string dir = HostileScratch("quant_" + name);
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"})
    std::filesystem::create_symlink(TinyDir() + "/" + f, dir + "/" + f);
  const uint64_t len = declared_len < 0 ? header_bytes.size() : static_cast<uint64_t>(declared_len);
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  testing::WriteBytes(dir + "/model.safetensors", bytes + header_bytes);
  std::filesystem::resize_file(dir + "/model.safetensors", 8 + header_bytes.size() + data_size);
  return dir;
}

// The tiny model's header after `edit`, with a data area of the real size (or `data_size`).
std::string EditedModel(const std::string& name, const std::function<void(nlohmann::json&)>& edit,
                        int64_t data_size = -1) {
  uint64_t real_size = 0;
  nlohmann::json h = TinyHeader(&real_size);
  edit(h);
  return ModelDir(name, h.dump(), data_size < 0 ? real_size : static_cast<uint64_t>(data_size));
}

std::vector<std::string> Generate(const std::string& dir) { return {"generate", "-m", dir, "-p", "hi", "-n", "1"}; }

TEST(HostileWeights, HeaderLengthOf4EiB) {
  ExpectFailsClosed(Generate(ModelDir("huge_len", "{}", 0, int64_t{1} << 62)), "exceeds the 100 MB limit");
}

TEST(HostileWeights, HeaderLengthPastTheFile) {
  ExpectFailsClosed(Generate(ModelDir("len_past_end", "{}", 0, 4096)), "runs past the end of the");
}

TEST(HostileWeights, EmptyWeightsFile) {
  const std::string dir = ModelDir("empty", "", 0, 0);
  std::filesystem::resize_file(dir + "/model.safetensors", 0);
  ExpectFailsClosed(Generate(dir), "file is 0 bytes, too short for a safetensors header length");
}

TEST(HostileWeights, HeaderIsNotJson) {
  ExpectFailsClosed(Generate(ModelDir("not_json", "\xff\xfe garbage {", 0)), "header is not valid JSON");
}

TEST(HostileWeights, HeaderNested200kDeep) {
  ExpectFailsClosed(Generate(ModelDir("deep", std::string(200000, '[') + std::string(200000, ']'), 0)),
                    "JSON nesting deeper than 128");
}

// Before: nlohmann kept the second entry and the first was silently dropped.
TEST(HostileWeights, TensorListedTwice) {
  uint64_t data_size = 0;
  nlohmann::json h = TinyHeader(&data_size);
  std::string text = h.dump();
  text.pop_back();  // the closing brace: append a second entry for the embedding table
  nlohmann::json second = h[kEmbed];
  second["data_offsets"] = {0, 16};
  second["shape"] = {2, 2};
  text += ",\"" + std::string(kEmbed) + "\":" + second.dump() + "}";
  ExpectFailsClosed(Generate(ModelDir("duplicate", text, data_size)),
                    "tensor 'model.embed_tokens.weight': listed twice in the header");
}

TEST(HostileWeights, DataOffsetsPastTheFile) {
  ExpectFailsClosed(Generate(EditedModel("offsets_past", [](nlohmann::json& h) { h[kEmbed]["data_offsets"][1] = 1ull << 40; })),
                    "is past the data area");
}

TEST(HostileWeights, DataOffsetsReversed) {
  ExpectFailsClosed(Generate(EditedModel("offsets_reversed",
                                         [](nlohmann::json& h) {
                                           auto o = h[kEmbed]["data_offsets"];
                                           h[kEmbed]["data_offsets"] = {o[1], o[0]};
                                         })),
                    "are reversed");
}

TEST(HostileWeights, ShapeOfTwoTo80Elements) {
  ExpectFailsClosed(
      Generate(EditedModel("shape_huge", [](nlohmann::json& h) { h[kEmbed]["shape"] = {1ull << 40, 1ull << 40}; })),
      "shape is too large");
}

TEST(HostileWeights, ShapeDisagreesWithDataOffsets) {
  ExpectFailsClosed(Generate(EditedModel("shape_vs_span", [](nlohmann::json& h) { h[kEmbed]["shape"] = {65536, 32}; })),
                    "needs 8388608 bytes but data_offsets span 16777216");
}

TEST(HostileWeights, UnknownDtype) {
  ExpectFailsClosed(Generate(EditedModel("dtype", [](nlohmann::json& h) { h[kEmbed]["dtype"] = "Q9"; })),
                    "unknown dtype 'Q9'");
}

TEST(HostileWeights, TensorMissing) {
  ExpectFailsClosed(Generate(EditedModel("missing", [](nlohmann::json& h) { h.erase("model.layers.3.ffn_norm.weight"); })),
                    "missing tensor 'model.layers.3.ffn_norm.weight'");
}

TEST(HostileWeights, TensorShapeNotTheModels) {
  ExpectFailsClosed(Generate(EditedModel("wrong_shape",
                                         [](nlohmann::json& h) { h["model.layers.0.ffn_norm.weight"]["shape"] = {8, 8}; })),
                    "'model.layers.0.ffn_norm.weight' has shape [8, 8], expected [64]");
}

TEST(HostileWeights, FileCutInHalf) {
  uint64_t data_size = 0;
  TinyHeader(&data_size);
  ExpectFailsClosed(Generate(EditedModel("truncated", [](nlohmann::json&) {}, static_cast<int64_t>(data_size / 2))),
                    "is past the data area");
}

// Before: open() of a FIFO for reading blocked until a writer came: a hang.
TEST(HostileWeights, WeightsFileIsAFifo) {
  const std::string dir = ModelDir("fifo", "{}", 0);
  std::filesystem::remove(dir + "/model.safetensors");
  ASSERT_EQ(::mkfifo((dir + "/model.safetensors").c_str(), 0644), 0);
  ExpectFailsClosed(Generate(dir), "model.safetensors: not a regular file (a FIFO)");
}

TEST(HostileWeights, ShardIndexEscapesTheDirectory) {
  const std::string dir = ModelDir("index_traversal", "{}", 0);
  std::filesystem::remove(dir + "/model.safetensors");
  testing::WriteBytes(dir + "/model.safetensors.index.json",
                      R"({"weight_map": {"model.embed_tokens.weight": "../../../../etc/passwd"}})");
  ExpectFailsClosed(Generate(dir), "names an invalid shard file '../../../../etc/passwd'");
}

}  // namespace
}  // namespace lfm
