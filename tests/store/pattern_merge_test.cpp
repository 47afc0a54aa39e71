// Summing a batch's pattern contributions and merging evidence lists, as both stores do.
#include "store/pattern_merge.h"

#include <gtest/gtest.h>

#include "learn/patterns.h"

namespace engram {
namespace {

TEST(PrependEvidence, PutsTheFreshKeysFirstAndKeepsTheLimit) {
  EXPECT_EQ(PrependEvidence("[9,8]", "[7,6,5]", 100), "[9,8,7,6,5]");
  EXPECT_EQ(PrependEvidence("[9,8]", "[7,6,5]", 3), "[9,8,7]");
  EXPECT_EQ(PrependEvidence("[9,8,7,6]", "[5]", 3), "[9,8,7]");
  EXPECT_EQ(PrependEvidence("[]", "[7,6]", 100), "[7,6]");
  EXPECT_EQ(PrependEvidence("[9]", "[]", 100), "[9]");
  EXPECT_EQ(PrependEvidence("[]", "[]", 100), "[]");
  // Stored by another writer, spaced out; negative and large keys pass as written.
  EXPECT_EQ(PrependEvidence("[ 1 ]", " [ 2 , -3,\n9223372036854775807 ] ", 100),
            "[1,2,-3,9223372036854775807]");
}

TEST(PrependEvidence, RefusesWhatIsNotAnArrayOfIntegers) {
  for (const char* bad :
       {"", "7", "[", "[1,", "[1,,2]", "[1 2]", "[\"a\"]", "[1.5]", "[1]x", "{}", "[[1]]", "[-]"}) {
    EXPECT_EQ(PrependEvidence("[1]", bad, 100), std::nullopt) << bad;
    EXPECT_EQ(PrependEvidence(bad, "[1]", 100), std::nullopt) << bad;
  }
}

TEST(SumContributions, AddsUpEachPatternOnceInIdOrder) {
  auto contribution = [](const std::string& key, int64_t occurrences, double success) {
    PatternContribution c;
    c.type = PatternType::kToolSequence;
    c.key = key;
    c.id = PatternId(key);
    c.occurrences = occurrences;
    c.success = success;
    c.latency_ms = 10 * occurrences;
    return c;
  };
  Completion a, b;
  a.ended_at = "2026-01-02T00:00:00.000Z";
  b.ended_at = "2026-01-01T00:00:00.000Z";  // completed earlier, imported later
  a.patterns = {contribution("tool_sequence:a > b", 2, 1.0),
                contribution("tool_sequence:b > c", 1, 1.0)};
  b.patterns = {contribution("tool_sequence:a > b", 1, 0.0)};
  const std::optional<std::string> cli = "cli", none;
  const auto merged = SumContributions({{1, &a, &cli}, {2, &b, &none}});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_LT(merged[0].first, merged[1].first);
  const MergedPattern* ab = nullptr;
  for (const auto& [id, m] : merged) {
    if (id == PatternId("tool_sequence:a > b")) ab = &m;
  }
  ASSERT_NE(ab, nullptr);
  EXPECT_EQ(ab->support, 2);
  EXPECT_EQ(ab->occurrences, 3);
  EXPECT_EQ(ab->latency_ms, 30);
  EXPECT_DOUBLE_EQ(ab->success, 1.0);
  EXPECT_EQ(ab->first_seen, b.ended_at);
  EXPECT_EQ(ab->last_seen, a.ended_at);
  EXPECT_EQ(ab->episode_keys, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ab->domains.size(), 1u);
  EXPECT_EQ(ab->domains.at("cli"), 1);
}

}  // namespace
}  // namespace engram
