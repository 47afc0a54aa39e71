#include "learn/reward.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace engram {
namespace {

constexpr double kBonusPerRecovery = 0.05;
constexpr double kMaxBonus = 0.1;

double Round(double v) {
  return std::round(v * 10000.0) / 10000.0;
}

}  // namespace

double OutcomeBase(const Outcome& o) {
  switch (o.kind) {
    case OutcomeKind::kSuccess:
      return 1.0;
    case OutcomeKind::kPartialSuccess: {
      const size_t done = o.completed.size(), all = o.completed.size() + o.failed.size();
      return all == 0 ? 0.5 : static_cast<double>(done) / static_cast<double>(all);
    }
    case OutcomeKind::kAbstained:
      return 0.1;
    case OutcomeKind::kFailure:
      return 0.0;
  }
  return 0.0;
}

std::optional<double> RewardTotal(const nlohmann::json& reward) {
  if (!reward.is_object()) return std::nullopt;
  auto it = reward.find("total");
  if (it == reward.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::vector<std::pair<int64_t, int64_t>> RecoveredFailures(
    const std::vector<ExecutionStep>& steps) {
  std::vector<std::pair<int64_t, int64_t>> out;
  // The open failures per tool, oldest first; the next success of the tool recovers them.
  std::unordered_map<std::string, std::vector<int64_t>> open;
  for (const auto& s : steps) {
    auto& failures = open[s.tool];
    if (!s.success) {
      failures.push_back(s.step_number);
    } else {
      for (int64_t f : failures) out.emplace_back(f, s.step_number);
      failures.clear();
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Reward RewardOf(const Outcome& outcome, const std::vector<ExecutionStep>& steps) {
  Reward r;
  r.outcome_base = OutcomeBase(outcome);
  const auto failed = std::count_if(steps.begin(), steps.end(), [](auto& s) { return !s.success; });
  r.error_rate =
      steps.empty() ? 0.0 : static_cast<double>(failed) / static_cast<double>(steps.size());
  r.recovered_errors = static_cast<int>(RecoveredFailures(steps).size());
  if (r.outcome_base > 0) {
    r.recovery_bonus = std::min(kMaxBonus, kBonusPerRecovery * r.recovered_errors);
  }
  return r;
}

Reward ComputeReward(const Outcome& outcome, const std::vector<ExecutionStep>& steps,
                     double duration_ms, const History& history) {
  return CompareWith(RewardOf(outcome, steps), steps.size(), duration_ms, history);
}

Reward CompareWith(Reward r, size_t steps, double duration_ms, const History& history) {
  r.similar_episodes = history.episodes;
  if (history.episodes > 0) {
    const double n = std::max<double>(1.0, static_cast<double>(steps));
    const double step_eff = std::min(1.0, std::max(1.0, history.median_steps) / n);
    const double time_eff =
        duration_ms <= 0 ? 1.0 : std::min(1.0, history.median_duration_ms / duration_ms);
    r.efficiency = Round((step_eff + time_eff) / 2);
  }
  const double quality = r.efficiency ? 0.5 + 0.25 * *r.efficiency + 0.25 * (1 - r.error_rate)
                                      : 0.5 + 0.5 * (1 - r.error_rate);
  r.total = Round(std::clamp(r.outcome_base * quality + r.recovery_bonus, 0.0, 1.0));
  r.outcome_base = Round(r.outcome_base);
  r.error_rate = Round(r.error_rate);
  r.recovery_bonus = Round(r.recovery_bonus);
  return r;
}

nlohmann::json ToJson(const Reward& r) {
  return nlohmann::json{
      {"total", r.total},
      {"outcome_base", r.outcome_base},
      {"efficiency", r.efficiency ? nlohmann::json(*r.efficiency) : nlohmann::json(nullptr)},
      {"error_rate", r.error_rate},
      {"recovery_bonus", r.recovery_bonus},
      {"recovered_errors", r.recovered_errors},
      {"similar_episodes", r.similar_episodes}};
}

}  // namespace engram
