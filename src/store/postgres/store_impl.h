// The PostgreSQL store's class, its methods in three files: store.cpp (opening and the writes),
// reads.cpp (what the engine and recall read) and copy.cpp (a whole store read out for engram
// migrate).
#pragma once

#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engram/options.h"
#include "store/episode_queries.h"
#include "store/postgres/db.h"
#include "store/postgres/search.h"
#include "store/scoped_transaction.h"
#include "store/store.h"

namespace engram::pg {

// BEGIN (or the statement given) … COMMIT, rolled back unless committed.
class Transaction : public ScopedTransaction<Connection> {
 public:
  explicit Transaction(Connection& c, const char* begin = "BEGIN") : ScopedTransaction(c, begin) {}
};

// The parameters of a statement both stores share (store/episode_queries.h), $1 on.
inline Params ParamsOf(const Query& query) {
  Params params;
  for (const auto& p : query.params) params.add(p);
  return params;
}
// The rows of a statement both stores share, run on `conn`.
Result<Rows> RunQuery(Connection& conn, const Query& query);

// The episode's steps numbered above `after`, in order, at most `limit`.
Result<std::vector<ExecutionStep>> StepsAfter(Connection& conn, int64_t key, int64_t after,
                                              int64_t limit = std::numeric_limits<int64_t>::max());

// The head of the episode whose `column` (key or id) equals `value`.
Result<EpisodeHead> ReadHead(Connection& conn, std::string_view column, const Params& value,
                             std::string not_found);

// The episode `name` names; NotFound when none.
Result<NamedEpisodeRow> ReadNamed(Connection& conn, std::string_view name);

class PgStore final : public Store {
 public:
  PgStore(std::string url, std::unique_ptr<Connection> writer, const PostgresOptions& options);

  Result<int64_t> insert_episode(const Episode& e) override;

  Result<std::vector<Result<int64_t>>> import_episodes(const NextImported& next) override;

  Result<EpisodeHead> find_episode(std::string_view id) override;
  Result<NamedEpisodeRow> insert_named_episode(const Episode& e, std::string_view name) override;
  Result<NamedEpisodeRow> find_named_episode(std::string_view name) override;
  Status name_episode(int64_t episode_key, std::string_view name) override;
  Status order_steps_by_time(int64_t episode_key) override;
  Status amend_episode(int64_t episode_key, const EpisodeAmendment& amendment,
                       size_t max_metadata_bytes) override;

  Result<std::unique_ptr<WriteTransaction>> begin_write() override;

  Status complete_episode(int64_t key, const Completion& learnt, const Relearn& relearn) override;

  Result<std::vector<EpisodeCost>> recent_costs(TaskType type,
                                                const std::optional<std::string>& domain,
                                                int limit) override;

  Result<Episode> load_episode(std::string_view id) override;
  Result<std::vector<ExecutionStep>> load_steps(int64_t key, int64_t after, int64_t limit) override;

  Result<EpisodePage> list_episodes(const EpisodeFilter& f) override;

  Status delete_episode(std::string_view id) override;
  Result<PruneBatch> prune_batch(const PruneQuery& query, int limit) override;
  // Prunes run on a connection of their own and lock only the rows they remove (and, briefly,
  // the patterns whose evidence they edit): longer batches hold no step up, and a completion
  // that merges into the same patterns waits at most one.
  PrunePace prune_pace() const override { return {std::chrono::milliseconds(100), 0.5}; }
  Result<std::vector<PrunedEpisode>> prunable(const PruneQuery& query, int limit) override;
  Result<FileSpace> release_space(int64_t max_pages) override;

  Result<std::vector<Pattern>> list_patterns(const PatternFilter& filter) override;

  Status scan_steps(const StatsFilter& f,
                    const std::function<void(const StepFacts&)>& visit) override;

  Status count_episodes(const StatsFilter& f,
                        const std::function<void(const EpisodeCount&)>& visit) override;

  Result<Pattern> get_pattern(std::string_view id) override;

  Result<std::vector<SearchHit>> search_episodes(const std::vector<std::string>& words,
                                                 int limit) override;

  Result<std::unordered_map<int64_t, std::vector<StepBrief>>> step_briefs(
      const std::vector<int64_t>& keys) override;

  Result<std::vector<PatternHit>> patterns_of_episodes(const std::vector<int64_t>& keys) override;

  Result<std::vector<StoredEpisode>> scan_episodes(int64_t after_key, int limit) override;

  Status scan_learnt(const std::function<Status(LearntRows&&)>& page) override;

  Status write_learnt(const LearntRows& rows) override;

  Result<RowCounts> count_rows() override;
  Result<RowCounts> backup(const std::string& path) override;

 private:
  // A writer whose session the server ended while it was idle (a restart, a failover) is
  // replaced before the next transaction, so a node outlives its database's restarts; a
  // transaction the server cut midway fails, and the next one reconnects. REQUIRES: `held`
  // holds writer_mu_.
  Status Reconnect(const std::unique_lock<std::mutex>& held);

  const std::string url_;
  std::mutex writer_mu_;  // guards writer_: this process's writes, one at a time
  std::unique_ptr<Connection> writer_;
  pg::Pool readers_;
  std::mutex pruner_mu_;  // guards pruner_: prunes, one batch at a time
  std::unique_ptr<Connection> pruner_;
  pg::SearchFigures search_figures_;  // recall's figures over the index (postgres/search.h)
};

}  // namespace engram::pg
