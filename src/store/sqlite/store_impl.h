// The SQLite store's class, its methods in three files: store.cpp (opening, the writes and the
// readers' pool), reads.cpp (what the engine and recall read) and copy.cpp (a whole store read
// out for engram migrate).
#pragma once

#include <fmt/format.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engram/options.h"
#include "store/episode_queries.h"
#include "store/row_decode.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/db.h"
#include "store/sqlite/search.h"
#include "store/store.h"

namespace engram::sqlite {

// The head of the episode whose `column` (key or id) equals `value`; NotFound with
// `not_found` as its message when there is none.
template <typename Value>
Result<EpisodeHead> ReadHead(Connection& conn, std::string_view column, const Value& value,
                             std::string not_found) {
  static const std::string kByKey = HeadQuery(Dialect::kSqlite, "key");
  static const std::string kById = HeadQuery(Dialect::kSqlite, "id");
  auto st = conn.cached(column == "key" ? kByKey : kById);
  if (!st.ok()) return st.status();
  Statement& q = **st;
  q.bind(1, value);
  Status s;
  if (!q.step(s)) {
    if (!s.ok()) return s;
    return Status::NotFound(std::move(not_found));
  }
  EpisodeHead h = HeadFromRow(q);
  q.reset();
  return h;
}

// Binds a shared statement's parameters (store/episode_queries.h), ?1 on.
inline void BindQuery(Statement& st, const Query& query) {
  for (size_t i = 0; i < query.params.size(); ++i) {
    st.bind(static_cast<int>(i + 1), query.params[i]);
  }
}

// The episode `name` names; NotFound when none.
Result<NamedEpisodeRow> ReadNamed(Connection& conn, std::string_view name);

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, SqliteOptions options, std::unique_ptr<Connection> writer,
              std::unique_ptr<sqlite::Checkpointer> checkpointer)
      : path_(std::move(path)),
        options_(std::move(options)),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)) {}

  Status writable() override;

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

  Status delete_episode(std::string_view id) override;
  Result<PruneBatch> prune_batch(const PruneQuery& query, int limit) override;
  // A batch holds the one write lock steps need (this process's and the file's): about 4 ms,
  // then as long again for the writers.
  PrunePace prune_pace() const override { return {std::chrono::milliseconds(4), 1.0}; }
  Result<std::vector<PrunedEpisode>> prunable(const PruneQuery& query, int limit) override;
  Result<FileSpace> release_space(int64_t max_pages) override;

 private:
  // A reader connection for the calling thread's use; returned to the pool on destruction.
  // An in-memory database has one connection, shared with the writer under its mutex.
  class Lease {
   public:
    Lease(SqliteStore& store, std::unique_ptr<Connection> conn)
        : store_(store), conn_(std::move(conn)) {
      if (!conn_) shared_ = std::unique_lock(store_.writer_mu_);
    }
    ~Lease() {
      if (conn_) {
        std::lock_guard lock(store_.pool_mu_);
        store_.pool_.push_back(std::move(conn_));
      }
    }
    Connection* operator->() { return conn_ ? conn_.get() : store_.writer_.get(); }
    Connection& operator*() { return *operator->(); }

   private:
    SqliteStore& store_;
    std::unique_ptr<Connection> conn_;
    std::unique_lock<std::mutex> shared_;
  };

  Lease reader();

  // `read(conn)` on a reader connection inside one read transaction, so that all it reads is
  // one snapshot of the database.
  template <typename Read>
  auto InSnapshot(Read read) -> decltype(read(std::declval<Connection&>())) {
    auto lease = reader();
    Connection& conn = *lease;
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;
    auto out = read(conn);
    (void)conn.exec("COMMIT");
    return out;
  }

  Result<std::vector<SearchHit>> search_in_snapshot(Connection& conn,
                                                    const std::vector<std::string>& words,
                                                    int limit);

  // A search hit read from kColumns (search_in_snapshot).
  static SearchHit HitFromRow(Statement& q, double relevance);

  // The episode's steps numbered above `after`, in order, at most `limit` (-1: all).
  static Result<std::vector<ExecutionStep>> StepsAfter(Connection& conn, int64_t key, int64_t after,
                                                       int64_t limit = -1);

  Result<Episode> load_in_snapshot(Connection& conn, std::string_view id);

  Result<std::vector<StoredEpisode>> scan_in_snapshot(Connection& conn, int64_t after_key,
                                                      int limit);

  Status scan_learnt_in_snapshot(Connection& conn, const std::function<Status(LearntRows&&)>& page);

  const std::string path_;
  const SqliteOptions options_;
  std::mutex writer_mu_;  // guards writer_
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;  // null for an in-memory database
  std::mutex pool_mu_;                                  // guards pool_
  std::vector<std::unique_ptr<Connection>> pool_;
  sqlite::TermHits term_hits_;  // recall's term counts, shared by the readers
};

}  // namespace engram::sqlite
