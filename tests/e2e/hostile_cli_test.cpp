// Hostile command lines: invalid UTF-8 wherever text enters, absurd flag values, wrong model paths.
// Each must fail closed (exit 1 or 2, fast, small, a message naming the problem).
#include <gtest/gtest.h>

#include "hostile_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::ExpectFailsClosed;

std::string Model() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

// Latin-1 "é" (0xE9) where UTF-8 is expected: byte 6 of "Hello \xE9t\xE9".
const std::string kLatin1 = "Hello \xE9t\xE9";

TEST(HostileCli, InvalidUtf8PromptInRun) {
  ExpectFailsClosed({"run", "-m", Model(), "-p", kLatin1}, "--prompt: invalid UTF-8 at byte 6");
}

TEST(HostileCli, InvalidUtf8PromptInGenerate) {
  ExpectFailsClosed({"generate", "-m", Model(), "-p", kLatin1}, "--prompt: invalid UTF-8 at byte 6");
}

TEST(HostileCli, InvalidUtf8PromptFile) {
  const std::string dir = testing::HostileScratch("utf8_prompt_file");
  testing::WriteBytes(dir + "/prompt.txt", "ok\n\xC0\x80");  // an overlong NUL
  ExpectFailsClosed({"generate", "-m", Model(), "-f", dir + "/prompt.txt"},
                    dir + "/prompt.txt: invalid UTF-8 at byte 3");
}

TEST(HostileCli, InvalidUtf8SystemPrompt) {
  ExpectFailsClosed({"run", "-m", Model(), "-p", "hi", "--system", kLatin1}, "--system: invalid UTF-8 at byte 6");
  ExpectFailsClosed({"render", "-m", Model(), "-p", "hi", "--system", kLatin1}, "--system: invalid UTF-8 at byte 6");
  ExpectFailsClosed({"chat", "-m", Model(), "--system", kLatin1}, "--system: invalid UTF-8 at byte 6", "hi\n");
}

TEST(HostileCli, InvalidUtf8ChatStdinLine) {
  // The bad line is refused by its line number (the chat goes on); the exit code says a turn failed.
  ExpectFailsClosed({"chat", "-m", Model(), "-n", "2", "--json"}, "stdin line 2: invalid UTF-8 at byte 6",
                    "\n" + kLatin1 + "\n");
}

TEST(HostileCli, InvalidUtf8MessagesFile) {
  const std::string dir = testing::HostileScratch("utf8_messages");
  testing::WriteBytes(dir + "/m.json", "[{\"role\": \"user\", \"content\": \"\xFF\"}]");
  ExpectFailsClosed({"run", "-m", Model(), "--messages", dir + "/m.json"}, dir + "/m.json: invalid UTF-8 at byte 30");
}

TEST(HostileCli, InvalidUtf8StopString) {
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--stop", "\xED\xA0\x80"},  // a UTF-16 surrogate
                    "--stop: invalid UTF-8 at byte 0");
}

TEST(HostileCli, InvalidUtf8TokenizeText) {
  ExpectFailsClosed({"tokenize", "-m", Model(), kLatin1}, "TEXT: invalid UTF-8 at byte 6");
}

TEST(HostileCli, NegativeThreads) {
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "-t", "-1"}, "-t/--threads must be >= 0");
}

TEST(HostileCli, AbsurdThreads) {
  // Used to spawn threads until std::system_error aborted the process.
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "-t", "100000"}, "is more than the limit of");
}

TEST(HostileCli, NegativeMaxTokens) {
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "-n", "-5"}, "-n/--max-tokens must be >= 0, got -5");
}

TEST(HostileCli, NegativeContext) {
  ExpectFailsClosed({"run", "-m", Model(), "-p", "hi", "-c", "-1"}, "-c/--ctx-size must be >= 0");
}

TEST(HostileCli, NanTemperature) {
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--temp", "nan"}, "--temp must be a finite number >= 0");
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--temp", "-0.5"}, "--temp must be a finite number >= 0");
}

TEST(HostileCli, TopPOutOfRange) {
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--top-p", "7"}, "--top-p must be in (0, 1] (1 = off), got 7");
  ExpectFailsClosed({"chat", "-m", Model(), "--top-p", "0"}, "--top-p must be in (0, 1] (1 = off), got 0", "hi\n");
}

TEST(HostileCli, OtherSamplingFlagsOutOfRange) {
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--min-p", "1.5"}, "--min-p must be in [0, 1]");
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--top-k", "-1"}, "--top-k must be >= 0");
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--repeat-penalty", "0"},
                    "--repeat-penalty must be a finite number > 0");
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "--stop", ""}, "--stop: an empty stop string");
}

TEST(HostileCli, MissingModelDirectory) {
  ExpectFailsClosed({"generate", "-m", "/nonexistent/model", "-p", "hi"},
                    "'/nonexistent/model' is not a model directory");
}

TEST(HostileCli, ModelPathIsAFile) {
  ExpectFailsClosed({"run", "-m", Model() + "/config.json", "-p", "hi"}, "is a file, not a model directory");
}

TEST(HostileCli, UnknownSubcommand) { ExpectFailsClosed({"frobnicate"}, "unknown subcommand 'frobnicate'"); }

TEST(HostileCli, NonNumericFlagIsAUsageError) {
  // CLI11's own exit codes (105, 106, ...) are mapped to 2.
  ExpectFailsClosed({"generate", "-m", Model(), "-p", "hi", "-t", "lots"}, "--threads");
  ExpectFailsClosed({"generate", "-p", "hi"}, "--model is required");
}

}  // namespace
}  // namespace lfm
