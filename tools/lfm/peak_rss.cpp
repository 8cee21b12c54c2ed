#include "peak_rss.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstring>

namespace lfm::cli {

namespace {

// The value of one "Key:   1234 kB" line of /proc/self/status, in bytes; -1 if absent.
int64_t StatusKb(const char* key) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  const size_t n = std::strlen(key);
  int64_t out = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, key, n) == 0 && line[n] == ':') {
      long long kb = 0;
      if (std::sscanf(line + n + 1, "%lld", &kb) == 1) out = kb * 1024;
      break;
    }
  }
  std::fclose(f);
  return out;
}

}  // namespace

int64_t PeakRssBytes() {
  const int64_t hwm = StatusKb("VmHWM");
  if (hwm >= 0) return hwm;
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

int64_t CurrentRssBytes() {
  const int64_t rss = StatusKb("VmRSS");
  return rss < 0 ? 0 : rss;
}

bool ResetPeakRss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

}  // namespace lfm::cli
