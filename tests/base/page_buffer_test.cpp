#include "base/page_buffer.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace lfm {
namespace {

TEST(PageBuffer, ZeroedWritableAndMovable) {
  PageBuffer empty;
  EXPECT_EQ(empty.data(), nullptr);
  EXPECT_EQ(empty.size(), 0u);
  PageBuffer none(0);
  EXPECT_EQ(none.data(), nullptr);

  const size_t n = 3 * 4096 + 5;  // not a whole number of pages
  PageBuffer a(n);
  ASSERT_NE(a.data(), nullptr);
  ASSERT_EQ(a.size(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(a.data()[i], 0) << i;
  for (size_t i = 0; i < n; ++i) a.data()[i] = static_cast<uint8_t>(i * 31);
  uint8_t* const p = a.data();

  PageBuffer b(std::move(a));  // the pages move with it: pointers into them stay valid
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.data(), p);
  std::vector<PageBuffer> owned;
  owned.push_back(std::move(b));
  owned.emplace_back(100);
  owned.resize(1);  // frees the second
  ASSERT_EQ(owned[0].data(), p);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(p[i], static_cast<uint8_t>(i * 31)) << i;

  PageBuffer c(10);
  c = std::move(owned[0]);  // unmaps c's own pages, takes owned[0]'s
  EXPECT_EQ(c.data(), p);
  EXPECT_EQ(c.size(), n);
  EXPECT_EQ(owned[0].data(), nullptr);
}

}  // namespace
}  // namespace lfm
