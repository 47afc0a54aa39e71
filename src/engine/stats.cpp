// Memory::stats: one pass over the committed steps, after a flush so that every accepted step
// counts. Percentiles are exact (nearest rank over the sorted latencies of each tool).
#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>
#include <unordered_map>

#include "core/saturating.h"
#include "core/timestamp.h"
#include "engine/memory_impl.h"

namespace engram {
namespace {

constexpr size_t kSlowest = 10;

struct ToolAccumulator {
  std::vector<int64_t> latencies;
  int64_t succeeded = 0;
  int64_t tokens = 0;
};

// The smallest value with at least p% of the values at or below it. REQUIRES: sorted, non-empty.
int64_t NearestRank(const std::vector<int64_t>& sorted, double p) {
  assert(!sorted.empty() && std::is_sorted(sorted.begin(), sorted.end()));
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// The timeline's points by minute ("2026-12-03T05:10", a prefix of the stored RFC 3339 UTC
// timestamps), folded into the bucket asked for or chosen once the span of the data is known.
class Timeline {
 public:
  StatsBucket& at(std::string_view timestamp) {
    // Steps come mostly in time order: most fall in the minute of the one before.
    const std::string_view minute = timestamp.substr(0, kMinute);
    if (last_ == nullptr || minute != last_minute_) {
      auto it = minutes_.try_emplace(std::string(minute)).first;
      last_minute_ = it->first;  // a map's keys stay where they are
      last_ = &it->second;
    }
    return *last_;
  }

  // The points, oldest first, in `bucket` or (none) the finest that covers the data in at most
  // kMaxTimelinePoints.
  std::vector<StatsBucket> fold(std::optional<TimeBucket>& bucket) const {
    if (!bucket) bucket = Choose();
    std::vector<StatsBucket> out;
    for (const auto& [minute, point] : minutes_) {  // in time order
      std::string start = *bucket == TimeBucket::kMinute ? minute + ":00Z"
                          : *bucket == TimeBucket::kHour ? minute.substr(0, kHour) + ":00:00Z"
                                                         : minute.substr(0, kDay) + "T00:00:00Z";
      if (out.empty() || out.back().start != start) {
        out.emplace_back().start = std::move(start);
      }
      StatsBucket& b = out.back();
      b.steps += point.steps;
      b.failed_steps += point.failed_steps;
      b.tokens = SaturatingAdd(b.tokens, point.tokens);
      b.episodes += point.episodes;
      for (const auto& [kind, n] : point.outcomes) b.outcomes[kind] += n;
    }
    return out;
  }

 private:
  static constexpr size_t kMinute = 16, kHour = 13, kDay = 10;

  TimeBucket Choose() const {
    if (minutes_.empty()) return TimeBucket::kDay;
    auto first = ParseTimestamp("timeline", minutes_.begin()->first + ":00Z");
    auto last = ParseTimestamp("timeline", minutes_.rbegin()->first + ":00Z");
    if (!first.ok() || !last.ok()) return TimeBucket::kDay;
    const auto span = *last - *first;
    if (span < std::chrono::minutes(kMaxTimelinePoints)) return TimeBucket::kMinute;
    if (span < std::chrono::hours(kMaxTimelinePoints)) return TimeBucket::kHour;
    return TimeBucket::kDay;
  }

  std::map<std::string, StatsBucket> minutes_;
  std::string_view last_minute_;
  StatsBucket* last_ = nullptr;
};

}  // namespace

Result<Stats> MemoryImpl::stats(const StatsFilter& filter) {
  StatsFilter f = filter;
  if (f.since) {
    auto ts = NormalizeBound("since", *f.since);
    if (!ts.ok()) return ts.status();
    f.since = std::move(*ts);
  }
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  // Read your writes: everything accepted so far is committed first. A commit error is the
  // business of flush's own callers; the statistics report what is stored.
  (void)flush();

  std::unordered_map<std::string, ToolAccumulator> by_tool;
  auto slower = [](const SlowStep& a, const SlowStep& b) { return a.latency_ms > b.latency_ms; };
  std::vector<SlowStep> slowest;  // a min-heap on latency of the kSlowest slowest so far
  Stats out;
  Timeline timeline;
  Status s = store_->scan_steps(f, [&](const StepFacts& step) {
    ++out.steps;
    StatsBucket& point = timeline.at(step.timestamp);
    ++point.steps;
    point.failed_steps += step.success ? 0 : 1;
    point.tokens = SaturatingAdd(point.tokens, step.tokens.value_or(0));
    auto& acc = by_tool[std::string(step.tool)];
    acc.latencies.push_back(step.latency_ms);
    acc.succeeded += step.success ? 1 : 0;
    acc.tokens = SaturatingAdd(acc.tokens, step.tokens.value_or(0));
    if (slowest.size() < kSlowest || step.latency_ms > slowest.front().latency_ms) {
      slowest.push_back(SlowStep{std::string(step.episode_id), step.step_number,
                                 std::string(step.tool), std::string(step.action),
                                 step.latency_ms});
      std::push_heap(slowest.begin(), slowest.end(), slower);
      if (slowest.size() > kSlowest) {
        std::pop_heap(slowest.begin(), slowest.end(), slower);
        slowest.pop_back();
      }
    }
  });
  if (!s.ok()) return s;
  s = store_->count_episodes(f, [&](const EpisodeCount& c) {
    out.episodes_by_status[std::string(c.status)] += c.episodes;
    StatsBucket& point = timeline.at(c.minute);
    point.episodes += c.episodes;
    if (c.outcome) {
      out.outcomes[std::string(*c.outcome)] += c.episodes;
      point.outcomes[std::string(*c.outcome)] += c.episodes;
    }
  });
  if (!s.ok()) return s;
  std::optional<TimeBucket> bucket = f.bucket;
  out.timeline = timeline.fold(bucket);
  out.bucket = *bucket;

  for (auto& [tool, acc] : by_tool) {
    std::sort(acc.latencies.begin(), acc.latencies.end());
    ToolStats t;
    t.tool = tool;
    t.calls = static_cast<int64_t>(acc.latencies.size());
    t.success_rate = static_cast<double>(acc.succeeded) / static_cast<double>(t.calls);
    t.latency_p50_ms = NearestRank(acc.latencies, 50);
    t.latency_p95_ms = NearestRank(acc.latencies, 95);
    t.latency_p99_ms = NearestRank(acc.latencies, 99);
    t.latency_max_ms = acc.latencies.back();
    t.tokens_total = acc.tokens;
    t.tokens_mean = static_cast<double>(acc.tokens) / static_cast<double>(t.calls);
    // The latencies are sorted: each range's count is the distance between two bounds' places.
    auto from = acc.latencies.begin();
    for (int64_t bound : kLatencyBoundsMs) {
      auto to = std::upper_bound(from, acc.latencies.end(), bound);
      t.latency_histogram.push_back(to - from);
      from = to;
    }
    t.latency_histogram.push_back(acc.latencies.end() - from);
    out.tools.push_back(std::move(t));
  }
  std::sort(out.tools.begin(), out.tools.end(), [](const ToolStats& a, const ToolStats& b) {
    return a.calls != b.calls ? a.calls > b.calls : a.tool < b.tool;
  });
  std::sort(slowest.begin(), slowest.end(), [](const SlowStep& a, const SlowStep& b) {
    return a.latency_ms != b.latency_ms
               ? a.latency_ms > b.latency_ms
               : std::tie(a.episode_id, a.step_number) < std::tie(b.episode_id, b.step_number);
  });
  out.slowest_steps = std::move(slowest);
  return out;
}

}  // namespace engram
