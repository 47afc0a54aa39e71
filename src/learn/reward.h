// The reward of a completed episode: a number in [0, 1] and the parts it is made of.
//
//   total = min(1, base × (0.5 + 0.25 × efficiency + 0.25 × (1 − error_rate)) + bonus)
//           with 0.5 × (1 − error_rate) in place of the last two terms when there is no history
//   base       success 1; partial_success completed / (completed + failed), 0.5 without lists;
//              abstained 0.1; failure 0
//   efficiency the mean of min(1, typical steps / steps) and min(1, typical time / time), where
//              typical is the median over up to 50 similar completed episodes (same task type
//              and domain); absent when there are none
//   error_rate failed steps / steps (0 without steps)
//   bonus      0.05 per failed step that a later success of the same tool recovered, at most
//              0.1, and only when base > 0
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "engram/types.h"

namespace engram {

// What similar past episodes needed, when there are any.
struct History {
  int episodes = 0;
  double median_steps = 0;
  double median_duration_ms = 0;
};

struct Reward {
  double total = 0;
  double outcome_base = 0;
  std::optional<double> efficiency;
  double error_rate = 0;
  double recovery_bonus = 0;
  int recovered_errors = 0;
  int similar_episodes = 0;
};

// The outcome's part of the reward: success 1, partial_success the share completed (0.5
// without lists), abstained 0.1, failure 0.
double OutcomeBase(const Outcome& outcome);

// The total of a stored reward document ({"total": x, …}); none when it has no number there.
std::optional<double> RewardTotal(const nlohmann::json& reward);

// `duration_ms` is the episode's wall time, started_at to ended_at.
Reward ComputeReward(const Outcome& outcome, const std::vector<ExecutionStep>& steps,
                     double duration_ms, const History& history);

// ComputeReward in two halves, for when the similar episodes are known only later: the parts
// the episode alone decides (unrounded, no total), then the comparison and the total.
Reward RewardOf(const Outcome& outcome, const std::vector<ExecutionStep>& steps);
Reward CompareWith(Reward parts, size_t steps, double duration_ms, const History& history);

nlohmann::json ToJson(const Reward& r);

// The step numbers of failed steps that a later success of the same tool recovered, each with
// the number of that success.
std::vector<std::pair<int64_t, int64_t>> RecoveredFailures(const std::vector<ExecutionStep>& steps);

}  // namespace engram
