// The seam between the engine and a database. SQLite implements it today; PostgreSQL will sit
// behind the same interface. The engine owns validation, numbering and batching; a store only
// keeps what it is given, inside transactions.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  std::string type;         // tool_sequence | error_recovery | decision_point | context
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
struct Completion {
  Outcome outcome;
  std::string ended_at;
  std::string reward;      // JSON, written as prepared
  std::string reflection;  // JSON
  int64_t step_count = 0;
  int64_t duration_ms = 0;
  std::vector<PatternContribution> patterns;  // merged into the patterns of all episodes
  // Indexed for recall's full-text search, beside the task.
  std::string reflection_text;
  std::string steps_text;
};

// A completed episode found by recall's search.
struct SearchHit {
  int64_t key = 0;
  double bm25 = 0;  // FTS5 bm25(): more negative is a better match; 0 when found without text
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
struct StepFacts {
  std::string_view episode_id;
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
};

class Store {
 public:
  virtual ~Store() = default;

  // Inserts a new open episode (its steps are ignored) and returns its key.
  virtual Result<int64_t> insert_episode(const Episode& episode) = 0;
  // NotFound when there is no episode with this id.
  virtual Result<EpisodeHead> find_episode(std::string_view id) = 0;
  virtual Result<std::unique_ptr<WriteTransaction>> begin_write() = 0;
  // Stores the completion and marks the episode completed, only if it is still open:
  // FailedPrecondition when it was completed already, NotFound when it is gone.
  virtual Status complete_episode(int64_t episode_key, const Completion& completion) = 0;
  // The costs of up to `limit` most recently completed episodes of this task type (and domain,
  // when given), newest first.
  virtual Result<std::vector<EpisodeCost>> recent_costs(TaskType task_type,
                                                        const std::optional<std::string>& domain,
                                                        int limit) = 0;
  // The whole episode with its committed steps in step_number order.
  virtual Result<Episode> load_episode(std::string_view id) = 0;
  virtual Result<EpisodePage> list_episodes(const EpisodeFilter& filter) = 0;
  // NotFound when there is no such episode.
  virtual Status delete_episode(std::string_view id) = 0;
  virtual Result<std::vector<Pattern>> list_patterns(const PatternFilter& filter) = 0;
  // Calls `visit` for every committed step that passes the filter (since already normalised).
  virtual Status scan_steps(const StatsFilter& filter,
                            const std::function<void(const StepFacts&)>& visit) = 0;
  // Episode counts by status and by outcome kind, for episodes passing the filter.
  virtual Status count_episodes(const StatsFilter& filter,
                                std::map<std::string, int64_t>& by_status,
                                std::map<std::string, int64_t>& by_outcome) = 0;
  // NotFound when there is no such pattern.
  virtual Result<Pattern> get_pattern(std::string_view id) = 0;
  // Inserts whole episodes in one transaction, taking them from `next` in order until it
  // returns nullptr (it may block while the next one is being prepared): per episode ok, or
  // AlreadyExists when its id is taken (nothing of it written).
  using NextImported = std::function<const ImportedEpisode*()>;
  virtual Result<std::vector<Status>> import_episodes(const NextImported& next) = 0;
  // Up to `limit` completed episodes whose task, reflection or step text holds any of `words`,
  // best BM25 first; without words, the most recently completed.
  virtual Result<std::vector<SearchHit>> search_episodes(const std::vector<std::string>& words,
                                                         int limit) = 0;
  // The patterns with evidence among the episodes with these keys.
  virtual Result<std::vector<PatternHit>> patterns_of_episodes(
      const std::vector<int64_t>& keys) = 0;
};

// Opens the store named by `url` (see Memory::open).
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const Options& options);

}  // namespace engram
