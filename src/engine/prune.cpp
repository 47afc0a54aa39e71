// Retention and deletion by filter: Memory::prune removes episodes a short transaction at a
// time, so that the step writer, which waits for the same lock, never waits long.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/timestamp.h"
#include "engine/memory_impl.h"
#include "engram/json.h"

namespace engram {
namespace {

using std::chrono::steady_clock;

// Batches are sized as they go to take what the store's pace says (on SQLite about 4 ms, the
// write lock steps wait for), from kFirstBatch episodes: doubled while well under it, halved
// when over.
constexpr int kFirstBatch = 16;
constexpr int kMaxBatch = 4096;
// A dry run reads the candidates a page at a time.
constexpr int kSurveyPage = 1000;
// Pages given back to the file system per transaction (1 MiB of 4 KiB pages).
constexpr int64_t kReleasePages = 256;

void Tally(PruneResult& r, const PrunedEpisode& e) {
  ++r.episodes;
  r.steps += e.steps;
  ++r.by_status[std::string(to_string(e.status))];
  if (e.outcome) ++r.by_outcome[std::string(to_string(*e.outcome))];
  if (!r.oldest || e.started_at < *r.oldest) r.oldest = e.started_at;
  if (!r.newest || e.started_at > *r.newest) r.newest = e.started_at;
}

// The writers' turn between two batches: `pause` times what the batch took, at least 1 ms.
void Yield(steady_clock::duration took, double pause) {
  const auto wait = std::chrono::duration_cast<steady_clock::duration>(took * pause);
  std::this_thread::sleep_for(std::max<steady_clock::duration>(wait, std::chrono::milliseconds(1)));
}

}  // namespace

Result<PruneResult> MemoryImpl::prune(const PruneFilter& filter) {
  return Prune(filter, /*retention=*/false);
}

Result<PruneResult> MemoryImpl::Prune(const PruneFilter& filter, bool retention) {
  if (Status s = ValidatePruneAge("older_than", filter.older_than); !s.ok()) return s;
  if (filter.outcome && filter.status == EpisodeStatus::kOpen) {
    return Status::InvalidArgument(
        "outcome matches completed episodes only, and status is open: nothing could match");
  }
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  std::lock_guard one_at_a_time(prune_mu_);
  PruneResult r;
  r.dry_run = filter.dry_run;
  r.before = FormatTimestamp(options_.clock->now() - filter.older_than);
  PruneQuery query{r.before, filter.status, filter.outcome, filter.domain, std::nullopt};

  if (filter.dry_run) {
    for (;;) {
      auto page = store_->prunable(query, kSurveyPage);
      if (!page.ok()) return page.status();
      for (const PrunedEpisode& e : *page) Tally(r, e);
      if (static_cast<int>(page->size()) < kSurveyPage) return r;
      query.after = {page->back().started_at, page->back().key};
    }
  }

  // Counted as they go: a run stopped by an error or by close() keeps its batches.
  auto stopped = [&](const Status& why) -> Status {
    std::lock_guard lock(prune_metrics_mu_);
    ++prune_metrics_.failures;
    return why.with_message(fmt::format("{} (the prune stopped after removing {} episodes)",
                                        why.message(), r.episodes));
  };
  const PrunePace pace = store_->prune_pace();
  for (int limit = kFirstBatch;;) {
    {
      std::lock_guard lock(mu_);
      if (Status s = CheckOpen(); !s.ok()) return stopped(s);
    }
    auto batch = store_->prune_batch(query, limit);
    NoteWrite(batch.status());
    if (!batch.ok()) return stopped(batch.status());
    const std::vector<PrunedEpisode>& removed = batch->removed;
    if (removed.empty()) break;
    for (const PrunedEpisode& e : removed) Tally(r, e);
    {
      std::lock_guard lock(prune_metrics_mu_);
      prune_metrics_.episodes += removed.size();
      for (const PrunedEpisode& e : removed) prune_metrics_.steps += static_cast<uint64_t>(e.steps);
    }
    ForgetPruned(removed);
    query.after = {removed.back().started_at, removed.back().key};
    if (batch->took > pace.batch) {
      limit = std::max(limit / 2, 1);
    } else if (batch->took < pace.batch / 2 && static_cast<int>(removed.size()) == limit) {
      limit = std::min(limit * 2, kMaxBatch);
    }
    Yield(batch->took, pace.pause);
  }
  // The space the episodes held: given back a few MiB at a time where the store can.
  for (;;) {
    const auto began = steady_clock::now();
    auto space = store_->release_space(r.episodes > 0 ? kReleasePages : 0);
    if (!space.ok()) return stopped(space.status());
    r.bytes_released += space->released_bytes;
    r.bytes_free = space->free_bytes;
    if (space->released_bytes == 0 || space->free_bytes == 0) break;
    Yield(steady_clock::now() - began, 1.0);
  }
  std::lock_guard lock(prune_metrics_mu_);
  ++prune_metrics_.runs;
  if (retention) ++prune_metrics_.retention_runs;
  return r;
}

void MemoryImpl::ForgetPruned(const std::vector<PrunedEpisode>& removed) {
  std::lock_guard lock(mu_);
  for (const PrunedEpisode& e : removed) {
    auto it = episodes_.find(e.key);
    if (it == episodes_.end() || it->second.uncommitted > 0 || it->second.closing) continue;
    key_by_id_.erase(it->second.id);
    episodes_.erase(it);
  }
}

void MemoryImpl::RetentionLoop() {
  const RetentionOptions& retention = *options_.retention;
  std::unique_lock lock(mu_);
  while (!closed_) {
    lock.unlock();
    PruneFilter filter;
    filter.older_than = retention.older_than;
    Result<PruneResult> r = Prune(filter, /*retention=*/true);
    {
      std::lock_guard metrics(prune_metrics_mu_);
      prune_metrics_.retention_last_run =
          std::chrono::duration<double>(options_.clock->now().time_since_epoch()).count();
    }
    if (retention.report) retention.report(r);
    lock.lock();
    retention_cv_.wait_for(lock, retention.every, [&] { return closed_; });
  }
}

PruneMetrics MemoryImpl::prune_metrics() const {
  std::lock_guard lock(prune_metrics_mu_);
  return prune_metrics_;
}

}  // namespace engram
