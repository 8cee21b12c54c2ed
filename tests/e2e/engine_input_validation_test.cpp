// The library refuses bad input itself (the CLI checks early too, but the future server and other
// callers only have the library): invalid UTF-8 text and out-of-range load options.
#include <gtest/gtest.h>

#include "lfm/chat.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

std::string Model() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

TEST(EngineInputValidation, LoadOptionsOutOfRangeAreRefusedBeforeAnyWork) {
  LoadOptions negative;
  negative.threads = -1;  // used to mean "all cores", silently
  auto a = Engine::Load(Model(), negative);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "threads must be >= 0 (0 = every hardware thread), got -1");
  LoadOptions huge;
  huge.threads = 100000;  // used to abort with std::system_error
  auto b = Engine::Load(Model(), huge);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("threads 100000 is more than the limit of " + std::to_string(MaxLoadThreads())),
            std::string::npos)
      << b.status().message();
  EXPECT_LE(MaxLoadThreads(), 1024);
  LoadOptions ctx;
  ctx.max_context = -4;
  auto c = Engine::Load(Model(), ctx);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("max_context must be >= 0"), std::string::npos) << c.status().message();
}

class EngineUtf8 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = Engine::Load(Model());
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static Engine* engine_;
};
Engine* EngineUtf8::engine_ = nullptr;

TEST_F(EngineUtf8, CompleteRefusesInvalidPromptWithTheOffset) {
  GenerateOptions go;
  go.max_tokens = 1;
  auto r = engine_->Complete("abc\xFF", go);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "prompt: invalid UTF-8 at byte 3");
}

TEST_F(EngineUtf8, StopStringsMustBeUtf8) {
  GenerateOptions go;
  go.max_tokens = 1;
  go.stop = {"fine", "\xC3"};
  auto r = engine_->Complete("hi", go);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "stop string 1: invalid UTF-8 at byte 0");
}

TEST_F(EngineUtf8, ChatRequestAndConversationRefuseInvalidText) {
  ChatOptions co;
  co.generate.max_tokens = 1;
  auto r = engine_->Chat("[{\"role\": \"user\", \"content\": \"\xE9\"}]", co);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "chat request: invalid UTF-8 at byte 30");

  auto conv = engine_->NewConversation();
  Status sys = conv->SetSystemPrompt("ok \xF8");
  ASSERT_FALSE(sys.ok());
  EXPECT_EQ(sys.message(), "system prompt: invalid UTF-8 at byte 3");
  // Used to throw nlohmann's type_error out of Send() and terminate the process.
  auto turn = conv->Send("bad \xC0\xAF", co);
  ASSERT_FALSE(turn.ok());
  EXPECT_EQ(turn.status().message(), "message: invalid UTF-8 at byte 4");
  // The conversation is unharmed: a valid turn still works.
  auto ok = conv->Send("Hello", co);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(conv->turns(), 1);
}

}  // namespace
}  // namespace lfm
