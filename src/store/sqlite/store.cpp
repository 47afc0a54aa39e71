// The SQLite store: opening, the writes, the readers' pool.
#include "store/sqlite/store.h"

#include "store/sqlite/store_impl.h"

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

namespace engram::sqlite {

namespace {

using nlohmann::json;

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

// Tags the episode with `key` by `tags` (those it has already stay once).
Status InsertTags(Connection& conn, const std::vector<std::string>& tags, int64_t key) {
  for (const auto& tag : tags) {
    auto t = conn.cached("INSERT OR IGNORE INTO episode_tags (tag, episode_key) VALUES (?, ?)");
    if (!t.ok()) return t.status();
    if (Status s = (*t)->bind(1, tag).bind(2, key).run(); !s.ok()) return s;
  }
  return Status::Ok();
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
  if (Status s = InsertTags(conn, e.context.tags, key); !s.ok()) return s;
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

}  // namespace

Status SqliteStore::writable() {
  std::unique_lock lock(writer_mu_);
  return writer_->check_file();
}

Result<int64_t> SqliteStore::insert_episode(const Episode& e) {
  std::unique_lock lock(writer_mu_);
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto key = InsertEpisodeRow(*writer_, e);
  if (!key.ok()) return key.status();
  if (Status s = txn.commit(); !s.ok()) return s;
  return key;
}

// Names the episode with this key by `name` in the open transaction: AlreadyExists when the
// name names another.
Status InsertName(Connection& conn, int64_t key, std::string_view name) {
  auto st = conn.cached(
      "INSERT INTO episode_names (name, episode_key) VALUES (?, ?) "
      "ON CONFLICT (name) DO NOTHING RETURNING episode_key");
  if (!st.ok()) return st.status();
  Statement& q = **st;
  q.bind(1, name).bind(2, key);
  Status s;
  const bool inserted = q.step(s);
  q.reset();
  if (!s.ok()) return s;
  if (inserted) return Status::Ok();
  auto named = ReadNamed(conn, name);
  if (!named.ok()) return named.status();
  if (named->key == key) return Status::Ok();
  return Status::AlreadyExists(
      fmt::format("the name \"{}\" names another episode, {}", name, named->id));
}

Result<NamedEpisodeRow> SqliteStore::insert_named_episode(const Episode& e, std::string_view name) {
  std::unique_lock lock(writer_mu_);
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto found = ReadNamed(*writer_, name);
  if (found.ok() || !found.status().IsNotFound()) return found;
  auto key = InsertEpisodeRow(*writer_, e);
  if (!key.ok()) return key.status();
  if (Status s = InsertName(*writer_, *key, name); !s.ok()) return s;
  if (Status s = txn.commit(); !s.ok()) return s;
  return NamedEpisodeRow{*key, e.id, true, EpisodeStatus::kOpen, 0, e.task};
}

Status SqliteStore::amend_episode(int64_t episode_key, const EpisodeAmendment& amendment,
                                  size_t max_metadata_bytes) {
  std::unique_lock lock(writer_mu_);
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto read = writer_->cached(AmendReadQuery(Dialect::kSqlite));
  if (!read.ok()) return read.status();
  Statement& row = **read;
  row.bind(1, episode_key);
  Status s;
  if (!row.step(s)) {
    row.reset();
    return s.ok() ? Status::NotFound("the episode was deleted") : s;
  }
  const bool completed = row.column_text(0) == "completed";
  const std::string tags = row.column_text(1);
  const std::string metadata = row.column_text(2);
  row.reset();
  if (completed) return Status::FailedPrecondition("the episode is completed");
  auto write =
      AmendQuery(Dialect::kSqlite, episode_key, amendment, tags, metadata, max_metadata_bytes);
  if (!write.ok()) return write.status();
  if (write->update.sql.empty()) return Status::Ok();
  auto update = writer_->cached(write->update.sql);
  if (!update.ok()) return update.status();
  BindQuery(**update, write->update);
  if (Status u = (*update)->run(); !u.ok()) return u;
  if (Status u = InsertTags(*writer_, write->new_tags, episode_key); !u.ok()) return u;
  return txn.commit();
}

Status SqliteStore::order_steps_by_time(int64_t episode_key) {
  std::unique_lock lock(writer_mu_);
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto head = ReadHead(*writer_, "key", episode_key, "the episode was deleted");
  if (!head.ok()) return head.status();
  if (head->status == EpisodeStatus::kCompleted) {
    return Status::FailedPrecondition("the episode is completed");
  }
  for (const std::string& sql : StepsByTimeUpdates(Dialect::kSqlite)) {
    auto update = writer_->cached(sql);
    if (!update.ok()) return update.status();
    if (Status s = (*update)->bind(1, episode_key).run(); !s.ok()) return s;
  }
  return txn.commit();
}

Status SqliteStore::name_episode(int64_t episode_key, std::string_view name) {
  std::unique_lock lock(writer_mu_);
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto head = ReadHead(*writer_, "key", episode_key, "the episode was deleted");
  if (!head.ok()) return head.status();
  if (Status s = InsertName(*writer_, episode_key, name); !s.ok()) return s;
  return txn.commit();
}

Result<std::vector<Result<int64_t>>> SqliteStore::import_episodes(const NextImported& next) {
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
    Status named = Status::Ok();
    for (const std::string& name : item.names) {
      auto other = ReadNamed(*writer_, name);
      if (other.ok()) {
        named = Status::AlreadyExists(
            fmt::format("the name \"{}\" names another episode, {}", name, other->id));
        break;
      }
      if (!other.status().IsNotFound()) return other.status();
    }
    if (!named.ok()) {
      out.push_back(named);
      continue;
    }
    auto key = InsertEpisodeRow(*writer_, e, item.completion ? &*item.completion : nullptr);
    if (!key.ok()) return key.status();
    for (const std::string& name : item.names) {
      if (Status s = InsertName(*writer_, *key, name); !s.ok()) return s;
    }
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

Result<std::unique_ptr<WriteTransaction>> SqliteStore::begin_write() {
  auto txn = std::make_unique<SqliteWriteTransaction>(std::unique_lock(writer_mu_), *writer_);
  if (!txn->begin_status().ok()) return txn->begin_status();
  return std::unique_ptr<WriteTransaction>(std::move(txn));
}

Status SqliteStore::complete_episode(int64_t key, const Completion& learnt,
                                     const Relearn& relearn) {
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

Status SqliteStore::write_learnt(const LearntRows& rows) {
  std::unique_lock lock(writer_mu_);
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto pattern = writer_->cached(
      fmt::format("INSERT INTO patterns ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  kPatternRowColumns));
  if (!pattern.ok()) return pattern.status();
  for (const PatternRow& p : rows.patterns) {
    Statement& q = **pattern;
    q.bind(1, p.id)
        .bind(2, p.key)
        .bind_text_static(3, to_string(p.type))
        .bind(4, p.description)
        .bind(5, p.support);
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

namespace {

// The episode with this key and all of it: steps, tags, names, its search index entry and its
// place in the patterns' evidence. REQUIRES: a write transaction on `conn`.
Status DeleteEpisodeRows(Connection& conn, int64_t key) {
  if (Status s = sqlite::ForgetEpisodePatterns(conn, key); !s.ok()) return s;
  for (const char* sql :
       {"DELETE FROM steps WHERE episode_key = ?",
        // By the tags the episode lists, through the table's key (tag, episode).
        "DELETE FROM episode_tags WHERE tag IN (SELECT value FROM json_each((SELECT tags FROM "
        "episodes WHERE key = ?1))) AND episode_key = ?1",
        "DELETE FROM episode_names WHERE episode_key = ?",
        "DELETE FROM episode_fts WHERE rowid = ?", "DELETE FROM episodes WHERE key = ?"}) {
    auto del = conn.cached(sql);
    if (!del.ok()) return del.status();
    if (Status s = (*del)->bind(1, key).run(); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::vector<PrunedEpisode>> PruneCandidates(Connection& conn, const PruneQuery& query,
                                                   int limit) {
  const Query q = PruneCandidatesQuery(Dialect::kSqlite, query, limit);
  auto st = conn.cached(q.sql);
  if (!st.ok()) return st.status();
  Statement& stmt = **st;
  BindQuery(stmt, q);
  std::vector<PrunedEpisode> out;
  Status s;
  while (stmt.step(s)) out.push_back(PrunedFromRow(stmt));
  stmt.reset();
  if (!s.ok()) return s;
  return out;
}

}  // namespace

Status SqliteStore::delete_episode(std::string_view id) {
  std::unique_lock lock(writer_mu_);
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto head = ReadHead(*writer_, "id", id, fmt::format("episode {} not found", id));
  if (!head.ok()) return head.status();
  if (Status s = DeleteEpisodeRows(*writer_, head->key); !s.ok()) return s;
  return txn.commit();
}

Result<PruneBatch> SqliteStore::prune_batch(const PruneQuery& query, int limit) {
  std::unique_lock lock(writer_mu_);
  const auto taken = std::chrono::steady_clock::now();
  ImmediateTransaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto removed = PruneCandidates(*writer_, query, limit);
  if (!removed.ok()) return removed.status();
  for (const PrunedEpisode& e : *removed) {
    if (Status s = DeleteEpisodeRows(*writer_, e.key); !s.ok()) return s;
  }
  if (Status s = txn.commit(); !s.ok()) return s;
  return PruneBatch{std::move(*removed), std::chrono::steady_clock::now() - taken};
}

Result<std::vector<PrunedEpisode>> SqliteStore::prunable(const PruneQuery& query, int limit) {
  auto lease = reader();
  return PruneCandidates(*lease, query, limit);
}

Result<FileSpace> SqliteStore::release_space(int64_t max_pages) {
  std::unique_lock lock(writer_mu_);
  Connection& c = *writer_;
  auto pragma = [&](const char* name) -> Result<int64_t> {
    auto st = c.cached(fmt::format("PRAGMA {}", name));
    if (!st.ok()) return st.status();
    return (*st)->scalar();
  };
  auto mode = pragma("auto_vacuum");
  auto page = pragma("page_size");
  auto before = pragma("freelist_count");
  for (const auto* r : {&mode, &page, &before}) {
    if (!r->ok()) return r->status();
  }
  FileSpace space;
  int64_t free_pages = *before;
  constexpr int64_t kIncremental = 2;
  if (*mode == kIncremental && free_pages > 0 && max_pages > 0) {
    if (Status s = c.exec(fmt::format("PRAGMA incremental_vacuum({})", max_pages)); !s.ok()) {
      return s;
    }
    auto after = pragma("freelist_count");
    if (!after.ok()) return after.status();
    space.released_bytes = (free_pages - *after) * *page;
    free_pages = *after;
  }
  space.free_bytes = free_pages * *page;
  return space;
}

SqliteStore::Lease SqliteStore::reader() {
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

}  // namespace engram::sqlite

namespace engram {

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  auto conn = sqlite::Connection::Open(path, /*create=*/true, options.busy_timeout);
  if (!conn.ok()) return conn.status();
  sqlite::Connection& c = **conn;
  // The first read of the file: a file that is not SQLite at all fails here.
  // A new file gives the pages prune frees back to the file system (release_space), which
  // only a file created so can; auto_vacuum must precede WAL. An existing file keeps its mode.
  if (Status s = c.exec("PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL"); !s.ok()) {
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
      new sqlite::SqliteStore(path, options, std::move(*conn), std::move(checkpointer)));
}

}  // namespace engram
