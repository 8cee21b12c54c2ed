// Readers for the reference files in ../shared/testdata (id lists, raw float32 arrays).
#pragma once

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/mapped_file.h"

namespace lfm::testing {

// One vector of ids per line of a whitespace-separated ids file.
inline std::vector<std::vector<int>> ReadIdLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<int>> lines;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int> ids;
    int v;
    while (ls >> v) ids.push_back(v);
    lines.push_back(ids);
  }
  return lines;
}

// Little-endian float32 array; empty if the file cannot be read.
inline std::vector<float> ReadF32(const std::string& path) {
  auto bytes = ReadFileToString(path);
  if (!bytes.ok()) return {};
  std::vector<float> v(bytes->size() / 4);
  if (!v.empty()) std::memcpy(v.data(), bytes->data(), v.size() * 4);
  return v;
}

}  // namespace lfm::testing
