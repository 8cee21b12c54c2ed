#include "lfm/status.h"

#include <gtest/gtest.h>

namespace lfm {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd value " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  LFM_ASSIGN_OR_RETURN(int h, Half(x));
  LFM_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(Status, ResultPropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().ToString(), "invalid argument: odd value 3");
  EXPECT_EQ(r.status().WithContext("quarter").message(), "quarter: odd value 3");
}

}  // namespace
}  // namespace lfm
