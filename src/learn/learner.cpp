#include "learn/learner.h"

#include <algorithm>

#include "core/timestamp.h"
#include "learn/patterns.h"
#include "learn/recall.h"
#include "learn/reflection.h"
#include "learn/reward.h"

namespace engram {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

}  // namespace

History Summarize(const std::vector<EpisodeCost>& costs) {
  History h;
  h.episodes = static_cast<int>(costs.size());
  std::vector<double> steps, durations;
  for (const auto& c : costs) {
    steps.push_back(static_cast<double>(c.steps));
    durations.push_back(static_cast<double>(c.duration_ms));
  }
  h.median_steps = Median(steps);
  h.median_duration_ms = Median(durations);
  return h;
}

Completion Learn(const Episode& episode, const Outcome& outcome,
                 std::chrono::system_clock::time_point ended_at,
                 const std::vector<EpisodeCost>& history) {
  Completion c;
  c.outcome = outcome;
  c.ended_at = FormatTimestamp(ended_at);
  c.step_count = static_cast<int64_t>(episode.steps.size());
  if (auto started = ParseTimestamp("started_at", episode.started_at); started.ok()) {
    c.duration_ms = std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(ended_at - *started).count());
  }
  const Reward reward =
      ComputeReward(outcome, episode.steps, static_cast<double>(c.duration_ms), Summarize(history));
  c.reward = ToJson(reward).dump();
  c.patterns = ExtractPatterns(episode, reward.outcome_base);
  c.pattern_ids = PatternIdList(c.patterns);
  const nlohmann::json reflection = ToJson(Reflect(episode.steps, outcome));
  c.reflection = reflection.dump();
  c.reflection_text = ReflectionText(reflection);
  c.steps_text = StepsText(episode.steps);
  return c;
}

}  // namespace engram
