#include "engine/import.h"

#include <fmt/format.h>

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
  EpisodeImport run(*store_, options_, *redactor_, std::move(episodes),
                    [this](const Status& s) { NoteWrite(s); });
  return run.Run();
}

EpisodeImport::EpisodeImport(Store& store, const Options& options, const Redactor& redactor,
                             std::vector<Episode> episodes,
                             std::function<void(const Status&)> note_write)
    : store_(store),
      options_(options),
      redactor_(redactor),
      note_write_(std::move(note_write)),
      now_(FormatTimestamp(options.clock->now())),
      episodes_(std::move(episodes)),
      n_(episodes_.size()),
      similar_(n_),
      unscored_(n_),
      results_(n_),
      prepared_(n_) {
  const auto now = options.clock->now();
  for (size_t i = 0; i < n_; ++i) {
    Episode& e = episodes_[i];
    if (e.status == EpisodeStatus::kCompleted) similar_[i] = Similar{e.task_type, e.context.domain};
    // New ids in the records' order (the preparers finish in any order), so that episodes
    // imported together list in the order they came.
    if (e.id.empty()) e.id = NewUuidV7(now);
  }
}

Result<std::vector<Status>> EpisodeImport::Run() {
  {
    std::vector<std::jthread> preparers;
    for (int t = 0; t < kImportThreads; ++t) {
      preparers.emplace_back([this](std::stop_token stop) { Preparer(stop); });
    }
    for (size_t from = 0; from < n_; from += kImportTransaction) {
      const size_t to = std::min(n_, from + kImportTransaction);
      if (Status s = WriteTransaction(from, to); !s.ok()) return s;  // stops the preparers
      std::lock_guard lock(mu_);
      written_ = to;
      work_.notify_all();
    }
  }
  return std::move(results_);
}

Status EpisodeImport::WriteTransaction(size_t from, size_t to) {
  // The reward compares an episode with the similar ones stored before its transaction.
  std::map<Similar, History> history;
  for (size_t i = from; i < to; ++i) {
    if (!similar_[i] || history.count(*similar_[i])) continue;
    auto costs = store_.recent_costs(similar_[i]->first, similar_[i]->second, kHistoryEpisodes);
    if (!costs.ok()) return costs.status();
    history.emplace(*similar_[i], Summarize(*costs));
  }
  std::vector<size_t> index_of;  // stored position -> position in episodes_
  auto stored = store_.import_episodes([&] { return Next(to, history, index_of); });
  note_write_(stored.ok() ? Status::Ok() : stored.status());
  if (!stored.ok()) return stored.status();
  for (size_t b = 0; b < stored->size(); ++b) results_[index_of[b]] = (*stored)[b].status();
  return Status::Ok();
}

const ImportedEpisode* EpisodeImport::Next(size_t to, const std::map<Similar, History>& history,
                                           std::vector<size_t>& index_of) {
  while (true) {
    const size_t i = taken_.load(std::memory_order_relaxed);  // only this thread changes it
    if (i == to) return nullptr;
    taken_.store(i + 1);
    if ((i + 1) % kWakeEvery == 0) {  // before waiting: the preparers may be waiting for it
      { std::lock_guard lock(mu_); }  // a preparer is waiting, or sees the new count
      work_.notify_all();
    }
    Result<ImportedEpisode>& r = prepared_.Take(i);
    if (!r.ok()) {
      results_[i] = r.status();
      continue;
    }
    if (r->completion && unscored_[i]) {
      Completion& c = *r->completion;
      const Reward reward =
          CompareWith(*unscored_[i], static_cast<size_t>(c.step_count),
                      static_cast<double>(c.duration_ms), history.at(*similar_[i]));
      c.reward = ToJson(reward).dump();
    }
    index_of.push_back(i);
    return &*r;
  }
}

void EpisodeImport::Preparer(std::stop_token stop) {
  while (true) {
    std::vector<Result<ImportedEpisode>> done;  // freed outside the lock
    size_t i = n_;
    {
      // Not too far ahead of the store: the writer is the bottleneck and needs the CPU.
      // Stopped when the store failed and Run returns.
      std::unique_lock lock(mu_);
      const bool more = work_.wait(lock, stop, [&] {
        return freed_ < written_ || written_ == n_ ||
               (next_to_prepare_ < n_ && next_to_prepare_ < taken_ + kPreparedAhead);
      });
      if (!more) return;
      if (freed_ < written_) {
        const size_t to = std::min(written_, freed_ + kPreparedAhead / 2);  // shared out
        for (; freed_ < to; ++freed_) done.push_back(prepared_.Release(freed_));
      } else if (written_ == n_) {
        return;
      } else {
        i = next_to_prepare_++;
      }
    }
    if (i == n_) continue;
    prepared_.Put(i, [&]() -> Result<ImportedEpisode> {
      try {
        return Prepare(i);
      } catch (const std::exception& ex) {  // a JSON value of an unexpected shape
        return Status::InvalidArgument(ex.what());
      }
    }());
  }
}

Result<ImportedEpisode> EpisodeImport::Prepare(size_t index) {
  const Limits& limits = options_.limits;
  Episode& e = episodes_[index];
  redactor_.Redact(e);
  ImportedEpisode item;
  auto id = NormalizeEpisodeId(e.id);
  if (!id.ok()) return id.status();
  e.id = *id;
  EpisodeSpec spec{e.task, e.task_type, e.context, e.metadata, std::nullopt};
  if (Status s = ValidateEpisodeSpec(spec, limits); !s.ok()) return s;
  if (e.metadata.is_null()) e.metadata = nlohmann::json::object();
  if (e.started_at.empty()) {
    e.started_at = now_;
  } else {
    auto t = NormalizeTimestamp("started_at", e.started_at);
    if (!t.ok()) return t.status();
    e.started_at = *t;
  }
  if (e.steps.size() > static_cast<size_t>(limits.max_steps_per_episode)) {
    return Status::ResourceExhausted(fmt::format("steps holds {} steps, limit {} per episode",
                                                 e.steps.size(), limits.max_steps_per_episode));
  }
  for (size_t i = 0; i < e.steps.size(); ++i) {
    const auto where = fmt::format("steps[{}]", i);
    const int64_t expected = static_cast<int64_t>(i + 1);
    if (e.steps[i].step_number != 0 && e.steps[i].step_number != expected) {
      return Status::InvalidArgument(fmt::format("{}: step_number is {}, expected {}", where,
                                                 e.steps[i].step_number, expected));
    }
    auto p = PrepareStep(std::move(e.steps[i]), limits, now_);
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
    if (Status s = ValidateOutcome(*e.outcome, limits); !s.ok()) return s;
    auto ended = ParseTimestamp("ended_at", e.ended_at.value_or(now_));
    if (!ended.ok()) return ended.status();
    Completion c = Learn(e, *e.outcome, *ended, /*history=*/{});
    // What the export carried is kept; what it lacked is learnt.
    if (!e.reward.is_null()) {
      c.reward = e.reward.dump();
    } else {
      unscored_[index] = RewardOf(*e.outcome, e.steps);
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
}

}  // namespace engram
