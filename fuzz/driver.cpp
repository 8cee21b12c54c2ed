// A small stand-alone driver for libFuzzer-style targets (LLVMFuzzerTestOneInput), so fuzz targets
// build and run with g++ in CI. It replays every seed file given, then runs a bounded number of
// random mutations of them (bit flips, byte changes, truncations, splices, insertions).
//   usage: <target> [-runs=N] [-seed=S] [-max_len=BYTES] SEED_FILE_OR_DIR...
// A crash, sanitizer report or hang is the failure signal; the mutation that caused it is written
// to ./crash-<target>.bin first so it can be replayed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<uint8_t> ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void Mutate(std::vector<uint8_t>& b, std::mt19937_64& rng, size_t max_len,
            const std::vector<std::vector<uint8_t>>& seeds) {
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 7) {
      case 0: if (!b.empty()) b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
      case 1: if (!b.empty()) b[rng() % b.size()] = static_cast<uint8_t>(rng()); break;
      case 2: if (!b.empty()) b.resize(rng() % b.size()); break;
      case 3: if (b.size() < max_len) b.insert(b.begin() + (b.empty() ? 0 : rng() % b.size()), static_cast<uint8_t>(rng())); break;
      case 4: {  // interesting values: 0x00, 0xFF, 0x7F, 0x80
        static const uint8_t kVals[] = {0x00, 0xFF, 0x7F, 0x80, '"', '{', '[', '\\'};
        if (!b.empty()) b[rng() % b.size()] = kVals[rng() % sizeof(kVals)];
        break;
      }
      case 5: {  // splice a chunk of another seed
        const auto& o = seeds[rng() % seeds.size()];
        if (!o.empty() && b.size() < max_len) {
          size_t off = rng() % o.size(), len = 1 + rng() % std::min<size_t>(64, o.size() - off);
          b.insert(b.begin() + (b.empty() ? 0 : rng() % b.size()), o.begin() + off, o.begin() + off + len);
        }
        break;
      }
      case 6: if (b.size() > 1) { size_t i = rng() % b.size(), j = rng() % b.size(); std::swap(b[i], b[j]); } break;
    }
  }
  if (b.size() > max_len) b.resize(max_len);
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 2000;
  uint64_t seed = 1;
  size_t max_len = 1 << 20;
  std::vector<std::vector<uint8_t>> seeds;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("-runs=", 0) == 0) runs = std::atol(a.c_str() + 6);
    else if (a.rfind("-seed=", 0) == 0) seed = std::strtoull(a.c_str() + 6, nullptr, 10);
    else if (a.rfind("-max_len=", 0) == 0) max_len = std::strtoull(a.c_str() + 9, nullptr, 10);
    else if (std::filesystem::is_directory(a)) {
      for (auto& e : std::filesystem::recursive_directory_iterator(a))
        if (e.is_regular_file() && e.file_size() <= max_len) seeds.push_back(ReadAll(e.path()));
    } else if (std::filesystem::is_regular_file(a)) {
      seeds.push_back(ReadAll(a));
    } else {
      std::fprintf(stderr, "fuzz driver: no such seed file or directory: %s\n", a.c_str());
      return 2;
    }
  }
  if (seeds.empty()) seeds.push_back({});
  for (const auto& s : seeds) LLVMFuzzerTestOneInput(s.data(), s.size());
  std::mt19937_64 rng(seed);
  std::string crash_path = std::string("crash-") + std::filesystem::path(argv[0]).filename().string() + ".bin";
  for (long r = 0; r < runs; ++r) {
    std::vector<uint8_t> b = seeds[rng() % seeds.size()];
    Mutate(b, rng, max_len, seeds);
    {
      std::ofstream out(crash_path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    }
    LLVMFuzzerTestOneInput(b.data(), b.size());
  }
  std::remove(crash_path.c_str());
  std::printf("fuzz: %zu seeds replayed, %ld mutations ran clean\n", seeds.size(), runs);
  return 0;
}
