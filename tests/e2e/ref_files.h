// Readers for the reference files in ../shared/testdata: id lists (float32 arrays: ReadF32 in
// test_util.h).
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

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

}  // namespace lfm::testing
