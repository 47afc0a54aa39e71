// Memory: the engine. Open one from a URL, record episodes and their steps, read them back.
#pragma once

#include <array>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engram/options.h"
#include "engram/status.h"
#include "engram/types.h"

namespace engram {

// What log_step_async hands back for an accepted step.
struct StepTicket {
  // The number the step was given on acceptance. Another process appending to the same
  // episode at the same moment can move it; wait() returns the number it was committed with.
  int64_t step_number = 0;
  std::shared_future<Result<int64_t>> committed;

  // Blocks until the batch holding the step has committed (or failed). Returns the committed
  // step number, or why the step could not be committed.
  Result<int64_t> wait() const { return committed.get(); }
};

// What the step writer has done since the store was opened, for monitoring (engram serve's
// /metrics). Every batch is one transaction; its commit latency is counted in cumulative
// buckets as a Prometheus histogram has them.
struct WriterMetrics {
  static constexpr std::array<double, 11> kCommitSecondsBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  uint64_t commits = 0;          // batches written, whether they committed or failed
  uint64_t steps_committed = 0;  // steps made durable
  uint64_t steps_failed = 0;     // steps not stored (their tickets carry the reason)
  uint64_t steps_queued = 0;     // accepted and not yet written, at this moment
  double commit_seconds_sum = 0;
  std::array<uint64_t, kCommitSecondsBounds.size()> commit_seconds_buckets{};  // <= each bound
};

// What prune and retention have removed since the store was opened, for monitoring.
struct PruneMetrics {
  uint64_t runs = 0;            // prune calls that removed (not dry runs), retention's included
  uint64_t retention_runs = 0;  // of them, retention's
  uint64_t failures = 0;        // runs that stopped on an error
  uint64_t episodes = 0;        // removed
  uint64_t steps = 0;           // removed with them
  // When retention last finished a run, in seconds since the epoch; 0 when it has not.
  double retention_last_run = 0;
};

// Thread-safe: any number of threads may call any method at once. Several processes may open
// the same SQLite file; writes wait for each other up to SqliteOptions::busy_timeout.
//
// Statuses. Each call names the statuses its own rules return. Besides those, any call that
// reads or writes the store may return the store's failures: IOError (it could not be read or
// written), NoSpace (the disk is full; nothing of the write was kept), Unavailable (the
// store's file is no longer the one at its path), Busy (a SQLite file stayed locked by another
// process past the busy timeout, three times over; a PostgreSQL transaction was aborted as a
// deadlock victim three times over) and Corruption (the file is damaged or not an engram
// database). After close(), every call returns Aborted. Internal is a bug of engram's.
// An episode id that is not a UUID is InvalidArgument; one that names no episode, NotFound.
class Memory {
 public:
  // Opens the store at `url`: "sqlite:///abs/path/engram.db", "sqlite://relative.db",
  // "sqlite::memory:", a plain file path, or a PostgreSQL database ("postgres://user@host:port/
  // db", "postgresql://…", or libpq's "host=… dbname=…"). Creates the SQLite file and the
  // schema if missing and migrates an older schema forward. Returns InvalidArgument for an
  // unknown scheme, options of another backend than the one named, or max_batch_steps or
  // max_pending_steps of 0; IOError when the store cannot be opened or reached; Corruption
  // when the file is not an engram database.
  static Result<std::unique_ptr<Memory>> open(std::string_view url, Options options = {});

  Memory() = default;
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  // Flushes every accepted step, then closes the store.
  virtual ~Memory() = default;

  // Records a new open episode and returns its id (a UUIDv7 string). InvalidArgument when the
  // spec breaks a limit or a rule (an empty task, an empty tag, metadata over its limit).
  virtual Result<std::string> start_episode(const EpisodeSpec& spec) = 0;

  // Names: a key of the caller's that names one episode for good (an OpenTelemetry
  // conversation or trace, a coding agent's session), so that what arrives later, in any
  // process, finds the episode again. A name is 1 to 512 bytes of UTF-8 without NUL
  // (InvalidArgument otherwise); an episode may have several.
  //
  // The episode `name` names, or else a new open episode started from `spec` and named by it
  // (`started` says which). Callers racing with one name, in any processes, get one episode.
  // InvalidArgument as start_episode for a spec it needs.
  virtual Result<NamedEpisode> start_named_episode(std::string_view name,
                                                   const EpisodeSpec& spec) = 0;
  // The episode `name` names, with its status, step count and task. NotFound when it names none.
  virtual Result<NamedEpisode> find_named_episode(std::string_view name) = 0;
  // Changes an open episode by what the caller learnt after starting it (OpenTelemetry's first
  // user message, agent name and root span may arrive after other spans). InvalidArgument as
  // start_episode for what it sets (an empty task, metadata that would pass its limit, a
  // malformed time); FailedPrecondition for a completed episode; NotFound for an unknown one.
  virtual Status amend_episode(std::string_view episode_id, const EpisodeAmendment& amendment) = 0;
  // Names the episode by `name` too. AlreadyExists when the name names another episode (naming
  // the same one again is Ok); NotFound for an unknown episode.
  virtual Status name_episode(std::string_view episode_id, std::string_view name) = 0;

  // Validates `step` against the limits and the episode's state and, if it passes, appends it.
  // Returns once the step is durable, with its step number. An invalid step returns
  // InvalidArgument naming the field, the limit and the value; nothing is written.
  // NotFound for an unknown (or meanwhile deleted) episode, FailedPrecondition for a completed
  // one, ResourceExhausted past Limits::max_steps_per_episode.
  virtual Result<int64_t> log_step(std::string_view episode_id, ExecutionStep step) = 0;

  // Like log_step but returns as soon as the step is accepted (visible to get_episode in this
  // process). Dropping the ticket is fire-and-forget: on a crash, at most the steps of the
  // batches not yet committed (about one max_batch_delay) are lost; close() and flush() save
  // them. Waits only when max_pending_steps are queued. When a batch cannot be stored (a full
  // disk, an I/O error), the episode's steps queued behind it fail with it, and this refuses
  // the episode's further steps with that error until flush() has reported it: a stream of
  // steps sent again from its first failure keeps its order. Returns what log_step returns for
  // what is known on acceptance; the ticket carries what the commit found.
  virtual Result<StepTicket> log_step_async(std::string_view episode_id, ExecutionStep step) = 0;

  // Validates every step first: if any is invalid, none is written and the error names its
  // index ("steps[3]: tool is empty"). Otherwise appends them with consecutive step numbers
  // and returns those once they are durable. Otherwise as log_step.
  virtual Result<std::vector<int64_t>> log_steps(std::string_view episode_id,
                                                 std::vector<ExecutionStep> steps) = 0;

  // Returns once every step accepted before the call is durable, or the first commit error
  // since the previous flush among steps whose callers do not learn it otherwise (those of
  // log_step_async; log_step and log_steps return their own).
  virtual Status flush() = 0;

  // Flushes the episode's steps, stores the outcome and ended_at, and returns the completed
  // episode. Completing twice is FailedPrecondition; an episode with no steps may complete.
  // InvalidArgument for an outcome that breaks a limit; NotFound for an unknown episode.
  virtual Result<Episode> complete_episode(std::string_view episode_id, const Outcome& outcome) = 0;
  // As complete_episode, told more by a caller that knows it (CompletionOptions: when the task
  // ended, whether its steps arrived out of order). InvalidArgument for an ended_at that is
  // malformed or before the episode's started_at (naming both).
  virtual Result<Episode> complete_episode(std::string_view episode_id, const Outcome& outcome,
                                           const CompletionOptions& options) = 0;

  // The whole episode, steps in step_number order, including steps accepted by this Memory
  // whose batch has not committed yet. NotFound for an unknown episode.
  virtual Result<Episode> get_episode(std::string_view episode_id) = 0;

  // A page of the episode's steps: those numbered above range.after, in order, the accepted
  // ones not yet committed included, as get_episode has them. NotFound for an unknown episode,
  // InvalidArgument for a limit outside 1 … kMaxStepPage or a negative `after`.
  virtual Result<StepPage> list_steps(std::string_view episode_id, const StepRange& range) = 0;

  // A page of episodes without their steps (with their totals), newest first. InvalidArgument
  // for a limit outside 1 … 10,000, more than kMaxListIds ids, or a malformed time, id or cursor.
  virtual Result<EpisodePage> list_episodes(const EpisodeFilter& filter) = 0;

  // Removes the episode and its steps. NotFound when there is no such episode. The patterns it
  // contributed to keep their counts; it leaves their evidence lists.
  virtual Status delete_episode(std::string_view episode_id) = 0;

  // Removes the episodes the filter matches, with their steps, their search index entries and
  // their place in the patterns' evidence (the patterns keep what was learnt: support and
  // rates), a batch at a time, each batch one short transaction, so that writers go on
  // meanwhile. Returns what it removed; with dry_run, what it would. Prunes run one at a
  // time. Steps still queued for a removed open episode fail with NotFound. InvalidArgument
  // for an older_than outside 0 … kMaxPruneAge; an error of the store stops it, the batches
  // before kept.
  virtual Result<PruneResult> prune(const PruneFilter& filter) = 0;

  // The patterns mined from completed episodes that pass the filter, by support then success
  // rate. With the default filter, every pattern. InvalidArgument for a filter out of range.
  virtual Result<std::vector<Pattern>> list_patterns(const PatternFilter& filter) = 0;

  // One pattern by id. NotFound when there is none.
  virtual Result<Pattern> get_pattern(std::string_view pattern_id) = 0;

  // Tool and episode statistics. Includes every step accepted before the call (it flushes).
  // InvalidArgument for a malformed `since`.
  virtual Result<Stats> stats(const StatsFilter& filter) = 0;

  // The past experience relevant to a new task: the k best completed episodes (failed ones
  // marked as warnings), the patterns they show and a playbook within the token budget.
  // InvalidArgument for an empty task or k / token_budget out of range.
  virtual Result<Recall> recall(const RecallQuery& query) = 0;

  // What the episode might do next: up to k tools (1 … 20), best first, from what the similar
  // past episodes recall finds did after the same last tools (whether the last call failed
  // included) and from the learnt decision points and error recoveries. Conversation turns
  // (tools "llm" and "user") are neither read as calls nor suggested. A completed episode may
  // be asked too. NotFound for an unknown episode, InvalidArgument for a malformed id or k.
  virtual Result<Suggestions> suggest(std::string_view episode_id, int64_t k) = 0;
  // Imports whole episodes, as `export` wrote them: ids, step numbers and timestamps are kept
  // (an empty id gets a new one, an empty timestamp the current time). Each episode is
  // validated like the calls that would have recorded it; a completed one is indexed for recall
  // and merged into the patterns, and one without a reward or reflection is scored as
  // complete_episode would, against the similar episodes stored before its transaction.
  // Returns one Status per episode, in order: ok, AlreadyExists (the id is taken; skipped), or
  // why it was rejected (nothing of it written). Episodes are written 512 to a transaction: an
  // error of the store itself fails the call, keeping the transactions committed before it
  // (importing the same episodes again skips those as existing).
  virtual Result<std::vector<Status>> import_episodes(std::vector<Episode> episodes) = 0;

  // A consistent copy of the whole store in a new SQLite file at `path`, taken while other
  // callers and processes go on writing: every step acknowledged before the call is in it. The
  // copy is checked (PRAGMA integrity_check) and opens as any store. Returns the rows of each
  // table it holds. AlreadyExists when `path` exists; FailedPrecondition on PostgreSQL
  // (pg_dump, or engram migrate to a SQLite file, back it up).
  virtual Result<std::map<std::string, int64_t>> backup(std::string_view path) = 0;

  // Flushes and closes; returns what flush() would. Later calls return Aborted. Idempotent.
  virtual Status close() = 0;

  // A snapshot of the step writer's counters.
  virtual WriterMetrics writer_metrics() const = 0;
  // A snapshot of what prune and retention have removed.
  virtual PruneMetrics prune_metrics() const = 0;

  // Whether the store can take writes now: Unavailable when its file is no longer the one at
  // its path (deleted, renamed over, its WAL removed); NoSpace or IOError while the last write
  // failed so (cleared by the next write that succeeds). Ok otherwise.
  virtual Status health() = 0;
};

}  // namespace engram
