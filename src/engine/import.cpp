// Memory::import_episodes: whole episodes validated as the calls that record them would, learnt
// from when completed, and written in one transaction.
#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/timestamp.h"
#include "core/uuid.h"
#include "engine/memory_impl.h"
#include "learn/learner.h"
#include "learn/recall.h"

namespace engram {
namespace {

constexpr int kImportThreads = 2;           // preparing episodes beside the store's writer
constexpr size_t kImportTransaction = 512;  // episodes written per transaction
constexpr size_t kPreparedAhead = 64;       // episodes prepared but not yet written, at most
// The writer wakes the preparers every kWakeEvery episodes it takes, not at each: every wake-up
// takes the writer's CPU for a moment (the woken thread runs at once), and then they prepare
// a few in a row.
constexpr size_t kWakeEvery = kPreparedAhead / 4;
// A preparer waits only while kPreparedAhead episodes are ready ahead of the writer, so the
// writer, taking them, passes a wake-up before it can need one that nobody prepares.
static_assert(kWakeEvery > 0 && kWakeEvery < kPreparedAhead);

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
  const std::string now_text = FormatTimestamp(now);
  const size_t n = episodes.size();
  std::vector<Status> results(n);

  // The reward compares an episode with the similar ones stored before its transaction. Those
  // are read between transactions, so everything else is prepared beforehand; an episode's
  // reward parts wait in `unscored` until then.
  using Similar = std::pair<TaskType, std::optional<std::string>>;
  std::vector<std::optional<Similar>> similar(n);  // per completed episode, read before the
  for (size_t i = 0; i < n; ++i) {                 // preparers change `episodes`
    Episode& e = episodes[i];
    if (e.status == EpisodeStatus::kCompleted) similar[i] = Similar{e.task_type, e.context.domain};
    // New ids in the records' order (the preparers finish in any order), so that episodes
    // imported together list in the order they came.
    if (e.id.empty()) e.id = NewUuidV7(now);
  }
  std::vector<std::optional<Reward>> unscored(n);  // none when the episode brought its reward

  auto prepare = [&](size_t index) -> Result<ImportedEpisode> {
    Episode& e = episodes[index];
    ImportedEpisode item;
    auto id = NormalizeEpisodeId(e.id);
    if (!id.ok()) return id.status();
    e.id = *id;
    EpisodeSpec spec{e.task, e.task_type, e.context, e.metadata};
    if (Status s = ValidateEpisodeSpec(spec, options_.limits); !s.ok()) return s;
    if (e.metadata.is_null()) e.metadata = nlohmann::json::object();
    if (e.started_at.empty()) {
      e.started_at = now_text;
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
      auto p = PrepareStep(std::move(e.steps[i]), options_.limits, now_text);
      if (!p.ok()) return Prefixed(where, p.status());
      p->step.step_number = expected;
      e.steps[i] = std::move(p->step);  // learnt from below, then moved back
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
      auto ended = ParseTimestamp("ended_at", e.ended_at.value_or(now_text));
      if (!ended.ok()) return ended.status();
      Completion c = Learn(e, *e.outcome, *ended, /*history=*/{});
      // What the export carried is kept; what it lacked is learnt.
      if (!e.reward.is_null()) {
        c.reward = e.reward.dump();
      } else {
        unscored[index] = RewardOf(*e.outcome, e.steps);
      }
      if (!e.reflection.is_null()) {
        c.reflection = e.reflection.dump();
        c.reflection_text = ReflectionText(e.reflection);
      }
      item.completion = std::move(c);
    }
    for (size_t i = 0; i < e.steps.size(); ++i) item.steps[i].step = std::move(e.steps[i]);
    e.steps.clear();
    item.episode = std::move(e);
    return item;
  };

  // Validating and learning are independent per episode: two threads prepare the episodes in
  // order while the store writes those already prepared, a transaction per kImportTransaction.
  // The same threads free what was written: freeing an episode's learnt patterns and steps
  // costs the writer as much as writing some of them. The writer takes no lock for an episode
  // that is ready: unlocking a lock a preparer waits for hands that preparer the writer's CPU.
  std::vector<std::optional<Result<ImportedEpisode>>> prepared(n);
  std::vector<std::atomic<bool>> is_prepared(n);  // prepared[i] is set and the preparer's no more
  std::mutex mu;                                  // guards the counts below
  size_t next_to_prepare = 0;
  std::atomic<size_t> taken = 0;  // episodes handed to the store (or skipped as rejected)
  size_t written = 0;             // episodes whose transaction is over: the store is done with them
  size_t freed = 0;
  std::condition_variable_any work;
  auto prepare_some = [&](std::stop_token stop) {
    while (true) {
      std::vector<std::optional<Result<ImportedEpisode>>> done;  // freed outside the lock
      size_t i = n;
      {
        // Not too far ahead of the store: the writer is the bottleneck and needs the CPU.
        // Stopped when the store failed and this call returns.
        std::unique_lock lock(mu);
        const bool more = work.wait(lock, stop, [&] {
          return freed < written || written == n ||
                 (next_to_prepare < n && next_to_prepare < taken + kPreparedAhead);
        });
        if (!more) return;
        if (freed < written) {
          const size_t to = std::min(written, freed + kPreparedAhead / 2);  // shared out
          for (; freed < to; ++freed) done.push_back(std::move(prepared[freed]));
        } else if (written == n) {
          return;
        } else {
          i = next_to_prepare++;
        }
      }
      if (i == n) continue;
      prepared[i] = [&]() -> Result<ImportedEpisode> {
        try {
          return prepare(i);
        } catch (const std::exception& ex) {  // a JSON value of an unexpected shape
          return Status::InvalidArgument(ex.what());
        }
      }();
      is_prepared[i].store(true, std::memory_order_release);
      is_prepared[i].notify_one();
    }
  };
  std::vector<std::jthread> preparers;
  for (int t = 0; t < kImportThreads; ++t) preparers.emplace_back(prepare_some);
  for (size_t from = 0; from < n; from += kImportTransaction) {
    const size_t to = std::min(n, from + kImportTransaction);
    std::map<Similar, History> history;
    for (size_t i = from; i < to; ++i) {
      if (!similar[i] || history.count(*similar[i])) continue;
      auto costs = store_->recent_costs(similar[i]->first, similar[i]->second, kHistoryEpisodes);
      if (!costs.ok()) return costs.status();
      history.emplace(*similar[i], Summarize(*costs));
    }
    std::vector<size_t> index_of;  // stored position -> position in `episodes`
    auto stored = store_->import_episodes([&]() -> const ImportedEpisode* {
      while (true) {
        const size_t i = taken.load(std::memory_order_relaxed);  // this thread's to change
        if (i == to) return nullptr;
        taken.store(i + 1);
        if ((i + 1) % kWakeEvery == 0) {  // before waiting: the preparers may be waiting for it
          { std::lock_guard lock(mu); }   // a preparer is waiting, or sees the new count
          work.notify_all();
        }
        is_prepared[i].wait(false, std::memory_order_acquire);
        Result<ImportedEpisode>& r = *prepared[i];  // this thread's from here on
        if (!r.ok()) {
          results[i] = r.status();
          continue;
        }
        if (r->completion && unscored[i]) {
          Completion& c = *r->completion;
          const Reward reward =
              CompareWith(*unscored[i], static_cast<size_t>(c.step_count),
                          static_cast<double>(c.duration_ms), history.at(*similar[i]));
          c.reward = ToJson(reward).dump();
        }
        index_of.push_back(i);
        return &*r;
      }
    });
    if (!NoteWrite(stored.ok() ? Status::Ok() : stored.status()).ok()) return stored.status();
    for (size_t b = 0; b < stored->size(); ++b) results[index_of[b]] = (*stored)[b].status();
    std::lock_guard lock(mu);
    written = to;
    work.notify_all();
  }
  return results;
}

}  // namespace engram
