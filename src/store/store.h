// The seam between the engine and a database: SQLite and PostgreSQL implement it. The engine
// owns validation, numbering and batching; a store only keeps what it is given, inside
// transactions.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/validation.h"
#include "engram/options.h"
#include "engram/status.h"
#include "engram/types.h"

namespace engram {

// What the engine needs to know about an episode to accept steps for it.
struct EpisodeHead {
  int64_t key = 0;  // the store's compact internal key
  EpisodeStatus status = EpisodeStatus::kOpen;
  int64_t last_step = 0;  // the highest committed step_number, 0 when none
};

// An episode a name of the caller's names (Memory::start_named_episode).
struct NamedEpisodeRow {
  int64_t key = 0;
  std::string id;
  bool inserted = false;  // inserted by this call, rather than found
  EpisodeStatus status = EpisodeStatus::kOpen;
  int64_t last_step = 0;  // the highest committed step_number, 0 when none
  std::string task;
};

// A write transaction holding the store's write lock. Destroying it uncommitted rolls back.
class WriteTransaction {
 public:
  virtual ~WriteTransaction() = default;
  // The heads of these episodes (ascending keys, each once), locking them for the numbering of
  // their steps until the commit where the store needs that (PostgreSQL). An episode deleted (by
  // this process or another) is left out.
  virtual Result<std::vector<EpisodeHead>> heads(const std::vector<int64_t>& episode_keys) = 0;
  virtual Status insert_step(int64_t episode_key, int64_t step_number,
                             const PreparedStep& step) = 0;
  virtual Status commit() = 0;
};

// One episode's evidence for one pattern.
struct PatternContribution {
  PatternType type = PatternType::kToolSequence;
  std::string key;          // the pattern's identity, unique across types
  std::string id;           // "p" and 16 hexadecimal digits, a hash of the key
  std::string description;  // a JSON object: what the pattern is, for people and recall
  int64_t occurrences = 0;  // how often it occurred in this episode
  double success = 0;       // this episode's success, in [0, 1]
  int64_t latency_ms = 0;   // summed over the occurrences' steps
  int64_t tokens = 0;       // summed over the occurrences' steps
  // decision_point only: per branch (the next tool), how often it was taken and succeeded.
  std::map<std::string, std::pair<int64_t, int64_t>> branches;
};

// What completing an episode writes, in one transaction.
// The text of an episode's steps that recall searches, by field (learn/recall.h StepsText).
struct StepTexts {
  std::string user;          // what the user said
  std::string calls;         // the tool calls: tool and action
  std::string observations;  // what the calls returned and the assistant said
};

struct Completion {
  Outcome outcome;
  std::string ended_at;
  std::string reward;      // JSON, written as prepared
  std::string reflection;  // JSON
  int64_t step_count = 0;
  int64_t duration_ms = 0;
  std::vector<PatternContribution> patterns;  // merged into the patterns of all episodes
  // Their ids as a JSON array, as the store lists an episode's patterns (Learn sets both, on
  // the preparing threads, so that a store's writer does not build it).
  std::string pattern_ids;
  // Indexed for recall's full-text search, beside the task.
  std::string reflection_text;
  StepTexts steps_text;
};

// The completion learnt again from the whole episode, given the steps committed after the
// ones it was first learnt from.
using Relearn = std::function<Completion(std::vector<ExecutionStep> later_steps)>;

// A completed episode found by recall's search.
struct SearchHit {
  int64_t key = 0;
  // How well the episode's text matches the words searched, higher is better (BM25F, see
  // search_index.h); 0 when it was found without words.
  double relevance = 0;
  // id, task, task_type, context, ended_at, outcome and the reward's total ({"total": x});
  // no steps, metadata or reflection.
  Episode episode;
  std::string reflection_json;  // parsed only for the episodes recall returns
};

// A pattern seen in some of the episodes recall found.
struct PatternHit {
  Pattern pattern;                    // without its evidence
  std::vector<int64_t> episode_keys;  // those of the episodes that show it
};

// What a completed episode cost, for comparing a new episode with similar past ones.
struct EpisodeCost {
  int64_t steps = 0;
  int64_t duration_ms = 0;
};

// What statistics need of one step.
// A count of episodes by status, outcome kind and the minute they started (Store::count_episodes).
struct EpisodeCount {
  std::string_view status;
  std::optional<std::string_view> outcome;
  std::string_view minute;  // "2026-12-03T05:10", a prefix of started_at
  int64_t episodes = 0;
};

struct StepFacts {
  std::string_view episode_id;
  std::string_view timestamp;
  int64_t step_number = 0;
  std::string_view tool;
  std::string_view action;
  int64_t latency_ms = 0;
  std::optional<int64_t> tokens;
  bool success = true;
};

// An episode to import whole, validated and (when completed) learnt from.
struct ImportedEpisode {
  Episode episode;  // its steps are in `steps`
  std::vector<PreparedStep> steps;
  std::optional<Completion> completion;  // set for a completed episode
  std::vector<std::string> names;        // what names it (engram migrate carries them)
};

// An episode as stored, for copying a whole store to another (engram migrate).
struct StoredEpisode {
  int64_t key = 0;
  Episode episode;  // with its steps
  // What completing it stored; unset for an open episode (or one completed before schema
  // version 2 of the SQLite store).
  std::optional<int64_t> step_count;
  std::optional<int64_t> duration_ms;
  std::vector<std::string> names;  // what names it, in name order
};

// A pattern's row as stored: its sums, not the means Pattern shows.
struct PatternRow {
  std::string id;
  std::string key;
  PatternType type = PatternType::kToolSequence;
  std::string description;  // JSON
  int64_t support = 0;
  double success_sum = 0;
  int64_t occurrences = 0;
  int64_t latency_ms_sum = 0;
  int64_t tokens_sum = 0;
  std::optional<std::string> branches;  // JSON, decision points only
  std::string first_seen;
  std::string last_seen;
  std::vector<int64_t> evidence;  // episode keys, newest first
};

// The patterns an episode showed, all of them (a pattern's own evidence keeps the newest 100).
struct EpisodePatternsRow {
  int64_t episode_key = 0;
  std::string pattern_ids;  // a JSON array
};

// In how many episodes of a domain a pattern was seen.
struct PatternDomainRow {
  std::string domain;
  std::string pattern_id;
  int64_t episodes = 0;
};

// What a store learnt, as rows; a page read by scan_learnt holds some of them.
struct LearntRows {
  std::vector<PatternRow> patterns;
  std::vector<EpisodePatternsRow> episode_patterns;
  std::vector<PatternDomainRow> pattern_domains;
};

// Rows per table, for checking a copy: episodes, steps, patterns, episode_patterns,
// pattern_domains.
using RowCounts = std::map<std::string, int64_t>;

// A step as next-step suggestions read it.
struct StepBrief {
  std::string tool;
  std::string action;  // its first kStepBriefActionChars characters
  bool success = true;
};
inline constexpr int kStepBriefActionChars = 200;

// The episodes a prune takes, oldest first (started_at, then key), after `after` when set.
struct PruneQuery {
  std::string before;  // canonical RFC 3339: episodes started before it
  std::optional<EpisodeStatus> status;
  std::optional<OutcomeKind> outcome;
  std::optional<std::string> domain;
  std::optional<std::pair<std::string, int64_t>> after;  // (started_at, key) of the last one seen
};

// An episode a prune removed, or would remove.
struct PrunedEpisode {
  int64_t key = 0;
  std::string id;
  std::string started_at;
  EpisodeStatus status = EpisodeStatus::kOpen;
  std::optional<OutcomeKind> outcome;
  int64_t steps = 0;
};

// How a prune paces itself on a store: batches sized to take about `batch` each, and after
// each a pause of `pause` times what it took (at least a millisecond), the writers' turn.
struct PrunePace {
  std::chrono::milliseconds batch{4};
  double pause = 1.0;
};

// What one transaction of a prune removed.
struct PruneBatch {
  std::vector<PrunedEpisode> removed;
  std::chrono::steady_clock::duration took{};  // the transaction, from its lock to its commit
};

// A SQLite file's space: what it gave back to the file system, what stays free inside it.
struct FileSpace {
  int64_t released_bytes = 0;
  int64_t free_bytes = 0;
};

// A database that keeps episodes, their steps and what was learnt from them. The engine owns
// validation, numbering and batching; a store keeps what it is given, each write call in one
// transaction (all or nothing), and reads it back.
//
// Thread-safe: any number of threads may call any method at once. Writes (insert_episode,
// begin_write until its transaction ends, complete_episode, delete_episode, import_episodes,
// write_learnt) take the store's one write lock in turn, and on SQLite wait up to the busy
// timeout for other processes holding the file's; reads run beside them on connections of
// their own, each call on one snapshot. Every call may fail with the store's own failures
// (IOError, NoSpace, Unavailable, Busy, Corruption); the statuses each names besides are its
// own.
class Store {
 public:
  virtual ~Store() = default;

  // Unavailable when writes could not survive a restart (SQLite: the file at the path is not
  // the one open); Ok otherwise.
  virtual Status writable() { return Status::Ok(); }

  // Inserts a new open episode (its steps are ignored) and returns its key.
  virtual Result<int64_t> insert_episode(const Episode& episode) = 0;
  // NotFound when there is no episode with this id.
  virtual Result<EpisodeHead> find_episode(std::string_view id) = 0;
  // Names: keys of the caller's, each naming one episode. In one transaction, the episode
  // `name` names, or else `episode` inserted (open) and named by it; two callers racing with
  // one name, in any processes, get one episode.
  virtual Result<NamedEpisodeRow> insert_named_episode(const Episode& episode,
                                                       std::string_view name) = 0;
  // The episode `name` names (`inserted` false); NotFound when none.
  virtual Result<NamedEpisodeRow> find_named_episode(std::string_view name) = 0;
  // Amends the episode with this key while it is open (AmendQuery): FailedPrecondition when it
  // is completed, NotFound when it is gone, InvalidArgument when its metadata would pass
  // `max_metadata_bytes`.
  virtual Status amend_episode(int64_t episode_key, const EpisodeAmendment& amendment,
                               size_t max_metadata_bytes) = 0;
  // Names the episode with this key by `name` too: Ok when it names it already, AlreadyExists
  // when it names another, NotFound when the episode is gone.
  virtual Status name_episode(int64_t episode_key, std::string_view name) = 0;
  // Renumbers the open episode's steps by timestamp, steps of one time in their order
  // (StepsByTimeUpdates): FailedPrecondition when it is completed, NotFound when it
  // is gone.
  virtual Status order_steps_by_time(int64_t episode_key) = 0;
  virtual Result<std::unique_ptr<WriteTransaction>> begin_write() = 0;
  // Stores the completion and marks the episode completed, only if it is still open:
  // FailedPrecondition when it was completed already, NotFound when it is gone. When another
  // process committed steps after the `completion.step_count` it was learnt from, the store
  // reads them under its lock (so no more can arrive) and stores `relearn(those steps)` instead.
  virtual Status complete_episode(int64_t episode_key, const Completion& completion,
                                  const Relearn& relearn) = 0;
  // The costs of up to `limit` most recently completed episodes of this task type (and domain,
  // when given), newest first.
  virtual Result<std::vector<EpisodeCost>> recent_costs(TaskType task_type,
                                                        const std::optional<std::string>& domain,
                                                        int limit) = 0;
  // The whole episode with its committed steps in step_number order.
  virtual Result<Episode> load_episode(std::string_view id) = 0;
  // Up to `limit` committed steps of the episode of that key numbered above `after`, in order.
  virtual Result<std::vector<ExecutionStep>> load_steps(int64_t key, int64_t after,
                                                        int64_t limit) = 0;
  virtual Result<EpisodePage> list_episodes(const EpisodeFilter& filter) = 0;
  // NotFound when there is no such episode.
  virtual Status delete_episode(std::string_view id) = 0;
  // Removes, in one transaction, up to `limit` episodes the query matches, oldest first, each
  // as delete_episode does. What it removed, in order (none when nothing matches), and how long
  // it took.
  virtual Result<PruneBatch> prune_batch(const PruneQuery& query, int limit) = 0;
  // How prunes should pace their batches here, so that writers are never held up long.
  virtual PrunePace prune_pace() const = 0;
  // Up to `limit` episodes the query matches, oldest first, removing nothing.
  virtual Result<std::vector<PrunedEpisode>> prunable(const PruneQuery& query, int limit) = 0;
  // Gives up to `max_pages` free pages back to the file system in one transaction, where the
  // store can (a SQLite file created with incremental vacuum); the space after.
  virtual Result<FileSpace> release_space(int64_t max_pages) = 0;
  virtual Result<std::vector<Pattern>> list_patterns(const PatternFilter& filter) = 0;
  // Calls `visit` for every committed step that passes the filter (since already normalised).
  virtual Status scan_steps(const StatsFilter& filter,
                            const std::function<void(const StepFacts&)>& visit) = 0;
  // Hands `visit` the count of episodes passing the filter for each status, outcome kind
  // (none while open) and minute they started in.
  virtual Status count_episodes(const StatsFilter& filter,
                                const std::function<void(const EpisodeCount&)>& visit) = 0;
  // NotFound when there is no such pattern.
  virtual Result<Pattern> get_pattern(std::string_view id) = 0;
  // Inserts whole episodes in one transaction, taking them from `next` in order until it
  // returns nullptr (it may block while the next one is being prepared; what it returned
  // stays valid until this returns): per episode its key, or AlreadyExists when its id is taken
  // (nothing of it written).
  using NextImported = std::function<const ImportedEpisode*()>;
  virtual Result<std::vector<Result<int64_t>>> import_episodes(const NextImported& next) = 0;
  // Up to `limit` completed episodes whose task, reflection or step text holds any of `words`,
  // best BM25 first; without words, the most recently completed.
  virtual Result<std::vector<SearchHit>> search_episodes(const std::vector<std::string>& words,
                                                         int limit) = 0;
  // The committed steps of the episodes with these keys, each episode's in step order (an
  // episode with none, or gone, is absent).
  virtual Result<std::unordered_map<int64_t, std::vector<StepBrief>>> step_briefs(
      const std::vector<int64_t>& keys) = 0;
  // The patterns with evidence among the episodes with these keys.
  virtual Result<std::vector<PatternHit>> patterns_of_episodes(
      const std::vector<int64_t>& keys) = 0;

  // Copying a whole store (engram migrate).
  // Up to `limit` episodes with keys above `after_key`, in key order, with their steps.
  virtual Result<std::vector<StoredEpisode>> scan_episodes(int64_t after_key, int limit) = 0;
  // Every row of what the store learnt, handed to `page` a few thousand at a time.
  virtual Status scan_learnt(const std::function<Status(LearntRows&&)>& page) = 0;
  // Inserts these rows as they are (episode keys are this store's), in one transaction.
  virtual Status write_learnt(const LearntRows& rows) = 0;
  virtual Result<RowCounts> count_rows() = 0;

  // A consistent copy of the whole store in a new SQLite file at `path`, taken while writers
  // go on, and checked; what it holds (Memory::backup). FailedPrecondition for a store that
  // is not SQLite.
  virtual Result<RowCounts> backup(const std::string& path) = 0;
};

}  // namespace engram
