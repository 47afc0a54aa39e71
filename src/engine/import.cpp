// Memory::import_episodes: whole episodes validated as the calls that record them would, learnt
// from when completed, and written in one transaction.
#include <fmt/format.h>

#include <future>
#include <optional>

#include "core/timestamp.h"
#include "core/uuid.h"
#include "engine/memory_impl.h"
#include "learn/recall.h"

namespace engram {
namespace {

Status Prefixed(std::string_view where, const Status& s) {
  if (s.ok()) return s;
  return Status::InvalidArgument(fmt::format("{}: {}", where, s.message()));
}

}  // namespace

Result<std::vector<Status>> MemoryImpl::import_episodes(std::vector<Episode> episodes) {
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  const auto now = options_.clock->now();
  std::vector<Status> results(episodes.size());
  std::vector<ImportedEpisode> batch;
  std::vector<size_t> index_of;  // batch position -> position in `episodes`

  auto prepare = [&](Episode& e) -> Result<ImportedEpisode> {
    ImportedEpisode item;
    if (e.id.empty()) {
      e.id = NewUuidV7(now);
    } else {
      auto id = NormalizeEpisodeId(e.id);
      if (!id.ok()) return id.status();
      e.id = *id;
    }
    EpisodeSpec spec{e.task, e.task_type, e.context, e.metadata};
    if (Status s = ValidateEpisodeSpec(spec, options_.limits); !s.ok()) return s;
    if (e.metadata.is_null()) e.metadata = nlohmann::json::object();
    if (e.started_at.empty()) {
      e.started_at = FormatTimestamp(now);
    } else {
      auto t = NormalizeTimestamp("started_at", e.started_at);
      if (!t.ok()) return t.status();
      e.started_at = *t;
    }
    if (e.steps.size() > static_cast<size_t>(options_.limits.max_steps_per_episode)) {
      return Status::ResourceExhausted(fmt::format("steps holds {} steps, limit {} per episode",
                                                   e.steps.size(),
                                                   options_.limits.max_steps_per_episode));
    }
    for (size_t i = 0; i < e.steps.size(); ++i) {
      const auto where = fmt::format("steps[{}]", i);
      const int64_t expected = static_cast<int64_t>(i + 1);
      if (e.steps[i].step_number != 0 && e.steps[i].step_number != expected) {
        return Status::InvalidArgument(fmt::format("{}: step_number is {}, expected {}", where,
                                                   e.steps[i].step_number, expected));
      }
      auto p = PrepareStep(e.steps[i], options_.limits, now);
      if (!p.ok()) return Prefixed(where, p.status());
      p->step.step_number = expected;
      e.steps[i] = p->step;
      item.steps.push_back(std::move(*p));
    }
    for (const auto& [field, value] :
         {std::pair{"reward", &e.reward}, std::pair{"reflection", &e.reflection}}) {
      if (!value->is_null() && !value->is_object()) {
        return Status::InvalidArgument(
            fmt::format("{} must be an object or null, got {}", field, value->dump()));
      }
    }
    if (e.status == EpisodeStatus::kOpen) {
      if (e.outcome) return Status::InvalidArgument("an open episode has no outcome");
      if (e.ended_at) return Status::InvalidArgument("an open episode has no ended_at");
      e.reward = nullptr;
      e.reflection = nullptr;
    } else {
      if (!e.outcome) return Status::InvalidArgument("a completed episode needs an outcome");
      if (Status s = ValidateOutcome(*e.outcome, options_.limits); !s.ok()) return s;
      auto ended = ParseTimestamp("ended_at", e.ended_at.value_or(FormatTimestamp(now)));
      if (!ended.ok()) return ended.status();
      auto learnt = LearnFrom(e, *e.outcome, *ended);
      if (!learnt.ok()) return learnt.status();
      Completion c = std::move(*learnt);
      // What the export carried is kept; what it lacked is learnt.
      if (!e.reward.is_null()) c.reward = e.reward;
      if (!e.reflection.is_null()) {
        c.reflection = e.reflection;
        c.reflection_text = ReflectionText(e.reflection);
      }
      item.completion = std::move(c);
    }
    e.steps.clear();
    item.episode = std::move(e);
    return item;
  };

  // Validating and learning are independent per episode: the second half is prepared on
  // another thread.
  std::vector<std::optional<Result<ImportedEpisode>>> prepared(episodes.size());
  auto prepare_range = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) prepared[i] = prepare(episodes[i]);
  };
  const size_t half = episodes.size() / 2;
  auto second = std::async(std::launch::async, prepare_range, half, episodes.size());
  prepare_range(0, half);
  second.get();
  for (size_t i = 0; i < episodes.size(); ++i) {
    if (!prepared[i]->ok()) {
      results[i] = prepared[i]->status();
      continue;
    }
    batch.push_back(std::move(**prepared[i]));
    index_of.push_back(i);
  }
  auto stored = store_->import_episodes(batch);
  if (!stored.ok()) return stored.status();
  for (size_t b = 0; b < stored->size(); ++b) results[index_of[b]] = (*stored)[b];
  return results;
}

}  // namespace engram
