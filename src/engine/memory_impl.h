// The engine behind Memory: validation at the door, per-episode step numbering, and a single
// writer thread that commits queued steps in groups (LevelDB's writer queue, for steps).
#pragma once

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/lock_held.h"
#include "core/redact.h"
#include "core/validation.h"
#include "engram/memory.h"
#include "store/store.h"

namespace engram {

// How many similar past episodes a new one is compared with.
inline constexpr int kHistoryEpisodes = 50;

// The refusal of a step for a completed episode, whichever process completed it.
inline Status CompletedEpisodeRefusesSteps(std::string_view id) {
  return Status::FailedPrecondition(
      fmt::format("episode {} is completed: it accepts no more steps", id));
}

class MemoryImpl final : public Memory {
 public:
  MemoryImpl(std::unique_ptr<Store> store, Options options,
             std::shared_ptr<const Redactor> redactor);
  ~MemoryImpl() override;

  Result<std::string> start_episode(const EpisodeSpec& spec) override;
  Result<NamedEpisode> start_named_episode(std::string_view name, const EpisodeSpec& spec) override;
  Result<NamedEpisode> find_named_episode(std::string_view name) override;
  Status name_episode(std::string_view episode_id, std::string_view name) override;
  Status amend_episode(std::string_view episode_id, const EpisodeAmendment& amendment) override;
  Result<int64_t> log_step(std::string_view episode_id, ExecutionStep step) override;
  Result<StepTicket> log_step_async(std::string_view episode_id, ExecutionStep step) override;
  Result<std::vector<int64_t>> log_steps(std::string_view episode_id,
                                         std::vector<ExecutionStep> steps) override;
  Status flush() override;
  Result<Episode> complete_episode(std::string_view episode_id, const Outcome& outcome) override;
  Result<Episode> complete_episode(std::string_view episode_id, const Outcome& outcome,
                                   const CompletionOptions& options) override;
  Result<Episode> get_episode(std::string_view episode_id) override;
  Result<StepPage> list_steps(std::string_view episode_id, const StepRange& range) override;
  Result<EpisodePage> list_episodes(const EpisodeFilter& filter) override;
  Status delete_episode(std::string_view episode_id) override;
  Result<std::vector<Pattern>> list_patterns(const PatternFilter& filter) override;
  Result<Pattern> get_pattern(std::string_view pattern_id) override;
  Result<Stats> stats(const StatsFilter& filter) override;
  Result<Recall> recall(const RecallQuery& query) override;
  Result<Suggestions> suggest(std::string_view episode_id, int64_t k) override;
  Result<std::vector<Status>> import_episodes(std::vector<Episode> episodes) override;
  Result<std::map<std::string, int64_t>> backup(std::string_view path) override;
  Result<PruneResult> prune(const PruneFilter& filter) override;
  PruneMetrics prune_metrics() const override;
  Status close() override;
  WriterMetrics writer_metrics() const override;
  Status health() override;

 private:
  // An accepted step waiting for its batch to commit.
  struct PendingStep {
    int64_t episode_key = 0;
    int64_t step_number = 0;  // as given on acceptance
    PreparedStep step;
    std::promise<Result<int64_t>> committed;
    // Whether the caller waits for the outcome (log_step, log_steps): its failure is told to
    // it, and not kept for flush() and close() to report.
    bool caller_waits = false;
    // Not ok when an earlier batch with steps of its episode failed: it fails with it, unwritten.
    Status doomed;
  };

  struct Batch {
    std::vector<PendingStep> steps;
    std::chrono::steady_clock::time_point opened;
  };

  // What this process knows of an episode it has written to or read from.
  struct EpisodeState {
    std::string id;
    EpisodeStatus status = EpisodeStatus::kOpen;
    bool closing = false;     // being completed or deleted: no more steps accepted
    int64_t next_step = 1;    // the number the next accepted step gets
    int64_t uncommitted = 0;  // accepted steps whose batch has not finished
    // Set when a batch with steps of this episode failed to be stored: log_step_async refuses
    // the episode's steps until flush() has reported it, so a stream is never stored out of
    // order.
    Status stream_failure;
  };

  // The result of committing one batch, for the writer's bookkeeping.
  struct CommitOutcome {
    std::vector<Result<int64_t>> results;               // one per step of the batch
    std::unordered_map<int64_t, int64_t> batch_steps;   // per episode key: steps in the batch
    std::unordered_map<int64_t, int64_t> last_step;     // per episode key, when the commit held
    std::unordered_map<int64_t, EpisodeStatus> status;  // per key, as the transaction saw it
    std::vector<int64_t> deleted;                       // keys the transaction found gone
    Status failure;                                     // why the whole batch failed, when it did
  };

  // Validates the id and finds the episode's state, loading it from the store on first use.
  // REQUIRES: `lock` holds mu_ (it is released while the store is read).
  Result<EpisodeState*> State(std::unique_lock<std::mutex>& lock, std::string_view episode_id,
                              int64_t* key);
  Result<StepTicket> LogOne(bool caller_waits, std::string_view episode_id, ExecutionStep step);
  Result<std::vector<StepTicket>> Enqueue(bool caller_waits, std::string_view episode_id,
                                          std::vector<PreparedStep> steps);
  Status CheckOpen() const;
  // Copies of the episode's (normalized id) accepted steps numbered above `after` whose batch
  // has not committed, by number. Copied before the store is read, a step committing in between
  // is found in one or the other (or both, and the store's copy wins).
  Result<std::map<int64_t, ExecutionStep>> Uncommitted(const std::string& id, int64_t after);
  // A new open episode from a valid spec, as start_episode stores it.
  Episode NewEpisode(const EpisodeSpec& spec) const;

  // The normalized id and store key of an episode; NotFound when there is none.
  Result<std::pair<std::string, int64_t>> StoredKey(std::string_view episode_id);
  // Remembers a new open episode for the steps that follow.
  void Remember(int64_t key, const std::string& id);
  // After `failed` could not be stored: the queued steps of its episodes fail with it.
  // REQUIRES: `held` holds mu_.
  void Doom(const std::unique_lock<std::mutex>& held, const Batch& failed, const Status& why);

  // Memory::prune; `retention` says whether the retention thread runs it (for the metrics).
  Result<PruneResult> Prune(const PruneFilter& filter, bool retention);
  // Forgets what this process knows of episodes a prune removed, unless steps of theirs are
  // queued (the writer learns then that they are gone). Takes mu_.
  void ForgetPruned(const std::vector<PrunedEpisode>& removed);
  // Prunes by options_.retention when the Memory opens and every retention->every after.
  void RetentionLoop();

  // The id of the episode with this store key. Takes mu_.
  std::string EpisodeIdOf(int64_t key) const;
  void WriterLoop();
  CommitOutcome Commit(Batch& batch);
  // After a commit: moves the numbers of queued steps when another process appended to the
  // same episode, and records what the transaction learnt about each episode's state.
  // REQUIRES: `held` holds mu_.
  void Reconcile(const std::unique_lock<std::mutex>& held, const CommitOutcome& outcome);
  // Adds a written batch to metrics_. REQUIRES: `held` holds mu_.
  void Count(const std::unique_lock<std::mutex>& held, double seconds,
             const CommitOutcome& outcome);
  // Marks the episode closing and waits until none of its steps is queued or in flight.
  // REQUIRES: `lock` holds mu_.
  Result<int64_t> CloseEpisode(std::unique_lock<std::mutex>& lock, std::string_view episode_id);

  const std::unique_ptr<Store> store_;
  const Options options_;
  // Every text an agent sends passes through it before validation and the store.
  const std::shared_ptr<const Redactor> redactor_;

  // Records a write's outcome for health(): a failure of the disk or the store is kept until a
  // write succeeds. Returns `s`.
  const Status& NoteWrite(const Status& s);

  mutable std::mutex mu_;
  std::mutex fault_mu_;
  Status fault_;  // the last write's failure of the disk or store, guarded by fault_mu_
  std::condition_variable work_cv_;     // the writer waits here for batches
  std::condition_variable drained_cv_;  // flush, back-pressure and complete wait here
  std::deque<Batch> queue_;
  std::shared_ptr<Batch> in_flight_;  // the batch being committed, readable under mu_
  size_t queued_steps_ = 0;           // in queue_ and in_flight_
  uint64_t accepted_ = 0;             // steps accepted since open
  uint64_t finished_ = 0;             // steps committed or failed since open
  WriterMetrics metrics_;             // steps_queued is filled in on reading
  Status first_error_;  // the first commit error since the last flush, of steps no caller awaits
  std::unordered_map<int64_t, EpisodeState> episodes_;  // by store key
  std::unordered_map<std::string, int64_t> key_by_id_;
  bool closed_ = false;
  std::thread writer_;

  std::mutex prune_mu_;  // held by a prune while it runs: one at a time
  mutable std::mutex prune_metrics_mu_;
  PruneMetrics prune_metrics_;            // guarded by prune_metrics_mu_
  std::condition_variable retention_cv_;  // the retention thread waits here, under mu_
  std::thread retention_;
};

}  // namespace engram
