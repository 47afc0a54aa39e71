#include "core/uuid.h"

#include <gtest/gtest.h>

#include <set>

namespace engram {
namespace {

TEST(Uuid, HasVersion7AndVariantBits) {
  const std::string id = NewUuidV7(std::chrono::system_clock::now());
  ASSERT_TRUE(IsUuid(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
}

TEST(Uuid, EncodesTheMillisecondsInTheFirst48Bits) {
  // Year 2248: later than any id another test makes, so the monotonic clamp does not apply.
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(0x07FFFFFFFFFF));
  const std::string id = NewUuidV7(t);
  EXPECT_EQ(id.substr(0, 13), "07ffffff-ffff") << id;
}

TEST(Uuid, IdsAreStrictlyIncreasingWithinOneMillisecond) {
  const auto now = std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 200);
  std::string prev = NewUuidV7(now);
  std::set<std::string> seen{prev};
  for (int i = 0; i < 10000; ++i) {
    std::string next = NewUuidV7(now);
    ASSERT_LT(prev, next);
    seen.insert(next);
    prev = next;
  }
  EXPECT_EQ(seen.size(), 10001u);
}

TEST(Uuid, IsUuidRejectsOtherShapes) {
  EXPECT_TRUE(IsUuid("0192F0C1-7C4E-7D3A-9B1E-4F2A6C8D0E1F"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1"));
  EXPECT_FALSE(IsUuid("0192f0c1x7c4e-7d3a-9b1e-4f2a6c8d0e1f"));
  EXPECT_FALSE(IsUuid("0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1g"));
}

}  // namespace
}  // namespace engram
