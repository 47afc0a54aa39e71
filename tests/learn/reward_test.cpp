// Each part of the reward, with values worked out by hand from the formula in reward.h.
#include "learn/reward.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

std::vector<ExecutionStep> Steps(std::initializer_list<std::pair<const char*, bool>> spec) {
  std::vector<ExecutionStep> out;
  int64_t n = 0;
  for (const auto& [tool, ok] : spec) {
    ExecutionStep s;
    s.step_number = ++n;
    s.tool = tool;
    s.success = ok;
    out.push_back(s);
  }
  return out;
}

Outcome Of(OutcomeKind kind) {
  Outcome o;
  o.kind = kind;
  return o;
}

TEST(Reward, OutcomeBase) {
  const auto steps = Steps({{"git", true}});
  EXPECT_DOUBLE_EQ(ComputeReward(Of(OutcomeKind::kSuccess), steps, 0, {}).outcome_base, 1.0);
  EXPECT_DOUBLE_EQ(ComputeReward(Of(OutcomeKind::kFailure), steps, 0, {}).outcome_base, 0.0);
  EXPECT_DOUBLE_EQ(ComputeReward(Of(OutcomeKind::kAbstained), steps, 0, {}).outcome_base, 0.1);
  Outcome partial = Of(OutcomeKind::kPartialSuccess);
  EXPECT_DOUBLE_EQ(ComputeReward(partial, steps, 0, {}).outcome_base, 0.5);
  partial.completed = {"a", "b", "c"};
  partial.failed = {"d"};
  EXPECT_DOUBLE_EQ(ComputeReward(partial, steps, 0, {}).outcome_base, 0.75);
}

TEST(Reward, ErrorRateAndNoHistory) {
  // 1 of 4 steps failed, never recovered: 1 × (0.5 + 0.5 × 0.75) = 0.875.
  const auto steps = Steps({{"a", true}, {"b", false}, {"c", true}, {"d", true}});
  Reward r = ComputeReward(Of(OutcomeKind::kSuccess), steps, 1000, {});
  EXPECT_DOUBLE_EQ(r.error_rate, 0.25);
  EXPECT_FALSE(r.efficiency.has_value());
  EXPECT_DOUBLE_EQ(r.recovery_bonus, 0.0);
  EXPECT_DOUBLE_EQ(r.total, 0.875);
}

TEST(Reward, RecoveryBonusIsCappedAndNeedsSomeSuccess) {
  // cargo fails twice, then succeeds: two recoveries, bonus 0.1; error rate 2/3.
  const auto steps = Steps({{"cargo", false}, {"cargo", false}, {"cargo", true}});
  Reward r = ComputeReward(Of(OutcomeKind::kSuccess), steps, 0, {});
  EXPECT_EQ(r.recovered_errors, 2);
  EXPECT_DOUBLE_EQ(r.recovery_bonus, 0.1);
  EXPECT_DOUBLE_EQ(r.total, 0.7667);  // 0.5 + 0.5 × (1 − 2/3) + 0.1, rounded to 4 places
  const auto more =
      Steps({{"a", false}, {"a", true}, {"b", false}, {"b", true}, {"c", false}, {"c", true}});
  EXPECT_DOUBLE_EQ(ComputeReward(Of(OutcomeKind::kSuccess), more, 0, {}).recovery_bonus, 0.1);
  EXPECT_DOUBLE_EQ(ComputeReward(Of(OutcomeKind::kFailure), more, 0, {}).total, 0.0);
  // A failure recovered by another tool is not a recovery.
  EXPECT_EQ(ComputeReward(Of(OutcomeKind::kSuccess), Steps({{"a", false}, {"b", true}}), 0, {})
                .recovered_errors,
            0);
}

TEST(Reward, EfficiencyAgainstSimilarEpisodes) {
  // Typically 4 steps and 2 s; this one took 8 steps and 4 s: efficiency (0.5 + 0.5) / 2.
  std::vector<ExecutionStep> steps = Steps({{"a", true},
                                            {"a", true},
                                            {"a", true},
                                            {"a", true},
                                            {"a", true},
                                            {"a", true},
                                            {"a", true},
                                            {"a", true}});
  History h{5, 4, 2000};
  Reward r = ComputeReward(Of(OutcomeKind::kSuccess), steps, 4000, h);
  ASSERT_TRUE(r.efficiency.has_value());
  EXPECT_DOUBLE_EQ(*r.efficiency, 0.5);
  EXPECT_EQ(r.similar_episodes, 5);
  EXPECT_DOUBLE_EQ(r.total, 0.875);  // 0.5 + 0.25 × 0.5 + 0.25 × 1
  // Faster and shorter than usual is capped at 1.
  Reward quick = ComputeReward(Of(OutcomeKind::kSuccess), Steps({{"a", true}}), 10, h);
  EXPECT_DOUBLE_EQ(*quick.efficiency, 1.0);
  EXPECT_DOUBLE_EQ(quick.total, 1.0);
}

TEST(Reward, InTwoHalvesItIsTheSame) {
  // A partial success of 3 steps, one failure recovered; typically 2 steps and 1 s.
  Outcome o = Of(OutcomeKind::kPartialSuccess);
  o.completed = {"a", "b"};
  o.failed = {"c"};
  const auto steps = Steps({{"a", false}, {"a", true}, {"b", true}});
  const History h{3, 2, 1000};
  const Reward parts = RewardOf(o, steps);
  EXPECT_FALSE(parts.efficiency.has_value());
  EXPECT_EQ(parts.recovered_errors, 1);
  const Reward whole = ComputeReward(o, steps, 1500, h);
  EXPECT_EQ(ToJson(CompareWith(parts, steps.size(), 1500, h)), ToJson(whole));
  EXPECT_EQ(whole.similar_episodes, 3);
  // base 2/3, efficiency (2/3 + 2/3) / 2, error rate 1/3, bonus 0.05
  EXPECT_DOUBLE_EQ(*whole.efficiency, 0.6667);
  EXPECT_DOUBLE_EQ(whole.total, 0.6056);  // 2/3 × (0.5 + 0.25 × 0.6667 + 0.25 × 2/3) + 0.05
}

TEST(Reward, JsonShowsEveryPart) {
  auto j = ToJson(ComputeReward(Of(OutcomeKind::kSuccess), {}, 0, {}));
  for (const char* k : {"total", "outcome_base", "efficiency", "error_rate", "recovery_bonus",
                        "recovered_errors", "similar_episodes"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_TRUE(j["efficiency"].is_null());
  EXPECT_DOUBLE_EQ(j["total"].get<double>(), 1.0);  // success without steps
}

}  // namespace
}  // namespace engram
