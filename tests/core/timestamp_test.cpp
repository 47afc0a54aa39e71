#include "core/timestamp.h"

#include <fmt/format.h>
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

TEST(Duration, ReadsEachUnitAndTheirSumsAndWritesThemBack) {
  using std::chrono::seconds;
  EXPECT_EQ(*ParseDuration("d", "0s"), seconds(0));
  EXPECT_EQ(*ParseDuration("d", "45s"), seconds(45));
  EXPECT_EQ(*ParseDuration("d", "30m"), seconds(1800));
  EXPECT_EQ(*ParseDuration("d", "12h"), seconds(12 * 3600));
  EXPECT_EQ(*ParseDuration("d", "90d"), seconds(90 * 86400));
  EXPECT_EQ(*ParseDuration("d", "2w"), seconds(14 * 86400));
  EXPECT_EQ(*ParseDuration("d", "1h30m"), seconds(5400));
  EXPECT_EQ(*ParseDuration("d", "1w2d3h4m5s"), seconds(9 * 86400 + 3 * 3600 + 245));
  EXPECT_EQ(FormatDuration(seconds(90 * 86400)), "90d");
  EXPECT_EQ(FormatDuration(seconds(14 * 86400)), "2w");
  EXPECT_EQ(FormatDuration(seconds(5400)), "1h30m");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
  for (int64_t n : {1, 59, 61, 3599, 86401, 777777}) {
    EXPECT_EQ(*ParseDuration("d", FormatDuration(seconds(n))), seconds(n)) << n;
  }
}

TEST(Duration, RefusesWhatIsNotOneNamingTheFieldAndTheValue) {
  for (const char* bad : {"", "90", "d", "5x", "1d2d", "1s1m", "-1d", "1.5h", "1 d", "9d "}) {
    auto r = ParseDuration("--older-than", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(),
              fmt::format("--older-than must be a duration such as 90d, 12h or 1h30m (units w, d, "
                          "h, m, s), got \"{}\"",
                          bad));
  }
  auto r = ParseDuration("older_than", "99999999999999d");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "older_than is too large: at most 1000000000000 seconds, got \"99999999999999d\"");
  EXPECT_FALSE(ParseDuration("older_than", "11574074w").ok());  // 7e12 seconds
}

}  // namespace
}  // namespace engram
