#include "store/sqlite/store.h"

#include <fmt/format.h>

#include <mutex>
#include <vector>

#include "engram/json.h"
#include "store/episode_queries.h"
#include "store/row_decode.h"
#include "store/scoped_transaction.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/db.h"
#include "store/sqlite/patterns.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/search.h"

namespace engram {
namespace {

using nlohmann::json;
using sqlite::Connection;
using sqlite::Statement;

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

// BEGIN IMMEDIATE … COMMIT: the write lock from the start, rolled back unless committed.
class ImmediateTransaction : public ScopedTransaction<Connection> {
 public:
  // Not begun when the file is no longer the one at its path (Connection::check_file).
  explicit ImmediateTransaction(Connection& conn)
      : ScopedTransaction(conn, "BEGIN IMMEDIATE", conn.check_file()) {}
};

Status InsertStep(Connection& conn, int64_t key, int64_t number, const PreparedStep& p) {
  auto st = conn.cached(
      "INSERT INTO steps (episode_key, step_number, timestamp, tool, action, latency_ms, "
      "tokens, success, observation, parameters, metadata) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!st.ok()) return st.status();
  const ExecutionStep& s = p.step;
  Statement& q = **st;
  q.bind(1, key).bind(2, number).bind_text_static(3, s.timestamp);
  q.bind_text_static(4, s.tool).bind_text_static(5, s.action).bind(6, s.latency_ms);
  if (s.tokens) {
    q.bind(7, *s.tokens);
  } else {
    q.bind(7, nullptr);
  }
  q.bind(8, int64_t{s.success ? 1 : 0}).bind_text_static(9, s.observation);
  q.bind_text_static(10, p.parameters_json).bind_text_static(11, p.metadata_json);
  return q.run();
}

// Inserts the episode's row and tags (not its steps) and returns its key. With a completion, the
// row is written completed: outcome, ended_at, reward, reflection and costs from it.
Result<int64_t> InsertEpisodeRow(Connection& conn, const Episode& e,
                                 const Completion* c = nullptr) {
  auto st =
      conn.cached(fmt::format("INSERT INTO episodes ({}, step_count, duration_ms) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              kEpisodeColumns));
  if (!st.ok()) return st.status();
  Statement& q = **st;
  q.bind(1, e.id).bind(2, e.task).bind(3, to_string(e.task_type));
  q.bind_optional(4, e.context.domain).bind_optional(5, e.context.language);
  q.bind_optional(6, e.context.framework);
  if (e.context.complexity) {
    q.bind(7, to_string(*e.context.complexity));
  } else {
    q.bind(7, nullptr);
  }
  q.bind(8, json(e.context.tags).dump()).bind(10, e.started_at);
  if (c) {
    q.bind(9, "completed").bind(11, c->ended_at).bind(12, to_json(c->outcome).dump());
    q.bind_text_static(13, c->reward).bind_text_static(14, c->reflection);
    q.bind(16, c->step_count).bind(17, c->duration_ms);
  } else {
    q.bind(9, "open").bind(11, nullptr).bind(12, nullptr).bind(13, nullptr).bind(14, nullptr);
    q.bind(16, nullptr).bind(17, nullptr);
  }
  q.bind(15, e.metadata.dump());
  if (Status s = q.run(); !s.ok()) return s;
  const int64_t key = conn.last_insert_rowid();
  for (const auto& tag : e.context.tags) {
    auto t = conn.cached("INSERT OR IGNORE INTO episode_tags (tag, episode_key) VALUES (?, ?)");
    if (!t.ok()) return t.status();
    if (Status s = (*t)->bind(1, tag).bind(2, key).run(); !s.ok()) return s;
  }
  return key;
}

// The search index entry of a completed episode.
// One row of VALUES on purpose: an INSERT ... SELECT runs in a statement savepoint, and FTS5
// writes its pending terms out as a new segment at every savepoint, so each episode became a
// segment of its own to be merged later (four times the cost of the insert itself).
Status IndexForSearch(Connection& conn, int64_t key, std::string_view task, const Completion& c) {
  auto fts = conn.cached(
      "INSERT INTO episode_fts (rowid, task, user, calls, observations, reflection) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  if (!fts.ok()) return fts.status();
  (*fts)->bind(1, key).bind_text_static(2, task).bind_text_static(3, c.steps_text.user);
  (*fts)->bind_text_static(4, c.steps_text.calls).bind_text_static(5, c.steps_text.observations);
  (*fts)->bind_text_static(6, c.reflection_text);
  return (*fts)->run();
}

class SqliteStore;

constexpr int64_t kReaderMmapBytes = int64_t{2} << 30;  // 2 GiB of address space, not memory

class SqliteWriteTransaction final : public WriteTransaction {
 public:
  SqliteWriteTransaction(std::unique_lock<std::mutex> lock, Connection& conn)
      : lock_(std::move(lock)), conn_(conn), txn_(conn) {}

  const Status& begin_status() const { return txn_.begin_status(); }

  Result<std::vector<EpisodeHead>> heads(const std::vector<int64_t>& keys) override {
    std::vector<EpisodeHead> out;
    for (int64_t key : keys) {
      auto h = ReadHead(conn_, "key", key, "");
      if (h.ok()) {
        out.push_back(*h);
      } else if (!h.status().IsNotFound()) {
        return h.status();
      }
    }
    return out;
  }

  Status insert_step(int64_t key, int64_t number, const PreparedStep& p) override {
    return InsertStep(conn_, key, number, p);
  }

  Status commit() override { return txn_.commit(); }

 private:
  std::unique_lock<std::mutex> lock_;
  Connection& conn_;
  ImmediateTransaction txn_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, SqliteOptions options, std::unique_ptr<Connection> writer,
              std::unique_ptr<sqlite::Checkpointer> checkpointer)
      : path_(std::move(path)),
        options_(std::move(options)),
        writer_(std::move(writer)),
        checkpointer_(std::move(checkpointer)) {}

  Status writable() override {
    std::unique_lock lock(writer_mu_);
    return writer_->check_file();
  }

  Result<int64_t> insert_episode(const Episode& e) override {
    std::unique_lock lock(writer_mu_);
    ImmediateTransaction txn(*writer_);
    if (!txn.begin_status().ok()) return txn.begin_status();
    auto key = InsertEpisodeRow(*writer_, e);
    if (!key.ok()) return key.status();
    if (Status s = txn.commit(); !s.ok()) return s;
    return key;
  }

  Result<std::vector<Result<int64_t>>> import_episodes(const NextImported& next) override {
    std::unique_lock lock(writer_mu_);
    ImmediateTransaction txn(*writer_);
    if (!txn.begin_status().ok()) return txn.begin_status();
    std::vector<Result<int64_t>> out;
    std::vector<EpisodePatterns> learnt;
    while (const ImportedEpisode* next_item = next()) {
      const ImportedEpisode& item = *next_item;
      const Episode& e = item.episode;
      auto exists = ReadHead(*writer_, "id", e.id, "");
      if (exists.ok()) {
        out.push_back(Status::AlreadyExists(fmt::format("episode {} already exists", e.id)));
        continue;
      }
      if (!exists.status().IsNotFound()) return exists.status();
      auto key = InsertEpisodeRow(*writer_, e, item.completion ? &*item.completion : nullptr);
      if (!key.ok()) return key.status();
      // One row to a statement: a multi-row INSERT runs in a statement journal, slower here.
      for (size_t i = 0; i < item.steps.size(); ++i) {
        Status s = InsertStep(*writer_, *key, static_cast<int64_t>(i + 1), item.steps[i]);
        if (!s.ok()) return s;
      }
      if (item.completion) {
        if (Status s = IndexForSearch(*writer_, *key, e.task, *item.completion); !s.ok()) return s;
        learnt.push_back({*key, &*item.completion, &e.context.domain});
      }
      out.push_back(*key);
    }
    if (Status s = sqlite::MergePatterns(*writer_, learnt); !s.ok()) return s;
    if (Status s = txn.commit(); !s.ok()) return s;
    return out;
  }

  Result<EpisodeHead> find_episode(std::string_view id) override {
    auto lease = reader();
    return ReadHead(*lease, "id", id, fmt::format("episode {} not found", id));
  }

  Result<std::unique_ptr<WriteTransaction>> begin_write() override {
    auto txn = std::make_unique<SqliteWriteTransaction>(std::unique_lock(writer_mu_), *writer_);
    if (!txn->begin_status().ok()) return txn->begin_status();
    return std::unique_ptr<WriteTransaction>(std::move(txn));
  }

  Status complete_episode(int64_t key, const Completion& learnt, const Relearn& relearn) override {
    std::unique_lock lock(writer_mu_);
    ImmediateTransaction txn(*writer_);
    if (!txn.begin_status().ok()) return txn.begin_status();
    auto store = CompletionToStore(ReadHead(*writer_, "key", key, ""), learnt, relearn,
                                   [&](int64_t after) { return StepsAfter(*writer_, key, after); });
    if (!store.ok()) return store.status();
    const Completion& c = *store ? **store : learnt;
    auto up = writer_->cached(
        "UPDATE episodes SET status = 'completed', outcome = ?, ended_at = ?, reward = ?, "
        "reflection = ?, step_count = ?, duration_ms = ? WHERE key = ? RETURNING task, domain");
    if (!up.ok()) return up.status();
    Statement& q = **up;
    q.bind(1, to_json(c.outcome).dump()).bind(2, c.ended_at);
    q.bind_text_static(3, c.reward).bind_text_static(4, c.reflection);
    q.bind(5, c.step_count).bind(6, c.duration_ms).bind(7, key);
    Status s;
    std::string task;
    std::optional<std::string> domain;
    if (q.step(s)) {
      task = q.column_text(0);
      domain = q.column_optional_text(1);
    }
    q.reset();
    if (!s.ok()) return s;
    s = sqlite::MergePatterns(*writer_, {{key, &c, &domain}});
    if (s.ok()) s = IndexForSearch(*writer_, key, task, c);
    if (!s.ok()) return s;
    return txn.commit();
  }

  Result<std::vector<EpisodeCost>> recent_costs(TaskType type,
                                                const std::optional<std::string>& domain,
                                                int limit) override {
    auto lease = reader();
    // Two statements, so that each uses an index.
    auto st = domain ? lease->cached(
                           "SELECT step_count, duration_ms FROM episodes WHERE task_type = ?1 "
                           "AND domain = ?2 AND status = 'completed' AND step_count IS NOT NULL "
                           "ORDER BY ended_at DESC LIMIT ?3")
                     : lease->cached(
                           "SELECT step_count, duration_ms FROM episodes WHERE task_type = ?1 "
                           "AND status = 'completed' AND step_count IS NOT NULL "
                           "ORDER BY ended_at DESC LIMIT ?3");
    if (!st.ok()) return st.status();
    Statement& q = **st;
    q.bind(1, to_string(type)).bind(3, int64_t{limit});
    if (domain) q.bind(2, *domain);
    std::vector<EpisodeCost> out;
    Status s;
    while (q.step(s)) out.push_back({q.column_int(0), q.column_int(1)});
    q.reset();
    if (!s.ok()) return s;
    return out;
  }

  Result<Episode> load_episode(std::string_view id) override {
    auto lease = reader();
    Connection& conn = *lease;
    // One read transaction, so the episode row and its steps are one snapshot.
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;
    auto result = load_in_snapshot(conn, id);
    (void)conn.exec("COMMIT");
    return result;
  }

  Result<EpisodePage> list_episodes(const EpisodeFilter& f) override {
    const Query query = ListEpisodesQuery(Dialect::kSqlite, f);
    auto lease = reader();
    auto st = lease->prepare(query.sql);
    if (!st.ok()) return st.status();
    for (size_t i = 0; i < query.params.size(); ++i) {
      st->bind(static_cast<int>(i + 1), query.params[i]);
    }
    EpisodePage page;
    Status s;
    while (st->step(s) && AddToPage(page, *st, f.limit)) {
    }
    if (!s.ok()) return s;
    return page;
  }

  Result<std::vector<Pattern>> list_patterns(const PatternFilter& filter) override {
    auto lease = reader();
    return sqlite::ListPatterns(*lease, filter);
  }

  Status scan_steps(const StatsFilter& f,
                    const std::function<void(const StepFacts&)>& visit) override {
    auto lease = reader();
    Connection& conn = *lease;
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
    auto st = conn.cached(
        "SELECT e.id, s.step_number, s.tool, substr(s.action, 1, 200), s.latency_ms, s.tokens, "
        "s.success FROM steps s JOIN episodes e ON e.key = s.episode_key "
        "WHERE (?1 IS NULL OR s.tool = ?1) AND (?2 IS NULL OR e.domain = ?2) "
        "AND (?3 IS NULL OR s.timestamp >= ?3)");
    Status s = st.status();
    if (s.ok()) {
      Statement& q = **st;
      q.bind_optional(1, f.tool).bind_optional(2, f.domain).bind_optional(3, f.since);
      while (q.step(s)) VisitStepFacts(q, visit);
      q.reset();
    }
    (void)conn.exec("COMMIT");
    return s;
  }

  Status count_episodes(const StatsFilter& f, std::map<std::string, int64_t>& by_status,
                        std::map<std::string, int64_t>& by_outcome) override {
    auto lease = reader();
    auto st = lease->cached(
        "SELECT status, json_extract(outcome, '$.kind'), count(*) FROM episodes "
        "WHERE (?1 IS NULL OR domain = ?1) AND (?2 IS NULL OR started_at >= ?2) GROUP BY 1, 2");
    if (!st.ok()) return st.status();
    Statement& q = **st;
    q.bind_optional(1, f.domain).bind_optional(2, f.since);
    Status s;
    while (q.step(s)) {
      by_status[q.column_text(0)] += q.column_int(2);
      if (auto kind = q.column_optional_text(1)) by_outcome[*kind] += q.column_int(2);
    }
    q.reset();
    return s;
  }

  Result<Pattern> get_pattern(std::string_view id) override {
    auto lease = reader();
    return sqlite::GetPattern(*lease, id);
  }

  Result<std::vector<SearchHit>> search_episodes(const std::vector<std::string>& words,
                                                 int limit) override {
    auto lease = reader();
    Connection& conn = *lease;
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
    auto hits = search_in_snapshot(conn, words, limit);
    (void)conn.exec("COMMIT");
    return hits;
  }

  Result<std::unordered_map<int64_t, std::vector<StepBrief>>> step_briefs(
      const std::vector<int64_t>& keys) override {
    auto lease = reader();
    Connection& conn = *lease;
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
    std::unordered_map<int64_t, std::vector<StepBrief>> out;
    auto st = conn.cached(
        fmt::format("SELECT tool, substr(action, 1, {}), success FROM steps WHERE episode_key = ? "
                    "ORDER BY step_number",
                    kStepBriefActionChars));
    Status s = st.status();
    for (size_t i = 0; s.ok() && i < keys.size(); ++i) {
      (*st)->bind(1, keys[i]);
      while ((*st)->step(s)) {
        out[keys[i]].push_back(
            StepBrief{(*st)->column_text(0), (*st)->column_text(1), (*st)->column_int(2) != 0});
      }
      (*st)->reset();
    }
    (void)conn.exec("COMMIT");
    if (!s.ok()) return s;
    return out;
  }

  Result<std::vector<PatternHit>> patterns_of_episodes(const std::vector<int64_t>& keys) override {
    auto lease = reader();
    return sqlite::PatternsOfEpisodes(*lease, keys);
  }

  Result<std::vector<StoredEpisode>> scan_episodes(int64_t after_key, int limit) override {
    auto lease = reader();
    Connection& conn = *lease;
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
    auto out = scan_in_snapshot(conn, after_key, limit);
    (void)conn.exec("COMMIT");
    return out;
  }

  Status scan_learnt(const std::function<Status(LearntRows&&)>& page) override {
    auto lease = reader();
    Connection& conn = *lease;
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
    Status s = scan_learnt_in_snapshot(conn, page);
    (void)conn.exec("COMMIT");
    return s;
  }

  Status write_learnt(const LearntRows& rows) override {
    std::unique_lock lock(writer_mu_);
    ImmediateTransaction txn(*writer_);
    if (!txn.begin_status().ok()) return txn.begin_status();
    auto pattern = writer_->cached(
        fmt::format("INSERT INTO patterns ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    kPatternRowColumns));
    if (!pattern.ok()) return pattern.status();
    for (const PatternRow& p : rows.patterns) {
      Statement& q = **pattern;
      q.bind(1, p.id).bind(2, p.key).bind(3, p.type).bind(4, p.description).bind(5, p.support);
      q.bind(6, p.success_sum).bind(7, p.occurrences).bind(8, p.latency_ms_sum);
      q.bind(9, p.tokens_sum).bind_optional(10, p.branches).bind(11, p.first_seen);
      q.bind(12, p.last_seen).bind(13, fmt::format("[{}]", fmt::join(p.evidence, ",")));
      if (Status s = q.run(); !s.ok()) return s;
    }
    auto listed =
        writer_->cached("INSERT INTO episode_patterns (episode_key, pattern_ids) VALUES (?, ?)");
    if (!listed.ok()) return listed.status();
    for (const EpisodePatternsRow& r : rows.episode_patterns) {
      if (Status s = (*listed)->bind(1, r.episode_key).bind(2, r.pattern_ids).run(); !s.ok()) {
        return s;
      }
    }
    auto domain = writer_->cached(
        "INSERT INTO pattern_domains (domain, pattern_id, episodes) VALUES (?, ?, ?)");
    if (!domain.ok()) return domain.status();
    for (const PatternDomainRow& r : rows.pattern_domains) {
      Statement& q = **domain;
      if (Status s = q.bind(1, r.domain).bind(2, r.pattern_id).bind(3, r.episodes).run(); !s.ok()) {
        return s;
      }
    }
    return txn.commit();
  }

  Result<RowCounts> count_rows() override {
    auto lease = reader();
    Connection& conn = *lease;
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
    RowCounts counts;
    Status s;
    for (const char* table :
         {"episodes", "steps", "patterns", "episode_patterns", "pattern_domains"}) {
      auto st = conn.prepare(fmt::format("SELECT count(*) FROM {}", table));
      if (!st.ok()) {
        s = st.status();
        break;
      }
      if (st->step(s)) counts[table] = st->column_int(0);
      if (!s.ok()) break;
    }
    (void)conn.exec("COMMIT");
    if (!s.ok()) return s;
    return counts;
  }

  Status delete_episode(std::string_view id) override {
    std::unique_lock lock(writer_mu_);
    ImmediateTransaction txn(*writer_);
    if (!txn.begin_status().ok()) return txn.begin_status();
    auto head = ReadHead(*writer_, "id", id, fmt::format("episode {} not found", id));
    if (!head.ok()) return head.status();
    const int64_t key = head->key;
    if (Status s = sqlite::ForgetEpisodePatterns(*writer_, key); !s.ok()) return s;
    for (const char* sql :
         {"DELETE FROM steps WHERE episode_key = ?",
          "DELETE FROM episode_tags WHERE episode_key = ?",
          "DELETE FROM episode_fts WHERE rowid = ?", "DELETE FROM episodes WHERE key = ?"}) {
      auto del = writer_->cached(sql);
      if (!del.ok()) return del.status();
      if (Status s = (*del)->bind(1, key).run(); !s.ok()) return s;
    }
    return txn.commit();
  }

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

  Lease reader() {
    if (path_ == ":memory:") return Lease(*this, nullptr);
    {
      std::lock_guard lock(pool_mu_);
      if (!pool_.empty()) {
        auto conn = std::move(pool_.back());
        pool_.pop_back();
        return Lease(*this, std::move(conn));
      }
    }
    auto conn = Connection::Open(path_, /*create=*/false, options_.busy_timeout);
    // A reader that cannot be opened falls back to the writer connection, shared.
    if (!conn.ok() || !sqlite::RegisterRanking(**conn).ok()) return Lease(*this, nullptr);
    // Recall reads the search index's posting lists at many places: through a memory map the
    // pages come from the operating system's cache without a copy into each connection's
    // (SQLite caps the map at its build's SQLITE_MAX_MMAP_SIZE). A map that cannot be made
    // leaves plain reads, which work as well, only slower.
    (void)(*conn)->exec(fmt::format("PRAGMA mmap_size = {}", kReaderMmapBytes));
    return Lease(*this, std::move(*conn));
  }

  Result<std::vector<SearchHit>> search_in_snapshot(Connection& conn,
                                                    const std::vector<std::string>& words,
                                                    int limit) {
    auto plan = sqlite::PlanSearch(conn, words, term_hits_);
    if (!plan.ok()) return plan.status();
    if (!words.empty() && plan->match.empty()) return std::vector<SearchHit>{};  // none indexed
    // Only what scoring needs: the reward's total, no metadata, and the reflection as text
    // until an episode is chosen. The first 15 columns read as EpisodeFromRow reads them.
    constexpr const char* kColumns =
        "id, task, task_type, domain, language, framework, complexity, tags, status, started_at, "
        "ended_at, outcome, CASE WHEN reward IS NULL THEN NULL ELSE "
        "json_object('total', json_extract(reward, '$.total')) END, NULL, '{}', key, reflection";
    std::vector<SearchHit> out;
    Status s;
    if (plan->match.empty()) {
      auto recent = conn.cached(fmt::format(
          "SELECT {} FROM episodes WHERE status = 'completed' ORDER BY key DESC LIMIT ?",
          kColumns));
      if (!recent.ok()) return recent.status();
      (*recent)->bind(1, int64_t{limit});
      while ((*recent)->step(s)) out.push_back(HitFromRow(**recent, 0.0));
      (*recent)->reset();
      if (!s.ok()) return s;
      return out;
    }
    // BM25F over every episode that holds a word of the task, the best `limit` kept.
    auto ranked = sqlite::RankMatches(conn, *plan, limit);
    if (!ranked.ok()) return ranked.status();
    auto row = conn.cached(fmt::format("SELECT {} FROM episodes WHERE key = ?", kColumns));
    if (!row.ok()) return row.status();
    for (const auto& [minus_score, key] : *ranked) {
      (*row)->bind(1, key);
      if ((*row)->step(s)) out.push_back(HitFromRow(**row, -minus_score));
      (*row)->reset();
      if (!s.ok()) return s;
    }
    return out;
  }

  // A search hit read from kColumns (search_in_snapshot).
  static SearchHit HitFromRow(Statement& q, double relevance) {
    SearchHit h;
    h.episode = EpisodeFromRow(q);
    h.key = q.column_int(15);
    h.reflection_json = q.column_optional_text(16).value_or("");
    h.relevance = relevance;
    return h;
  }

  // The episode's steps numbered above `after`, in order.
  static Result<std::vector<ExecutionStep>> StepsAfter(Connection& conn, int64_t key,
                                                       int64_t after) {
    static const std::string kQuery = StepsAfterQuery(Dialect::kSqlite);
    auto st = conn.cached(kQuery);
    if (!st.ok()) return st.status();
    (*st)->bind(1, key).bind(2, after);
    std::vector<ExecutionStep> steps;
    Status s;
    while ((*st)->step(s)) steps.push_back(StepFromRow(**st));
    (*st)->reset();
    if (!s.ok()) return s;
    return steps;
  }

  Result<Episode> load_in_snapshot(Connection& conn, std::string_view id) {
    auto st =
        conn.cached(fmt::format("SELECT {}, key FROM episodes WHERE id = ?", kEpisodeColumns));
    if (!st.ok()) return st.status();
    (*st)->bind(1, id);
    Status s;
    if (!(*st)->step(s)) {
      if (!s.ok()) return s;
      return Status::NotFound(fmt::format("episode {} not found", id));
    }
    Episode e = EpisodeFromRow(**st);
    const int64_t key = (*st)->column_int(15);
    (*st)->reset();
    auto steps = StepsAfter(conn, key, 0);
    if (!steps.ok()) return steps.status();
    e.steps = std::move(*steps);
    return e;
  }

  Result<std::vector<StoredEpisode>> scan_in_snapshot(Connection& conn, int64_t after_key,
                                                      int limit) {
    auto st =
        conn.cached(fmt::format("SELECT {}, {} FROM episodes WHERE key > ? ORDER BY key LIMIT ?",
                                kEpisodeColumns, kStoredEpisodeExtraColumns));
    if (!st.ok()) return st.status();
    (*st)->bind(1, after_key).bind(2, int64_t{limit});
    std::vector<StoredEpisode> out;
    Status s;
    while ((*st)->step(s)) out.push_back(StoredEpisodeFromRow(**st));
    (*st)->reset();
    if (!s.ok()) return s;
    if (out.empty()) return out;
    auto steps = conn.cached(
        fmt::format("SELECT {}, episode_key FROM steps WHERE episode_key > ? AND episode_key <= ? "
                    "ORDER BY episode_key, step_number",
                    kStepColumns));
    if (!steps.ok()) return steps.status();
    (*steps)->bind(1, after_key).bind(2, out.back().key);
    size_t i = 0;
    while ((*steps)->step(s)) {
      const int64_t key = (*steps)->column_int(10);
      while (i < out.size() && out[i].key < key) ++i;
      if (i < out.size() && out[i].key == key) out[i].episode.steps.push_back(StepFromRow(**steps));
    }
    (*steps)->reset();
    if (!s.ok()) return s;
    return out;
  }

  Status scan_learnt_in_snapshot(Connection& conn,
                                 const std::function<Status(LearntRows&&)>& page) {
    constexpr size_t kPage = 4096;
    LearntRows rows;
    auto flush = [&](bool full) -> Status {
      const size_t n =
          rows.patterns.size() + rows.episode_patterns.size() + rows.pattern_domains.size();
      if (n == 0 || (!full && n < kPage)) return Status::Ok();
      Status s = page(std::move(rows));
      rows = LearntRows{};
      return s;
    };
    auto each = [&](std::string_view sql, const std::function<void(const Statement&)>& take) {
      auto st = conn.prepare(sql);
      if (!st.ok()) return st.status();
      Status s;
      while (st->step(s)) {
        take(*st);
        if (Status f = flush(false); !f.ok()) return f;
      }
      return s;
    };
    Status s = each(fmt::format("SELECT {} FROM patterns ORDER BY id", kPatternRowColumns),
                    [&](const Statement& q) { rows.patterns.push_back(PatternRowFromRow(q)); });
    if (s.ok()) {
      s = each("SELECT episode_key, pattern_ids FROM episode_patterns ORDER BY episode_key",
               [&](const Statement& q) {
                 rows.episode_patterns.push_back({q.column_int(0), q.column_text(1)});
               });
    }
    if (s.ok()) {
      s = each(
          "SELECT domain, pattern_id, episodes FROM pattern_domains ORDER BY 1, 2",
          [&](const Statement& q) {
            rows.pattern_domains.push_back({q.column_text(0), q.column_text(1), q.column_int(2)});
          });
    }
    if (s.ok()) s = flush(true);
    return s;
  }

  const std::string path_;
  const SqliteOptions options_;
  std::mutex writer_mu_;  // guards writer_
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;  // null for an in-memory database
  std::mutex pool_mu_;                                  // guards pool_
  std::vector<std::unique_ptr<Connection>> pool_;
  sqlite::TermHits term_hits_;  // recall's term counts, shared by the readers
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  auto conn = sqlite::Connection::Open(path, /*create=*/true, options.busy_timeout);
  if (!conn.ok()) return conn.status();
  Connection& c = **conn;
  // The first read of the file: a file that is not SQLite at all fails here.
  if (Status s = c.exec("PRAGMA journal_mode = WAL"); !s.ok()) {
    if (s.IsCorruption()) {
      return Status::Corruption(
          fmt::format("database {} is not an engram database (not a SQLite file, or corrupt): {}",
                      path, s.message()));
    }
    return s;
  }
  const char* sync = options.synchronous == Synchronous::kFull ? "FULL" : "NORMAL";
  if (Status s = c.exec(fmt::format("PRAGMA synchronous = {}", sync)); !s.ok()) return s;
  // The index's tokenizer first: migrations write to the index.
  if (Status s = sqlite::RegisterRanking(c); !s.ok()) return s;
  if (Status s = sqlite::MigrateSchema(c); !s.ok()) return s;
  if (Status s = sqlite::RegisterPatternFunctions(c); !s.ok()) return s;
  std::unique_ptr<sqlite::Checkpointer> checkpointer;
  if (path != ":memory:") {
    auto started = sqlite::Checkpointer::Start(c, options.busy_timeout, sync);
    if (!started.ok()) return started.status();
    checkpointer = std::move(*started);
  }
  return std::unique_ptr<Store>(
      new SqliteStore(path, options, std::move(*conn), std::move(checkpointer)));
}

}  // namespace engram
