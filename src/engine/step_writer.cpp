// The step writer: group commit and step numbering.
//
// WHY ONE WRITER. Steps arrive from any number of threads (log_step, log_steps, the doors'
// handlers), often a few at a time and often from agents that wait for each answer. A commit
// costs the same for one step as for hundreds (one WAL append, one transaction on PostgreSQL),
// so engram commits steps in groups, as LevelDB's writer queue does: the callers queue, one
// thread commits, and everyone whose step was in the group is woken together.
//
// THE QUEUE. MemoryImpl::Enqueue validates a step at the door, gives it its number (below) and
// appends it to the newest open batch in queue_ (memory_impl.cpp). A batch is open until it
// holds Options::max_batch_steps steps or Options::max_batch_delay has passed since its first
// step. WriterLoop takes the oldest batch the moment the previous commit is done, so an idle
// writer commits a lone step at once: the delay bounds how long a busy writer lets a batch
// grow; it is never a wait imposed on a quiet one. The steps of one log_steps call go into
// one batch, so they commit together or not at all. While Options::max_pending_steps steps
// are queued, callers wait (back-pressure), so a fast producer cannot grow memory without end.
//
// THE COMMIT. Commit() runs one write transaction per batch: it reads the head of every
// episode in the batch (Store::WriteTransaction::heads, in ascending key order, so stores that
// lock rows lock them in one order everywhere), numbers the steps from each episode's last
// committed step, inserts them and commits. A batch fails as a whole: no part of it is
// written, and every step in it gets the failure. A store that stayed locked past its busy
// timeout is tried again, kCommitAttempts in all. Only after the commit are the tickets
// resolved, outside the lock, so a woken caller finds its step in the store.
//
// NUMBERING. A step gets a number when it is accepted: EpisodeState::next_step, so that the
// caller of log_step_async knows it at once and get_episode shows accepted steps in order
// (read your writes). The number that counts is fixed inside the write transaction, from the
// store's last step for the episode: when another process appended to the same episode
// meanwhile, Reconcile() moves this process's queued steps up behind what is now committed.
// Numbers therefore stay 1, 2, 3, ... without gaps, in commit order, however many processes
// or nodes append. A completed or deleted episode's queued steps are refused with the reason.
//
// FAILURES IN ORDER. When a batch fails, Doom() fails the episode's steps queued behind it
// and makes log_step_async refuse the episode's further steps until flush() has reported the
// failure: a stream is never stored with a hole in it, and sent again from its first failed
// step, it keeps its order. flush() and close() report only failures no caller was told of.
//
// See docs/design.md (step logging) for the contract this implements.
#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "engine/memory_impl.h"

namespace engram {
namespace {

// A commit that still finds the database locked after the busy timeout is tried again this
// many times before its steps are failed: a CLI call beside a server must not lose steps.
constexpr int kCommitAttempts = 3;

}  // namespace

void MemoryImpl::WriterLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return;  // closed and drained
    in_flight_ = std::make_shared<Batch>(std::move(queue_.front()));
    queue_.pop_front();
    std::shared_ptr<Batch> batch = in_flight_;
    lock.unlock();

    const auto started = std::chrono::steady_clock::now();
    CommitOutcome outcome = Commit(*batch);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    lock.lock();
    if (!outcome.failure.ok()) Doom(lock, *batch, outcome.failure);
    Reconcile(lock, outcome);
    Count(lock, seconds, outcome);
    for (size_t i = 0; i < batch->steps.size(); ++i) {
      const auto& r = outcome.results[i];
      if (!r.ok() && !batch->steps[i].caller_waits && first_error_.ok()) {
        first_error_ = r.status();
      }
      if (auto it = episodes_.find(batch->steps[i].episode_key); it != episodes_.end()) {
        --it->second.uncommitted;
      }
    }
    queued_steps_ -= batch->steps.size();
    finished_ += batch->steps.size();
    in_flight_.reset();
    lock.unlock();
    // Tickets resolve outside the lock; the steps are in the store by now, so a caller woken
    // by its ticket finds them there.
    for (size_t i = 0; i < batch->steps.size(); ++i) {
      batch->steps[i].committed.set_value(std::move(outcome.results[i]));
    }
    drained_cv_.notify_all();
    lock.lock();
  }
}

void MemoryImpl::Count(const std::unique_lock<std::mutex>& held, double seconds,
                       const CommitOutcome& outcome) {
  AssertHeld(held, mu_);
  ++metrics_.commits;
  metrics_.commit_seconds_sum += seconds;
  const auto& bounds = WriterMetrics::kCommitSecondsBounds;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) ++metrics_.commit_seconds_buckets[i];
  }
  for (const auto& r : outcome.results)
    ++(r.ok() ? metrics_.steps_committed : metrics_.steps_failed);
}

WriterMetrics MemoryImpl::writer_metrics() const {
  std::lock_guard lock(mu_);
  WriterMetrics m = metrics_;
  m.steps_queued = queued_steps_;
  return m;
}

std::string MemoryImpl::EpisodeIdOf(int64_t key) const {
  std::lock_guard lock(mu_);
  auto it = episodes_.find(key);  // kept while it has steps in flight
  return it == episodes_.end() ? "" : it->second.id;
}

MemoryImpl::CommitOutcome MemoryImpl::Commit(Batch& batch) {
  CommitOutcome out;
  Status failure;
  for (int attempt = 0; attempt < kCommitAttempts; ++attempt) {
    out = CommitOutcome{};
    failure = Status::Ok();
    auto txn = store_->begin_write();
    if (!txn.ok()) {
      failure = NoteWrite(txn.status());
      if (failure.IsBusy()) continue;
      break;
    }
    // Numbers come from the store inside the write lock, so they stay contiguous even when
    // another process appends to the same episode.
    std::unordered_map<int64_t, int64_t> next;  // key -> next number, or 0 when refused
    std::unordered_map<int64_t, Status> refused;
    // The batch's episodes in ascending key order: a store that locks an episode's row for its
    // numbering (PostgreSQL) then takes the locks in one order in every process, so two
    // writers never wait for each other.
    std::vector<int64_t> keys;
    keys.reserve(batch.steps.size());
    for (const auto& p : batch.steps) keys.push_back(p.episode_key);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    auto heads = (*txn)->heads(keys);
    if (!heads.ok()) {
      failure = heads.status();
    } else {
      std::unordered_map<int64_t, const EpisodeHead*> by_key;
      for (const auto& h : *heads) by_key[h.key] = &h;
      for (int64_t key : keys) {
        auto it = by_key.find(key);
        int64_t first = 0;
        if (it == by_key.end()) {
          refused[key] = Status::NotFound(fmt::format("episode {} was deleted", EpisodeIdOf(key)));
          out.deleted.push_back(key);
        } else if (it->second->status == EpisodeStatus::kOpen) {
          first = it->second->last_step + 1;
        } else {
          // Completed by another process (this one refuses steps once it starts completing).
          refused[key] = CompletedEpisodeRefusesSteps(EpisodeIdOf(key));
          out.status[key] = EpisodeStatus::kCompleted;
        }
        next.emplace(key, first);
      }
    }
    out.results.reserve(batch.steps.size());
    for (auto& p : batch.steps) {
      if (!failure.ok()) break;
      ++out.batch_steps[p.episode_key];
      if (!p.doomed.ok()) {
        out.results.emplace_back(p.doomed);
        continue;
      }
      auto it = next.find(p.episode_key);
      if (it->second == 0) {
        out.results.emplace_back(refused.at(p.episode_key));
        continue;
      }
      if (it->second > options_.limits.max_steps_per_episode) {
        out.results.emplace_back(Status::ResourceExhausted(
            fmt::format("episode has {} steps, limit {} steps", it->second - 1,
                        options_.limits.max_steps_per_episode)));
        continue;
      }
      if (Status s = (*txn)->insert_step(p.episode_key, it->second, p.step); !s.ok()) {
        failure = s;
        break;
      }
      out.results.emplace_back(it->second++);
    }
    if (out.results.size() == batch.steps.size()) failure = (*txn)->commit();
    NoteWrite(failure);
    if (failure.ok()) {
      for (const auto& [key, n] : next) {
        if (n != 0) out.last_step[key] = n - 1;
      }
      return out;
    }
    if (!failure.IsBusy()) break;
  }
  out = CommitOutcome{};
  for (size_t i = 0; i < batch.steps.size(); ++i) {
    out.results.emplace_back(Status(failure));
  }
  out.failure = failure;
  return out;
}

void MemoryImpl::Doom(const std::unique_lock<std::mutex>& held, const Batch& failed,
                      const Status& why) {
  AssertHeld(held, mu_);
  std::unordered_set<int64_t> keys;
  for (const auto& p : failed.steps) keys.insert(p.episode_key);
  const Status later = why.with_message(fmt::format(
      "not stored: an earlier step of this episode could not be stored ({})", why.message()));
  for (auto& b : queue_) {
    for (auto& p : b.steps) {
      if (p.doomed.ok() && keys.count(p.episode_key)) p.doomed = later;
    }
  }
  for (int64_t key : keys) {
    if (auto it = episodes_.find(key); it != episodes_.end()) it->second.stream_failure = later;
  }
}

void MemoryImpl::Reconcile(const std::unique_lock<std::mutex>& held, const CommitOutcome& outcome) {
  AssertHeld(held, mu_);
  for (int64_t key : outcome.deleted) {
    if (auto it = episodes_.find(key); it != episodes_.end()) it->second.closing = true;
  }
  for (const auto& [key, status] : outcome.status) {
    if (auto it = episodes_.find(key); it != episodes_.end()) it->second.status = status;
  }
  for (const auto& [key, last] : outcome.last_step) {
    auto it = episodes_.find(key);
    if (it == episodes_.end()) continue;
    // The steps of this episode still queued were numbered on acceptance; if another process
    // appended meanwhile, they move up behind what is now committed.
    int64_t next = last + 1;
    const int64_t queued = it->second.uncommitted - outcome.batch_steps.at(key);
    if (it->second.next_step == next + queued) continue;
    for (auto& b : queue_) {
      for (auto& p : b.steps) {
        if (p.episode_key == key) p.step.step.step_number = p.step_number = next++;
      }
    }
    it->second.next_step = next;
  }
}

}  // namespace engram
