// Errors are values: every fallible library call returns Status or Result<T>.
// Nothing in the library calls exit() or aborts on user input; messages name the offending input.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace lfm {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is malformed (bad file contents, bad option)
  kNotFound,          // a file, tensor, token or key that must exist does not
  kIoError,           // the OS refused (open, read, mmap)
  kUnsupported,       // well-formed but not something lfm.cpp implements; refused loudly
  kOutOfRange,        // e.g. past the context length
  kResourceExhausted, // a configured limit (size, depth, time) was hit
  kInternal,          // a bug in lfm.cpp
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>"
  std::string ToString() const;
  // Returns a copy whose message is "<context>: <message>", for adding where an error happened.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or an error. Accessing value() of an error is a programming bug (checked in debug builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}          // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lfm

#define LFM_CONCAT_INNER_(a, b) a##b
#define LFM_CONCAT_(a, b) LFM_CONCAT_INNER_(a, b)

#define LFM_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::lfm::Status lfm_status_ = (expr);        \
    if (!lfm_status_.ok()) return lfm_status_; \
  } while (0)

#define LFM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// LFM_ASSIGN_OR_RETURN(auto x, MakeX()); returns the error from the enclosing function on failure.
#define LFM_ASSIGN_OR_RETURN(lhs, expr) \
  LFM_ASSIGN_OR_RETURN_IMPL_(LFM_CONCAT_(lfm_result_, __LINE__), lhs, expr)
