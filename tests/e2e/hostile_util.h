// Hostile-input harness: runs the real `lfm` binary on one bad input and checks that it fails
// closed — exit code 1 or 2 (never a signal), within a time limit, under a memory limit, with a
// message that names the problem. Each hostile_*_test.cpp file holds the cases of one area; every
// case is a plain TEST calling ExpectFailsClosed so a failure names the case.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace lfm::testing {

struct HostileRun {
  bool finished = false;  // false: killed after the time limit (a hang)
  int exit_code = -1;     // -1 when killed by a signal
  int signal = 0;
  double seconds = 0;
  long max_rss_mb = 0;
  std::string out, err;
};

// A scratch directory for one test's files (FIFOs, truncated files, deep JSON, ...).
inline std::string HostileScratch(const std::string& name) {
  std::string dir = std::string(LFM_BINARY_DIR) + "/test-scratch/hostile/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string SlurpFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Runs `lfm args...` directly (no shell) with `stdin_bytes` on standard input; kills it after
// `timeout_s`. max_rss_mb is the child's peak resident set (wait4's rusage).
inline HostileRun RunLfmHostile(const std::vector<std::string>& args, const std::string& stdin_bytes = "",
                                double timeout_s = 10) {
  static int counter = 0;
  std::string base = std::string(LFM_BINARY_DIR) + "/test-scratch/hostile-io-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter++);
  std::filesystem::create_directories(std::string(LFM_BINARY_DIR) + "/test-scratch");
  std::string in_path = base + ".in", out_path = base + ".out", err_path = base + ".err";
  WriteBytes(in_path, stdin_bytes);
  HostileRun r;
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> argv;
    std::string exe = LFM_CLI_PATH;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  for (;;) {
    pid_t w = ::wait4(pid, &status, WNOHANG, &ru);
    if (w == pid) {
      r.finished = true;
      break;
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed > timeout_s) {
      ::kill(pid, SIGKILL);
      ::wait4(pid, &status, 0, &ru);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.max_rss_mb = ru.ru_maxrss / 1024;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = SlurpFile(out_path);
  r.err = SlurpFile(err_path);
  std::remove(in_path.c_str());
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  return r;
}

// The acceptance bar of the hardening issue: exit 1 or 2, < 2 s, < 512 MB, stderr names the problem.
// Sanitizer builds are several times slower, so the time limit is scaled there.
inline void ExpectFailsClosed(const std::vector<std::string>& args, const std::string& expected_in_stderr,
                              const std::string& stdin_bytes = "") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const double limit_s = 20;
  const long limit_mb = 3072;  // ASan shadow memory and quarantine
#else
  const double limit_s = 2;
  const long limit_mb = 512;
#endif
  HostileRun r = RunLfmHostile(args, stdin_bytes, limit_s * 5);
  std::string cmd = "lfm";
  for (const auto& a : args) cmd += " " + (a.size() > 120 ? a.substr(0, 120) + "..." : a);
  ASSERT_TRUE(r.finished) << cmd << ": still running after " << r.seconds << " s (a hang)";
  EXPECT_EQ(r.signal, 0) << cmd << ": killed by signal " << r.signal << "\n" << r.err;
  EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << cmd << ": exit code " << r.exit_code << "\n" << r.err;
  EXPECT_LT(r.seconds, limit_s) << cmd;
  EXPECT_LT(r.max_rss_mb, limit_mb) << cmd;
  EXPECT_NE(r.err.find(expected_in_stderr), std::string::npos)
      << cmd << ": stderr does not mention \"" << expected_in_stderr << "\":\n" << r.err.substr(0, 2000);
}

}  // namespace lfm::testing
