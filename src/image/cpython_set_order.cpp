// Emulates Objects/setobject.c (set_add_entry with linear probing + perturbation, resize to
// 4 * used when fill * 5 >= mask * 3) and tuplehash's xxHash-style mixing from Objects/tupleobject.c.
#include "image/cpython_set_order.h"

#include <cstddef>
#include <cstdint>

namespace lfm {
namespace {

constexpr uint64_t kPrime1 = 11400714785074694791ULL;
constexpr uint64_t kPrime2 = 14029467366897019727ULL;
constexpr uint64_t kPrime5 = 2870177450012600261ULL;
constexpr size_t kLinearProbes = 9;
constexpr int kPerturbShift = 5;

int64_t TupleHash(int a, int b) {
  uint64_t acc = kPrime5;
  for (uint64_t lane : {static_cast<uint64_t>(a), static_cast<uint64_t>(b)}) {
    acc += lane * kPrime2;
    acc = (acc << 31) | (acc >> 33);
    acc *= kPrime1;
  }
  acc += 2ULL ^ (kPrime5 ^ 3527539ULL);
  if (acc == static_cast<uint64_t>(-1)) return 1546275796;
  return static_cast<int64_t>(acc);
}

struct Entry {
  bool used = false;
  int64_t hash = 0;
  std::pair<int, int> key;
};

// set_insert_clean: used when rebuilding the table (no dummies, no duplicates).
void InsertClean(std::vector<Entry>& table, const Entry& e) {
  const size_t mask = table.size() - 1;
  size_t perturb = static_cast<size_t>(e.hash);
  size_t i = static_cast<size_t>(e.hash) & mask;
  while (true) {
    if (!table[i].used) {
      table[i] = e;
      return;
    }
    if (i + kLinearProbes <= mask) {
      for (size_t j = 1; j <= kLinearProbes; ++j) {
        if (!table[i + j].used) {
          table[i + j] = e;
          return;
        }
      }
    }
    perturb >>= kPerturbShift;
    i = (i * 5 + 1 + perturb) & mask;
  }
}

}  // namespace

std::vector<std::pair<int, int>> CPythonSetOrder(const std::vector<std::pair<int, int>>& items) {
  std::vector<Entry> table(8);
  size_t fill = 0, used = 0;
  for (const auto& key : items) {
    const int64_t hash = TupleHash(key.first, key.second);
    const size_t mask = table.size() - 1;
    size_t perturb = static_cast<size_t>(hash);
    size_t i = static_cast<size_t>(hash) & mask;
    bool present = false;
    size_t slot = 0;
    bool found = false;
    while (!found) {
      const size_t probes = i + kLinearProbes <= mask ? kLinearProbes : 0;
      for (size_t j = 0; j <= probes; ++j) {
        const Entry& e = table[i + j];
        if (!e.used) {
          slot = i + j;
          found = true;
          break;
        }
        if (e.hash == hash && e.key == key) {
          present = true;
          found = true;
          break;
        }
      }
      if (found) break;
      perturb >>= kPerturbShift;
      i = (i * 5 + 1 + perturb) & mask;
    }
    if (present) continue;
    table[slot] = Entry{true, hash, key};
    ++fill;
    ++used;
    if (fill * 5 < mask * 3) continue;
    // set_table_resize(so, used > 50000 ? used * 2 : used * 4)
    const size_t minused = used > 50000 ? used * 2 : used * 4;
    size_t newsize = 8;
    while (newsize <= minused) newsize <<= 1;
    std::vector<Entry> bigger(newsize);
    for (const Entry& e : table) {
      if (e.used) InsertClean(bigger, e);
    }
    table.swap(bigger);
    fill = used;
  }
  std::vector<std::pair<int, int>> order;
  for (const Entry& e : table) {
    if (e.used) order.push_back(e.key);
  }
  return order;
}

}  // namespace lfm
