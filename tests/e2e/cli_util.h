// Runs the `lfm` binary for end-to-end tests.
#pragma once

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace lfm::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `lfm ARGS` through the shell (ARGS must be shell-quoted by the caller).
inline CliResult RunLfm(const std::string& args) {
  static int counter = 0;
  std::string err_path = std::string(LFM_BINARY_DIR) + "/test-scratch/lfm-stderr-" + std::to_string(::getpid()) +
                         "-" + std::to_string(counter++) + ".txt";
  std::system(("mkdir -p '" + std::string(LFM_BINARY_DIR) + "/test-scratch'").c_str());
  std::string cmd = std::string("'") + LFM_CLI_PATH + "' " + args + " 2>'" + err_path + "'";
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = std::fopen(err_path.c_str(), "rb")) {
    while ((n = std::fread(buf.data(), 1, buf.size(), e)) > 0) r.err.append(buf.data(), n);
    std::fclose(e);
  }
  std::remove(err_path.c_str());
  return r;
}

inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace lfm::testing
