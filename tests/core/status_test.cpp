// Status and Result: a Result holds a value or an error, never an OK status without a value.
#include "engram/status.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

TEST(Result, HoldsAValueOrAnError) {
  Result<int> value = 7;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  EXPECT_TRUE(value.status().ok());
  Result<int> error = Status::NotFound("episode e not found");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status().message(), "episode e not found");
}

TEST(Result, RefusesAnOkStatusWithoutAValue) {
#ifdef NDEBUG
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInternal());
  EXPECT_EQ(r.status().message(), "a Result was made of an OK status, no value");
#else
  EXPECT_DEATH({ Result<int> r = Status::Ok(); }, "a Result holds a value or an error");
#endif
}

#ifndef NDEBUG
TEST(Result, ReadingTheValueOfAFailedResultStopsADebugBuild) {
  EXPECT_DEATH(
      {
        Result<int> r = Status::IOError("disk");
        (void)*r;
      },
      "the value of a failed Result");
}
#endif

}  // namespace
}  // namespace engram
