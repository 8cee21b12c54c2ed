#include "text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <atomic>

#include "base/utf8.h"

namespace lfm {

struct Regex::Code {
  pcre2_code* code = nullptr;
  std::string where;    // the pattern's place in tokenizer.json, for errors
  std::string pattern;  // the source, shortened, for errors
  ~Code() { pcre2_code_free(code); }
};

namespace {

std::string PcreMessage(int rc) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(rc, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// Per-thread match state: the JIT stack must not be shared between threads, and a bigger one
// than the 32 KiB default keeps long whitespace runs from failing.
struct MatchState {
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  MatchState() { pcre2_jit_stack_assign(context, nullptr, stack); }
  ~MatchState() {
    pcre2_match_data_free(data);
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
  }
};

// PCRE2's documented default match limit.
constexpr uint32_t kDefaultMatchLimit = 10'000'000;
std::atomic<uint32_t> g_match_limit{kDefaultMatchLimit};

MatchState& ThreadMatchState() {
  thread_local MatchState state;
  return state;
}

// Oniguruma's \s (what HF tokenizers run) is Unicode White_Space. PCRE2's \s with UCP is \p{Zs} plus
// \h and \v, and its \h also holds U+180E MONGOLIAN VOWEL SEPARATOR (no longer a space since Unicode
// 6.3), so "  \u180e" split differently from HF. Members listed without brackets, for use in a class.
constexpr const char kWhiteSpaceMembers[] =
    "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

}  // namespace

std::string OnigCompatiblePattern(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 64);
  bool in_class = false;
  size_t class_start = 0;  // index just past "[" or "[^": a "]" there is a literal
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char n = pattern[i + 1];
      ++i;
      if (n == 's') {
        out += in_class ? std::string(kWhiteSpaceMembers) : "[" + std::string(kWhiteSpaceMembers) + "]";
      } else if (n == 'S' && !in_class) {
        out += "[^" + std::string(kWhiteSpaceMembers) + "]";
      } else {
        // \S inside a class has no bracket-free complement; PCRE2's own \S stays (differs on U+180E only).
        out += c;
        out += n;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      class_start = i + 1;
      continue;
    }
    if (in_class && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
      size_t close = pattern.find(":]", i + 2);  // a POSIX class [:alpha:] inside a bracket expression
      if (close != std::string_view::npos) {
        out.append(pattern.substr(i, close + 2 - i));
        i = close + 1;
        continue;
      }
    }
    if (in_class && c == ']' && i != class_start) in_class = false;
    out += c;
  }
  return out;
}

Result<Regex> Regex::Compile(std::string_view pattern_in, const std::string& where) {
  int err = 0;
  PCRE2_SIZE offset = 0;
  const std::string pattern = OnigCompatiblePattern(pattern_in);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
  if (code == nullptr) {
    return InvalidArgument(where + ": bad regex /" + std::string(pattern_in) + "/: " + PcreMessage(err) +
                           " at offset " + std::to_string(offset) + " of its PCRE2 form /" + pattern + "/");
  }
  // JIT is an optimisation only: if it is unavailable the interpreter gives the same matches.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto holder = std::make_shared<Code>();
  holder->code = code;
  holder->where = where;
  holder->pattern = pattern.size() <= 80 ? std::string(pattern) : std::string(pattern.substr(0, 77)) + "...";
  Regex r;
  r.code_ = std::move(holder);
  return r;
}

Status Regex::FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  if (!IsValidUtf8(text)) return Internal("regex subject is not valid UTF-8");
  MatchState& st = ThreadMatchState();
  pcre2_set_match_limit(st.context, g_match_limit.load(std::memory_order_relaxed));
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t last_end = 0;          // where the next search starts
  bool have_last = false;       // whether a match has ended at last_match_end
  size_t last_match_end = 0;
  while (last_end <= text.size()) {
    int rc = pcre2_match(code_->code, subject, text.size(), last_end, PCRE2_NO_UTF_CHECK, st.data,
                         st.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return ResourceExhausted(code_->where + ": regex /" + code_->pattern + "/ failed on a " +
                               std::to_string(text.size()) + "-byte piece of text (search from byte " +
                               std::to_string(last_end) + "): " + PcreMessage(rc));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    size_t s = ov[0], e = ov[1];
    if (s == e && have_last && last_match_end == e) {
      // Oniguruma-style iteration: skip an empty match adjoining the previous one, move one char on.
      if (last_end >= text.size()) break;
      int len = Utf8SequenceLength(static_cast<uint8_t>(text[last_end]));
      last_end += len == 0 ? 1 : len;
      continue;
    }
    out.emplace_back(s, e);
    last_end = e;
    last_match_end = e;
    have_last = true;
  }
  return Status::Ok();
}

void Regex::SetMatchLimitForTesting(uint32_t limit) {
  g_match_limit.store(limit == 0 ? kDefaultMatchLimit : limit, std::memory_order_relaxed);
}

}  // namespace lfm
