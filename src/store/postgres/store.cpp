// The PostgreSQL store: opening and the writes.
#include "store/postgres/store.h"

#include "store/postgres/store_impl.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/lock_held.h"
#include "engram/json.h"
#include "store/episode_queries.h"
#include "store/postgres/db.h"
#include "store/postgres/patterns.h"
#include "store/postgres/schema.h"
#include "store/postgres/search.h"
#include "store/row_decode.h"
#include "store/scoped_transaction.h"

namespace engram::pg {

namespace {

using nlohmann::json;

// Every engram connection works in the schema `engram` (postgres/schema.cpp).
constexpr const char* kSetup = "SET search_path = engram";
// The writer's connection has the session tables pattern merging fills, too.
const std::string kWriterSetup = fmt::format("{}; {}", kSetup, pg::kIncomingTables);
// A transaction the server aborted to break a deadlock or a serialization conflict is run
// again this many times in all.
constexpr int kAttempts = 3;

// Runs `body` (a whole transaction) again while the server aborts it as a deadlock victim, or
// the connection is lost before its COMMIT is sent.
template <typename Body>
auto Retrying(Body body) -> decltype(body()) {
  auto result = body();
  for (int attempt = 1; attempt < kAttempts; ++attempt) {
    const Status& s = [&]() -> const Status& {
      if constexpr (std::is_same_v<decltype(result), Status>) {
        return result;
      } else {
        return result.status();
      }
    }();
    if (!s.IsBusy()) break;
    result = body();
  }
  return result;
}

// A step as one line of COPY text for the steps table.
void AppendStepRow(std::string& out, int64_t key, int64_t number, const PreparedStep& p) {
  const ExecutionStep& s = p.step;
  out += fmt::format("{}\t{}\t", key, number);
  pg::AppendCopyText(out, s.timestamp);
  out += '\t';
  pg::AppendCopyText(out, s.tool);
  out += '\t';
  pg::AppendCopyText(out, s.action);
  out += fmt::format("\t{}\t", s.latency_ms);
  out += s.tokens ? std::to_string(*s.tokens) : "\\N";
  out += s.success ? "\tt\t" : "\tf\t";
  pg::AppendCopyText(out, s.observation);
  out += '\t';
  pg::AppendCopyText(out, p.parameters_json);
  out += '\t';
  pg::AppendCopyText(out, p.metadata_json);
  out += '\n';
}

constexpr const char* kStepsCopy =
    "steps (episode_key, step_number, timestamp, tool, action, latency_ms, tokens, success, "
    "observation, parameters, metadata)";

// A completed episode's text in recall's index, field by field.
Status AddToIndex(pg::SearchRows& rows, int64_t key, const std::string& task, const Completion& c) {
  return rows.add(key, {task, c.steps_text.user, c.steps_text.calls, c.steps_text.observations,
                        c.reflection_text});
}

// The statement inserting an episode's row (not its tags or steps), returning its key, or no
// row when the id is taken. With a completion, the row is written completed.
std::pair<std::string, Params> EpisodeInsert(const Episode& e, const Completion* c) {
  Params p;
  p.add(e.id).add(e.task).add(std::string(to_string(e.task_type)));
  p.add(e.context.domain).add(e.context.language).add(e.context.framework);
  p.add(e.context.complexity ? std::optional<std::string>(to_string(*e.context.complexity))
                             : std::nullopt);
  p.add(json(e.context.tags).dump()).add(c ? "completed" : "open").add(e.started_at);
  p.add(c ? std::optional<std::string>(c->ended_at) : std::nullopt);
  p.add(c ? std::optional<std::string>(to_json(c->outcome).dump()) : std::nullopt);
  p.add(c ? std::optional<std::string>(c->reward) : std::nullopt);
  p.add(c ? std::optional<std::string>(c->reflection) : std::nullopt);
  p.add(e.metadata.dump());
  p.add(c ? std::optional<int64_t>(c->step_count) : std::nullopt);
  p.add(c ? std::optional<int64_t>(c->duration_ms) : std::nullopt);
  static const std::string kInsert = fmt::format(
      "INSERT INTO episodes ({}, step_count, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, "
      "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT (id) DO NOTHING "
      "RETURNING key",
      kEpisodeColumns);
  return {kInsert, std::move(p)};
}

// The statements inserting an episode's tags.
void AddTagInserts(Connection::Statements& out, const std::vector<std::string>& tags, int64_t key) {
  for (const auto& tag : tags) {
    Params p;
    p.add(tag).add(key);
    out.emplace_back(
        "INSERT INTO episode_tags (tag, episode_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        std::move(p));
  }
}

// Inserts the episode's row and tags (not its steps) and returns its key, or AlreadyExists
// when the id is taken.
Result<int64_t> InsertEpisodeRow(Connection& conn, const Episode& e,
                                 const Completion* c = nullptr) {
  const auto [sql, params] = EpisodeInsert(e, c);
  auto rows = conn.query(sql, params);
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) {
    return Status::AlreadyExists(fmt::format("episode {} already exists", e.id));
  }
  const int64_t key = rows->integer(0, 0);
  Connection::Statements tags;
  AddTagInserts(tags, e.context.tags, key);
  if (Status s = conn.pipeline(tags).status(); !s.ok()) return s;
  return key;
}

// A statement of a transaction whose connection was lost before its COMMIT was sent: nothing
// of it was committed, so it is Busy, to run again (on a new connection, see Reconnect). A
// connection lost at the COMMIT itself leaves the outcome unknown, and is not retried.
Status LostBeforeCommit(Status s, const Connection& conn) {
  if (s.ok() || conn.healthy()) return s;
  return Status::Busy(s.message());
}

class PgWriteTransaction final : public WriteTransaction {
 public:
  PgWriteTransaction(std::unique_lock<std::mutex> lock, Connection& conn)
      : lock_(std::move(lock)), conn_(conn), txn_(conn) {}

  const Status& begin_status() const { return txn_.begin_status(); }

  // Locks the episodes' rows, in key order, until the commit: another node numbering steps of
  // the same episodes waits here, then reads the numbers this one committed.
  Result<std::vector<EpisodeHead>> heads(const std::vector<int64_t>& keys) override {
    const std::string array = pg::NumberArray(keys);
    auto rows = conn_.query(
        "SELECT key, status FROM episodes WHERE key = ANY($1::bigint[]) ORDER BY key FOR UPDATE",
        Params().add(array));
    if (!rows.ok()) return LostBeforeCommit(rows.status(), conn_);
    // A statement of its own, so that it sees what was committed while this one waited; each
    // maximum read from the end of the episode's index.
    auto last = conn_.query(
        "SELECT k, (SELECT coalesce(max(step_number), 0) FROM steps WHERE episode_key = k) "
        "FROM unnest($1::bigint[]) AS k",
        Params().add(array));
    if (!last.ok()) return LostBeforeCommit(last.status(), conn_);
    std::unordered_map<int64_t, int64_t> last_step;
    for (int i = 0; i < last->size(); ++i) last_step[last->integer(i, 0)] = last->integer(i, 1);
    std::vector<EpisodeHead> out;
    for (int i = 0; i < rows->size(); ++i) {
      EpisodeHead h;
      h.key = rows->integer(i, 0);
      h.status = rows->text(i, 1) == "completed" ? EpisodeStatus::kCompleted : EpisodeStatus::kOpen;
      h.last_step = last_step[h.key];
      out.push_back(h);
    }
    return out;
  }

  // Steps go to the server together, as one COPY, at the commit.
  Status insert_step(int64_t key, int64_t number, const PreparedStep& p) override {
    AppendStepRow(rows_, key, number, p);
    return Status::Ok();
  }

  Status commit() override {
    if (!rows_.empty()) {
      if (Status s = conn_.copy_in(kStepsCopy, rows_); !s.ok()) return LostBeforeCommit(s, conn_);
    }
    return txn_.commit();
  }

 private:
  std::unique_lock<std::mutex> lock_;
  Connection& conn_;
  Transaction txn_;
  std::string rows_;  // COPY text
};

}  // namespace

// The episode's steps numbered above `after`, in order.
Result<std::vector<ExecutionStep>> StepsAfter(Connection& conn, int64_t key, int64_t after,
                                              int64_t limit) {
  static const std::string kQuery = StepPageQuery(Dialect::kPostgres);
  auto rows = conn.query(kQuery, Params().add(key).add(after).add(limit));
  if (!rows.ok()) return rows.status();
  std::vector<ExecutionStep> steps;
  for (int i = 0; i < rows->size(); ++i) steps.push_back(StepFromRow(Row(*rows, i)));
  return steps;
}

// The head of the episode whose `column` (key or id) equals `value`.
Result<EpisodeHead> ReadHead(Connection& conn, std::string_view column, const Params& value,
                             std::string not_found) {
  static const std::string kByKey = HeadQuery(Dialect::kPostgres, "key");
  static const std::string kById = HeadQuery(Dialect::kPostgres, "id");
  auto rows = conn.query(column == "key" ? kByKey : kById, value);
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return Status::NotFound(std::move(not_found));
  return HeadFromRow(Row(*rows, 0));
}

PgStore::PgStore(std::string url, std::unique_ptr<Connection> writer,
                 const PostgresOptions& options)
    : url_(url),
      writer_(std::move(writer)),
      readers_(std::move(url), options.max_read_connections, kSetup) {}

Result<int64_t> PgStore::insert_episode(const Episode& e) {
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Result<int64_t> {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    auto key = InsertEpisodeRow(*writer_, e);
    if (!key.ok()) return key.status();
    if (Status s = txn.commit(); !s.ok()) return s;
    return key;
  });
}

namespace {

// Names the episode with this key by `name` in the open transaction: AlreadyExists when the
// name names another (a transaction inserting it concurrently is waited for).
Status InsertName(Connection& conn, int64_t key, std::string_view name) {
  auto rows = conn.query(
      "INSERT INTO episode_names (name, episode_key) VALUES ($1, $2) ON CONFLICT (name) DO "
      "NOTHING RETURNING episode_key",
      Params().add(name).add(key));
  if (!rows.ok()) return rows.status();
  if (rows->size() == 1) return Status::Ok();
  auto named = ReadNamed(conn, name);
  if (!named.ok()) return named.status();
  if (named->key == key) return Status::Ok();
  return Status::AlreadyExists(
      fmt::format("the name \"{}\" names another episode, {}", name, named->id));
}

}  // namespace

Result<NamedEpisodeRow> PgStore::insert_named_episode(const Episode& e, std::string_view name) {
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Result<NamedEpisodeRow> {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    auto found = ReadNamed(*writer_, name);
    if (found.ok() || !found.status().IsNotFound()) return found;
    auto key = InsertEpisodeRow(*writer_, e);
    if (!key.ok()) return key.status();
    if (Status s = InsertName(*writer_, *key, name); !s.ok()) {
      // Another node named an episode so meanwhile: that one, and this row rolled back.
      if (!s.IsAlreadyExists()) return s;
      return ReadNamed(*writer_, name);
    }
    if (Status s = txn.commit(); !s.ok()) return s;
    return NamedEpisodeRow{*key, e.id, true, EpisodeStatus::kOpen, 0, e.task};
  });
}

Status PgStore::order_steps_by_time(int64_t episode_key) {
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Status {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    auto row = writer_->query("SELECT status FROM episodes WHERE key = $1 FOR UPDATE",
                              Params().add(episode_key));
    if (!row.ok()) return row.status();
    if (row->size() == 0) return Status::NotFound("the episode was deleted");
    if (row->text(0, 0) == "completed") {
      return Status::FailedPrecondition("the episode is completed");
    }
    Connection::Statements statements;
    for (const std::string& sql : StepsByTimeUpdates(Dialect::kPostgres)) {
      Params p;
      p.add(episode_key);
      statements.emplace_back(sql, std::move(p));
    }
    if (auto ran = writer_->pipeline(statements); !ran.ok()) return ran.status();
    return txn.commit();
  });
}

Status PgStore::amend_episode(int64_t episode_key, const EpisodeAmendment& amendment,
                              size_t max_metadata_bytes) {
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Status {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    auto row = writer_->query(AmendReadQuery(Dialect::kPostgres), Params().add(episode_key));
    if (!row.ok()) return row.status();
    if (row->size() == 0) return Status::NotFound("the episode was deleted");
    if (row->text(0, 0) == "completed") {
      return Status::FailedPrecondition("the episode is completed");
    }
    auto write = AmendQuery(Dialect::kPostgres, episode_key, amendment, row->text(0, 1),
                            row->text(0, 2), max_metadata_bytes);
    if (!write.ok()) return write.status();
    if (write->update.sql.empty()) return Status::Ok();
    Connection::Statements statements;
    statements.emplace_back(write->update.sql, ParamsOf(write->update));
    AddTagInserts(statements, write->new_tags, episode_key);
    if (auto ran = writer_->pipeline(statements); !ran.ok()) return ran.status();
    return txn.commit();
  });
}

Status PgStore::name_episode(int64_t episode_key, std::string_view name) {
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Status {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    auto row = writer_->query("SELECT key FROM episodes WHERE key = $1 FOR SHARE",
                              Params().add(episode_key));
    if (!row.ok()) return row.status();
    if (row->size() == 0) return Status::NotFound("the episode was deleted");
    if (Status s = InsertName(*writer_, episode_key, name); !s.ok()) return s;
    return txn.commit();
  });
}

Result<std::vector<Result<int64_t>>> PgStore::import_episodes(const NextImported& next) {
  std::unique_lock lock(writer_mu_);
  if (Status s = Reconnect(lock); !s.ok()) return s;
  Transaction txn(*writer_);
  if (!txn.begin_status().ok()) return txn.begin_status();
  // The rows in one pipeline, then the tags in another, the steps by COPY and the patterns
  // merged in a third: a few round trips for the whole transaction.
  std::vector<const ImportedEpisode*> items;
  Connection::Statements inserts;
  while (const ImportedEpisode* item = next()) {
    items.push_back(item);
    inserts.push_back(
        EpisodeInsert(item->episode, item->completion ? &*item->completion : nullptr));
  }
  auto inserted = writer_->pipeline(inserts);
  if (!inserted.ok()) return inserted.status();
  std::vector<Result<int64_t>> out;
  std::vector<EpisodePatterns> learnt;
  Connection::Statements tags;
  std::string steps;  // COPY text, sent every few MiB
  pg::SearchRows search;
  for (size_t i = 0; i < items.size(); ++i) {
    const ImportedEpisode& item = *items[i];
    const Episode& e = item.episode;
    if ((*inserted)[i].size() == 0) {
      out.push_back(Status::AlreadyExists(fmt::format("episode {} already exists", e.id)));
      continue;
    }
    const int64_t key = (*inserted)[i].integer(0, 0);
    AddTagInserts(tags, e.context.tags, key);
    for (const std::string& name : item.names) {  // engram migrate's, into an empty store
      Params p;
      p.add(name).add(key);
      tags.emplace_back(
          "INSERT INTO episode_names (name, episode_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
          std::move(p));
    }
    for (size_t n = 0; n < item.steps.size(); ++n) {
      AppendStepRow(steps, key, static_cast<int64_t>(n + 1), item.steps[n]);
    }
    if (steps.size() > (4u << 20)) {
      if (Status s = writer_->copy_in(kStepsCopy, steps); !s.ok()) return s;
      steps.clear();
    }
    if (item.completion) {
      learnt.push_back({key, &*item.completion, &e.context.domain});
      if (Status s = AddToIndex(search, key, e.task, *item.completion); !s.ok()) return s;
    }
    out.push_back(key);
  }
  if (Status s = writer_->pipeline(tags).status(); !s.ok()) return s;
  if (!steps.empty()) {
    if (Status s = writer_->copy_in(kStepsCopy, steps); !s.ok()) return s;
  }
  if (Status s = search.copy(*writer_); !s.ok()) return s;
  if (Status s = pg::MergePatterns(*writer_, learnt); !s.ok()) return s;
  if (Status s = txn.commit(); !s.ok()) return s;
  return out;
}

Result<std::unique_ptr<WriteTransaction>> PgStore::begin_write() {
  std::unique_lock lock(writer_mu_);
  if (Status s = Reconnect(lock); !s.ok()) return s;
  auto txn = std::make_unique<PgWriteTransaction>(std::move(lock), *writer_);
  if (!txn->begin_status().ok()) return LostBeforeCommit(txn->begin_status(), *writer_);
  return std::unique_ptr<WriteTransaction>(std::move(txn));
}

Status PgStore::complete_episode(int64_t key, const Completion& learnt, const Relearn& relearn) {
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Status {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    // The row's lock makes completing atomic across nodes: a second completer waits, then
    // finds the episode completed; a node's steps wait for the lock too (heads()).
    auto row = writer_->query("SELECT domain, task FROM episodes WHERE key = $1 FOR UPDATE",
                              Params().add(key));
    if (!row.ok()) return row.status();
    // The head in a statement of its own, after the lock: it sees the steps another node
    // committed while this one waited for it.
    auto head = row->size() == 0 ? Result<EpisodeHead>(Status::NotFound(""))
                                 : ReadHead(*writer_, "key", Params().add(key), "");
    auto store = CompletionToStore(head, learnt, relearn,
                                   [&](int64_t after) { return StepsAfter(*writer_, key, after); });
    if (!store.ok()) return store.status();
    const Completion& c = *store ? **store : learnt;
    const std::optional<std::string> domain = row->optional_text(0, 0);
    static const std::string kUpdate =
        "UPDATE episodes SET status = 'completed', outcome = $1, ended_at = $2, reward = $3, "
        "reflection = $4, step_count = $5, duration_ms = $6 WHERE key = $7";
    Params p;
    p.add(to_json(c.outcome).dump()).add(c.ended_at).add(c.reward).add(c.reflection);
    p.add(c.step_count).add(c.duration_ms).add(key);
    if (Status s = writer_->run(kUpdate, p); !s.ok()) return s;
    pg::SearchRows search;
    if (Status s = AddToIndex(search, key, row->text(0, 1), c); !s.ok()) return s;
    if (Status s = search.copy(*writer_); !s.ok()) return s;
    if (Status s = pg::MergePatterns(*writer_, {{key, &c, &domain}}); !s.ok()) {
      return s;
    }
    return txn.commit();
  });
}

namespace {

// The episodes with these keys and all of them: steps, tags, names, search index entries and
// their place in the patterns' evidence, a statement per table for all of them, sent together
// (one round trip). REQUIRES: a transaction on `conn` that locked the episodes.
Status DeleteEpisodes(Connection& conn, const std::vector<int64_t>& keys) {
  static const std::vector<std::string> kRows = {
      "DELETE FROM steps WHERE episode_key = ANY($1::bigint[])",
      "DELETE FROM episode_tags WHERE episode_key = ANY($1::bigint[])",
      "DELETE FROM episode_names WHERE episode_key = ANY($1::bigint[])",
      "DELETE FROM episodes WHERE key = ANY($1::bigint[])",
  };
  const std::string array = NumberArray(keys);
  Connection::Statements statements;
  for (const auto* list : {&pg::ForgetEpisodePatternsSql(), &pg::UnindexSql(), &kRows}) {
    for (const std::string& sql : *list) {
      Params params;
      params.add(array);
      statements.emplace_back(sql, std::move(params));
    }
  }
  return conn.pipeline(statements).status();
}

}  // namespace

Status PgStore::delete_episode(std::string_view id) {
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Status {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    auto row =
        writer_->query("SELECT key FROM episodes WHERE id = $1 FOR UPDATE", Params().add(id));
    if (!row.ok()) return row.status();
    if (row->size() == 0) return Status::NotFound(fmt::format("episode {} not found", id));
    if (Status s = DeleteEpisodes(*writer_, {row->integer(0, 0)}); !s.ok()) return s;
    return txn.commit();
  });
}

Result<PruneBatch> PgStore::prune_batch(const PruneQuery& query, int limit) {
  Query q = PruneCandidatesQuery(Dialect::kPostgres, query, limit);
  q.sql += " FOR UPDATE OF episodes";
  std::lock_guard lock(pruner_mu_);
  const auto began = std::chrono::steady_clock::now();
  std::vector<PrunedEpisode> removed;
  Status done = Retrying([&]() -> Status {
    removed.clear();
    if (!pruner_ || !pruner_->alive()) {
      auto fresh = Connection::Open(url_, kSetup);
      if (!fresh.ok()) return fresh.status();
      pruner_ = std::move(*fresh);
    }
    Transaction txn(*pruner_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *pruner_);
    auto rows = RunQuery(*pruner_, q);
    if (!rows.ok()) return rows.status();
    std::vector<int64_t> keys;
    for (int i = 0; i < rows->size(); ++i) {
      removed.push_back(PrunedFromRow(Row(*rows, i)));
      keys.push_back(removed.back().key);
    }
    if (keys.empty()) return Status::Ok();
    if (Status s = DeleteEpisodes(*pruner_, keys); !s.ok()) return s;
    return txn.commit();
  });
  if (!done.ok()) return done;
  return PruneBatch{std::move(removed), std::chrono::steady_clock::now() - began};
}

Result<FileSpace> PgStore::release_space(int64_t) {
  return FileSpace{};  // autovacuum reclaims the deleted rows
}

Status PgStore::write_learnt(const LearntRows& rows) {
  const std::string patterns = pg::PatternRowsCopy(rows.patterns);
  const std::string listed = pg::EpisodePatternsCopy(rows.episode_patterns);
  const std::string domains = pg::PatternDomainsCopy(rows.pattern_domains);
  std::unique_lock lock(writer_mu_);
  return Retrying([&]() -> Status {
    if (Status s = Reconnect(lock); !s.ok()) return s;
    Transaction txn(*writer_);
    if (!txn.begin_status().ok()) return LostBeforeCommit(txn.begin_status(), *writer_);
    for (const auto& [table, text] :
         {std::pair{fmt::format("patterns ({})", kPatternRowColumns), &patterns},
          std::pair{std::string("episode_patterns (episode_key, pattern_ids)"), &listed},
          std::pair{std::string("pattern_domains (domain, pattern_id, episodes)"), &domains}}) {
      if (text->empty()) continue;
      if (Status s = writer_->copy_in(table, *text); !s.ok()) return s;
    }
    return txn.commit();
  });
}

Status PgStore::Reconnect(const std::unique_lock<std::mutex>& held) {
  AssertHeld(held, writer_mu_);
  if (writer_->alive()) return Status::Ok();
  auto fresh = Connection::Open(url_, kWriterSetup);
  if (!fresh.ok()) return fresh.status();
  writer_ = std::move(*fresh);
  return Status::Ok();
}

}  // namespace engram::pg

namespace engram {

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const PostgresOptions& options) {
  if (options.max_read_connections == 0) {
    return Status::InvalidArgument("PostgresOptions::max_read_connections is 0; at least 1");
  }
  auto writer = pg::Connection::Open(url, pg::kWriterSetup);
  if (!writer.ok()) return writer.status();
  if (Status s = pg::MigrateSchema(**writer); !s.ok()) return s;
  if (Status s = pg::IndexPending(**writer); !s.ok()) return s;
  return std::unique_ptr<Store>(new pg::PgStore(url, std::move(*writer), options));
}

}  // namespace engram
