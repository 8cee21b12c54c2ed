// Hostile files and JSON through the CLI (issue #11, inputs): special files where a model file,
// image or request file is expected, oversized and deeply nested JSON, truncated weights, and
// model directories whose files disagree. Each case fails closed (hostile_util.h).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "e2e/hostile_util.h"
#include "test_util.h"

namespace lfm::testing {
namespace {

namespace fs = std::filesystem;

std::string TinyText() { return TestData("lfm2-synthetic/tiny-lfm2"); }
std::string TinyVl() { return TestData("lfm2-vl-synthetic/tiny-lfm2-vl"); }

// A writable copy of a model directory: small files copied (so a case can replace one), weights
// symlinked (so the copy costs nothing).
std::string CopyModel(const std::string& src, const std::string& name) {
  std::string dir = HostileScratch(name);
  for (const auto& e : fs::directory_iterator(src)) {
    const std::string to = dir + "/" + e.path().filename().string();
    if (e.file_size() > (4u << 20)) {
      fs::create_symlink(e.path(), to);
    } else {
      fs::copy_file(e.path(), to);
    }
  }
  return dir;
}

// Replaces one file of a model copy with a FIFO nobody writes to: open() for reading blocks.
void MakeFifo(const std::string& path) {
  fs::remove(path);
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
}

std::string Deep(size_t levels, const std::string& inner = "1") {
  return std::string(levels, '[') + inner + std::string(levels, ']');
}

// Edits one JSON file of a model copy: replaces the first `from` with `to`.
void EditFile(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = SlurpFile(path);
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << path << " has no " << from;
  text.replace(at, from.size(), to);
  fs::remove(path);
  WriteBytes(path, text);
}

TEST(HostileInputs, FifoAsConfigJson) {
  std::string m = CopyModel(TinyText(), "fifo_config");
  MakeFifo(m + "/config.json");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "config.json: not a regular file (a FIFO)");
}

TEST(HostileInputs, FifoAsTokenizerJson) {
  std::string m = CopyModel(TinyText(), "fifo_tokenizer");
  MakeFifo(m + "/tokenizer.json");
  ExpectFailsClosed({"tokenize", "-m", m, "hello"}, "tokenizer.json: not a regular file (a FIFO)");
}

// Used to read /dev/zero until 21 GB.
TEST(HostileInputs, DevZeroSymlinkAsTokenizerJson) {
  std::string m = CopyModel(TinyText(), "devzero_tokenizer");
  fs::remove(m + "/tokenizer.json");
  fs::create_symlink("/dev/zero", m + "/tokenizer.json");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"},
                    "tokenizer.json: not a regular file (a character device)");
}

TEST(HostileInputs, HugeSparseTokenizerJson) {
  std::string m = CopyModel(TinyText(), "huge_tokenizer");
  ASSERT_EQ(::truncate((m + "/tokenizer.json").c_str(), 3LL << 30), 0);
  ExpectFailsClosed({"tokenize", "-m", m, "hello"}, "exceeds the 100 MiB limit for tokenizer.json");
}

TEST(HostileInputs, FifoAsImage) {
  std::string dir = HostileScratch("fifo_image");
  MakeFifo(dir + "/cat.png");
  ExpectFailsClosed({"run", "-m", TinyVl(), "--image", dir + "/cat.png", "-p", "hi", "-n", "1"},
                    "cat.png: not a regular file (a FIFO)");
}

TEST(HostileInputs, DirectoryAsImage) {
  std::string dir = HostileScratch("dir_image");
  fs::create_directories(dir + "/photo.jpg");
  ExpectFailsClosed({"run", "-m", TinyVl(), "--image", dir + "/photo.jpg", "-p", "hi", "-n", "1"},
                    "photo.jpg: not a regular file (a directory)");
}

TEST(HostileInputs, FifoAsMessages) {
  std::string dir = HostileScratch("fifo_messages");
  MakeFifo(dir + "/messages.json");
  ExpectFailsClosed({"run", "-m", TinyText(), "--messages", dir + "/messages.json", "-n", "1"},
                    "messages.json: not a regular file (a FIFO)");
}

TEST(HostileInputs, FifoAsJsonSchema) {
  std::string dir = HostileScratch("fifo_schema");
  MakeFifo(dir + "/schema.json");
  ExpectFailsClosed({"run", "-m", TinyText(), "-p", "hi", "--json-schema", dir + "/schema.json", "-n", "1"},
                    "schema.json: not a regular file (a FIFO)");
}

// 50k levels overflowed the stack (SIGSEGV) in the readers of the parsed tree.
TEST(HostileInputs, DeepMessagesJson) {
  std::string dir = HostileScratch("deep_messages");
  WriteBytes(dir + "/messages.json", "[{\"role\": \"user\", \"content\": " + Deep(50000) + "}]");
  ExpectFailsClosed({"run", "-m", TinyText(), "--messages", dir + "/messages.json", "-n", "1"},
                    "messages.json: JSON nesting deeper than 128");
}

TEST(HostileInputs, DeepToolsJson) {
  std::string dir = HostileScratch("deep_tools");
  WriteBytes(dir + "/tools.json", Deep(50000));
  ExpectFailsClosed({"run", "-m", TinyText(), "-p", "hi", "--tools", dir + "/tools.json", "-n", "1"},
                    "tools.json: JSON nesting deeper than 128");
}

TEST(HostileInputs, DeepJsonSchema) {
  std::string dir = HostileScratch("deep_schema");
  std::string schema;
  for (int i = 0; i < 50000; ++i) schema += "{\"items\": ";
  schema += "{}" + std::string(50000, '}');
  WriteBytes(dir + "/schema.json", schema);
  ExpectFailsClosed({"run", "-m", TinyText(), "-p", "hi", "--json-schema", dir + "/schema.json", "-n", "1"},
                    "JSON nesting deeper than 128");
}

TEST(HostileInputs, DeepConfigJson) {
  std::string m = CopyModel(TinyText(), "deep_config");
  EditFile(m + "/config.json", "\"use_cache\": true", "\"use_cache\": " + Deep(50000));
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "config.json: JSON nesting deeper than 128");
}

TEST(HostileInputs, ConfigWithWrongType) {
  std::string m = CopyModel(TinyText(), "config_wrong_type");
  EditFile(m + "/config.json", "\"hidden_size\": 64", "\"hidden_size\": \"64\"");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "hidden_size");
}

TEST(HostileInputs, ConfigWithMissingModelType) {
  std::string m = CopyModel(TinyText(), "config_missing_field");
  EditFile(m + "/config.json", "\"model_type\": \"lfm2\",", "");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "model_type: missing");
}

TEST(HostileInputs, TruncatedSafetensorsHeader) {
  std::string m = CopyModel(TinyText(), "truncated_safetensors");
  fs::remove(m + "/model.safetensors");
  std::string head = SlurpFile(TinyText() + "/model.safetensors").substr(0, 200);
  WriteBytes(m + "/model.safetensors", head);
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "runs past the end of the 200-byte file");
}

TEST(HostileInputs, SafetensorsHeaderLength2Pow63) {
  std::string m = CopyModel(TinyText(), "safetensors_len_2p63");
  fs::remove(m + "/model.safetensors");
  std::string bytes(8, '\0');
  bytes[7] = '\x80';  // little-endian 2^63
  WriteBytes(m + "/model.safetensors", bytes + "{}");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "header length 9223372036854775808 exceeds");
}

TEST(HostileInputs, DeepSafetensorsHeader) {
  std::string m = CopyModel(TinyText(), "deep_safetensors");
  fs::remove(m + "/model.safetensors");
  std::string header = "{\"__metadata__\": " + Deep(50000) + "}";
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  WriteBytes(m + "/model.safetensors", len + header);
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "model.safetensors: header: JSON nesting deeper than 128");
}

TEST(HostileInputs, PreprocessorAndProcessorConfigsDisagree) {
  std::string m = CopyModel(TinyVl(), "processor_disagree");
  EditFile(m + "/processor_config.json", "\"encoder_patch_size\": 16", "\"encoder_patch_size\": 14");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"},
                    "processor_config.json: encoder_patch_size is 14 but " + m +
                        "/preprocessor_config.json: encoder_patch_size is 16");
}

// The vision tower reads num_channels * patch_size^2 floats per patch: a processor cutting 32x32
// patches while the tower expects 16x16 (or the reverse) read past the pixel buffer.
TEST(HostileInputs, ProcessorPatchSizeDisagreesWithVisionConfig) {
  std::string m = CopyModel(TinyVl(), "processor_vs_vision");
  EditFile(m + "/processor_config.json", "\"encoder_patch_size\": 16", "\"encoder_patch_size\": 32");
  EditFile(m + "/preprocessor_config.json", "\"encoder_patch_size\": 16", "\"encoder_patch_size\": 32");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "vision_config.patch_size is 16");
}

TEST(HostileInputs, VisionConfigWithFourChannels) {
  std::string m = CopyModel(TinyVl(), "vision_channels");
  EditFile(m + "/config.json", "\"num_channels\": 3", "\"num_channels\": 4");
  // The weights' shape catches it (the unit test checks the config-level message).
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"}, "patch_embedding.weight' has shape [64, 768]");
}

TEST(HostileInputs, EosIdOutsideVocabulary) {
  std::string m = CopyModel(TinyText(), "eos_out_of_vocab");
  fs::remove(m + "/generation_config.json");
  WriteBytes(m + "/generation_config.json", R"({"bos_token_id": 1, "eos_token_id": 70000})");
  ExpectFailsClosed({"run", "-m", m, "-p", "hi", "-n", "1"},
                    "generation_config.json: eos_token_id 70000 is outside the vocabulary");
}

// A pre-tokenizer pattern with catastrophic backtracking hits PCRE2's match limit on a crafted
// input. The error was swallowed: an empty encoding and exit 0.
TEST(HostileInputs, PreTokenizerRegexMatchLimit) {
  std::string m = CopyModel(TinyText(), "regex_limit");
  auto j = nlohmann::json::parse(SlurpFile(m + "/tokenizer.json"));
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(a+)+b";
  fs::remove(m + "/tokenizer.json");
  WriteBytes(m + "/tokenizer.json", j.dump());
  ExpectFailsClosed({"tokenize", "-m", m, std::string(40, 'a') + "cb"}, "match limit");
}

}  // namespace
}  // namespace lfm::testing
