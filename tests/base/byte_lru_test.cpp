// ByteLru (base/byte_lru.h): the byte-budget bookkeeping under the prefix and image caches. Expected
// orders and counts are worked out by hand from the LRU rule: newest / most recently touched first,
// the oldest evicted until a new item fits.
#include "base/byte_lru.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lfm {
namespace {

std::vector<std::string> Order(const ByteLru<std::string>& lru) {
  std::vector<std::string> v;
  for (const auto& item : lru) v.push_back(item.value);
  return v;
}

TEST(ByteLru, EvictsLeastRecentlyUsedUntilTheNewItemFits) {
  ByteLru<std::string> lru(100);
  ASSERT_TRUE(lru.Insert("a", 40));
  ASSERT_TRUE(lru.Insert("b", 40));
  EXPECT_EQ(Order(lru), (std::vector<std::string>{"b", "a"}));
  lru.Touch(lru.FindIf([](const std::string& s) { return s == "a"; }));  // a is now the newest
  ASSERT_TRUE(lru.Insert("c", 50));  // 130 > 100: b (least recently used) goes, 90 left
  EXPECT_EQ(Order(lru), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(lru.bytes(), 90u);
  EXPECT_EQ(lru.evictions(), 1u);
  ASSERT_TRUE(lru.Insert("d", 100));  // needs the whole budget: both go
  EXPECT_EQ(Order(lru), (std::vector<std::string>{"d"}));
  EXPECT_EQ(lru.bytes(), 100u);
  EXPECT_EQ(lru.evictions(), 3u);
}

TEST(ByteLru, ItemLargerThanTheBudgetIsNotKeptAndEvictsNothing) {
  ByteLru<std::string> lru(100);
  ASSERT_TRUE(lru.Insert("a", 60));
  EXPECT_FALSE(lru.Insert("huge", 101));
  EXPECT_EQ(Order(lru), (std::vector<std::string>{"a"}));
  EXPECT_EQ(lru.bytes(), 60u);
  EXPECT_EQ(lru.evictions(), 0u);
  ByteLru<std::string> off;  // budget 0 (the default): keeps nothing
  EXPECT_FALSE(off.Insert("x", 1));
  EXPECT_EQ(off.size(), 0u);
}

TEST(ByteLru, SmallerBudgetEvictsAtOnceAndZeroDropsAll) {
  ByteLru<std::string> lru(100);
  lru.Insert("a", 30);
  lru.Insert("b", 30);
  lru.Insert("c", 30);
  lru.SetMaxBytes(65);  // 90 > 65: a goes
  EXPECT_EQ(Order(lru), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(lru.bytes(), 60u);
  lru.SetMaxBytes(0);
  EXPECT_EQ(lru.size(), 0u);
  EXPECT_EQ(lru.bytes(), 0u);
  EXPECT_EQ(lru.evictions(), 3u);
}

TEST(ByteLru, EraseReturnsItsBytesWithoutCountingAnEviction) {
  ByteLru<std::string> lru(100);
  lru.Insert("a", 30);
  lru.Insert("b", 50);
  lru.Erase(lru.FindIf([](const std::string& s) { return s == "b"; }));
  EXPECT_EQ(Order(lru), (std::vector<std::string>{"a"}));
  EXPECT_EQ(lru.bytes(), 30u);
  EXPECT_EQ(lru.evictions(), 0u);
  EXPECT_TRUE(lru.FindIf([](const std::string& s) { return s == "b"; }) == lru.end());
  ASSERT_TRUE(lru.Insert("c", 70));  // 30 + 70 fits exactly
  EXPECT_EQ(lru.evictions(), 0u);
}

TEST(ByteLru, FillStatsCopiesTheBookkeeping) {
  struct Stats {
    uint64_t hits = 5, evictions = 0;
    size_t entries = 0, bytes = 0, max_bytes = 0;
  } st;
  ByteLru<std::string> lru(50);
  lru.Insert("a", 30);
  lru.Insert("b", 30);  // a evicted
  lru.FillStats(&st);
  EXPECT_EQ(st.hits, 5u);  // the cache's own counters are left alone
  EXPECT_EQ(st.evictions, 1u);
  EXPECT_EQ(st.entries, 1u);
  EXPECT_EQ(st.bytes, 30u);
  EXPECT_EQ(st.max_bytes, 50u);
}

}  // namespace
}  // namespace lfm
