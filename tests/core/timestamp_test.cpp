#include "core/timestamp.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

TEST(Timestamp, FormatsUtcWithMilliseconds) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795621620123));
  EXPECT_EQ(FormatTimestamp(t), "2026-11-25T15:47:00.123Z");
}

TEST(Timestamp, NormalizesOffsetsAndFractions) {
  EXPECT_EQ(*NormalizeTimestamp("t", "2026-11-24T15:47:00Z"), "2026-11-24T15:47:00.000Z");
  EXPECT_EQ(*NormalizeTimestamp("t", "2026-11-24T16:47:00.5+01:00"), "2026-11-24T15:47:00.500Z");
  EXPECT_EQ(*NormalizeTimestamp("t", "2026-11-24t10:17:00.123456-05:30"),
            "2026-11-24T15:47:00.123Z");
  EXPECT_EQ(*NormalizeTimestamp("t", "2026-12-31T23:59:59.999-01:00"), "2027-01-01T00:59:59.999Z");
}

TEST(Timestamp, RejectsMalformedTextNamingTheField) {
  for (const char* bad :
       {"", "yesterday", "2026-11-24", "2026-11-24T15:47:00", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T15:47:00.Z",
        "2026-11-24T15:47:00Zjunk", "2026-11-24T15:47:00+1:00"}) {
    auto r = NormalizeTimestamp("timestamp", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find("timestamp must be an RFC 3339 timestamp"),
              std::string::npos)
        << r.status().message();
  }
}

TEST(Timestamp, RejectsYearsTheClockCannotHold) {
  EXPECT_EQ(*NormalizeTimestamp("t", "2261-12-31T23:59:59.999Z"), "2261-12-31T23:59:59.999Z");
  EXPECT_EQ(*NormalizeTimestamp("t", "1678-01-01T00:00:00Z"), "1678-01-01T00:00:00.000Z");
  for (const char* bad : {"2262-06-01T00:00:00Z", "2999-01-01T00:00:00Z", "1677-01-01T00:00:00Z",
                          "0000-01-01T00:00:00Z"}) {
    auto r = NormalizeTimestamp("timestamp", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(),
              std::string("timestamp year must be 1678 to 2261, got \"") + bad + "\"");
  }
}

}  // namespace
}  // namespace engram
