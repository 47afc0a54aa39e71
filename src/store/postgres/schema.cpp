#include "store/postgres/schema.h"

#include <fmt/format.h>

#include <string_view>
#include <vector>

namespace engram::pg {
namespace {

// Any 64-bit number of engram's own: the advisory lock the migrations hold ("engram" in ASCII).
constexpr int64_t kMigrationLock = 0x656E6772616D;

// migrations[i] takes the schema from version i to version i + 1, inside the schema `engram`
// (the search_path every engram connection sets). Append only: a released migration is never
// edited. The layout is SQLite's at its version 5; JSON documents are kept as the text engram
// wrote, timestamps as their ISO 8601 text, which sorts as time does in the "C" collation (as
// ids do, UUIDv7s ordered by time).
const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> migrations = {
      // 0 -> 1: episodes, steps, patterns and recall's full-text index.
      R"sql(
CREATE TABLE episodes (
  key          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id           TEXT COLLATE "C" NOT NULL UNIQUE,
  task         TEXT NOT NULL,
  task_type    TEXT NOT NULL,
  domain       TEXT,
  language     TEXT,
  framework    TEXT,
  complexity   TEXT,
  tags         TEXT NOT NULL DEFAULT '[]',
  status       TEXT NOT NULL DEFAULT 'open',
  started_at   TEXT COLLATE "C" NOT NULL,
  ended_at     TEXT COLLATE "C",
  outcome      TEXT,
  reward       TEXT,
  reflection   TEXT,
  metadata     TEXT NOT NULL DEFAULT '{}',
  step_count   BIGINT,
  duration_ms  BIGINT,
  search       TSVECTOR
);
CREATE INDEX episodes_started_at ON episodes (started_at);
CREATE INDEX episodes_domain ON episodes (domain);
CREATE INDEX episodes_similar ON episodes (task_type, domain, status, ended_at);
CREATE INDEX episodes_completed ON episodes (task_type, status, ended_at);
CREATE INDEX episodes_search ON episodes USING GIN (search);
CREATE TABLE episode_tags (
  tag          TEXT NOT NULL,
  episode_key  BIGINT NOT NULL,
  PRIMARY KEY (tag, episode_key)
);
CREATE TABLE steps (
  episode_key  BIGINT NOT NULL,
  step_number  BIGINT NOT NULL,
  timestamp    TEXT COLLATE "C" NOT NULL,
  tool         TEXT NOT NULL,
  action       TEXT NOT NULL,
  latency_ms   BIGINT NOT NULL,
  tokens       BIGINT,
  success      BOOLEAN NOT NULL,
  observation  TEXT NOT NULL,
  parameters   TEXT NOT NULL DEFAULT '{}',
  metadata     TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (episode_key, step_number)
);
CREATE TABLE patterns (
  id              TEXT COLLATE "C" PRIMARY KEY,
  key             TEXT NOT NULL UNIQUE,
  type            TEXT NOT NULL,
  description     TEXT NOT NULL,
  support         BIGINT NOT NULL,
  success_sum     DOUBLE PRECISION NOT NULL,
  occurrences     BIGINT NOT NULL,
  latency_ms_sum  BIGINT NOT NULL,
  tokens_sum      BIGINT NOT NULL,
  branches        TEXT,
  first_seen      TEXT COLLATE "C" NOT NULL,
  last_seen       TEXT COLLATE "C" NOT NULL,
  evidence        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX patterns_type ON patterns (type, support);
CREATE TABLE episode_patterns (
  episode_key  BIGINT PRIMARY KEY,
  pattern_ids  TEXT NOT NULL
);
CREATE TABLE pattern_domains (
  domain      TEXT NOT NULL,
  pattern_id  TEXT NOT NULL,
  episodes    BIGINT NOT NULL,
  PRIMARY KEY (domain, pattern_id)
);
)sql",
      // 1 -> 2: recall's index field by field, scored with BM25F as on SQLite
      // (postgres/search.h): each field against its own length, every term with its idf. Episodes
      // completed before wait in search_pending until a node indexes them (IndexPending).
      R"sql(
CREATE TABLE search_docs (
  episode_key  BIGINT PRIMARY KEY,
  task         INTEGER NOT NULL,
  said         INTEGER NOT NULL,
  calls        INTEGER NOT NULL,
  observed     INTEGER NOT NULL,
  reflection   INTEGER NOT NULL,
  terms        TEXT[] NOT NULL
);
CREATE TABLE search_postings (
  term         TEXT COLLATE "C" NOT NULL,
  episode_key  BIGINT NOT NULL,
  task         INTEGER NOT NULL,
  said         INTEGER NOT NULL,
  calls        INTEGER NOT NULL,
  observed     INTEGER NOT NULL,
  reflection   INTEGER NOT NULL,
  -- the counts in the key's index too: ranking reads postings from the index alone
  PRIMARY KEY (term, episode_key) INCLUDE (task, said, calls, observed, reflection)
);
CREATE TABLE search_pending (
  episode_key  BIGINT PRIMARY KEY
);
INSERT INTO search_pending SELECT key FROM episodes WHERE status = 'completed';
DROP INDEX episodes_search;
ALTER TABLE episodes DROP COLUMN search;
)sql",
      // 2 -> 3: names of the caller's for episodes (an OpenTelemetry conversation or trace, a
      // coding agent's session), each naming one episode.
      R"sql(
CREATE TABLE episode_names (
  name         TEXT COLLATE "C" PRIMARY KEY,
  episode_key  BIGINT NOT NULL
);
CREATE INDEX episode_names_by_episode ON episode_names (episode_key);
)sql",
      // 3 -> 4: an episode's tags found by the episode, for deleting and pruning.
      R"sql(
CREATE INDEX episode_tags_by_episode ON episode_tags (episode_key);
)sql",
  };
  return migrations;
}

}  // namespace

int SchemaVersion() {
  return static_cast<int>(Migrations().size());
}

Status MigrateSchema(Connection& conn, int target) {
  if (target < 0) target = SchemaVersion();
  if (Status s = conn.exec("BEGIN"); !s.ok()) return s;
  auto fail = [&](Status s) {
    (void)conn.exec("ROLLBACK");
    return s;
  };
  // Held until COMMIT: a second node starting at the same moment waits here, then finds the
  // schema made.
  if (Status s = conn.run("SELECT pg_advisory_xact_lock($1)", Params().add(kMigrationLock));
      !s.ok()) {
    return fail(s);
  }
  if (Status s = conn.exec("SET LOCAL search_path = engram; CREATE SCHEMA IF NOT EXISTS engram; "
                           "CREATE TABLE IF NOT EXISTS engram.schema_version "
                           "(version INTEGER NOT NULL)");
      !s.ok()) {
    return fail(s);
  }
  auto rows = conn.query("SELECT max(version) FROM engram.schema_version");
  if (!rows.ok()) return fail(rows.status());
  const int64_t version = rows->integer(0, 0);
  if (version > target) {
    return fail(Status::FailedPrecondition(fmt::format(
        "database has engram schema version {}, newer than this engram build understands ({})",
        version, target)));
  }
  const auto& migrations = Migrations();
  for (int64_t v = version; v < target; ++v) {
    if (Status s = conn.exec(migrations[static_cast<size_t>(v)]); !s.ok()) return fail(s);
  }
  if (version != target) {
    Status s = conn.exec("DELETE FROM engram.schema_version");
    if (s.ok()) {
      s = conn.run("INSERT INTO engram.schema_version (version) VALUES ($1)",
                   Params().add(int64_t{target}));
    }
    if (!s.ok()) return fail(s);
  }
  return conn.exec("COMMIT");
}

}  // namespace engram::pg
