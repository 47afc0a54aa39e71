#include "store/sqlite/schema.h"

#include <fmt/format.h>

#include <vector>

namespace engram::sqlite {
namespace {

// migrations[i] takes the schema from version i to version i + 1. Append only: a released
// migration is never edited.
const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> migrations = {
      // 0 -> 1: episodes, their tags and their append-only steps.
      R"sql(
CREATE TABLE episodes (
  key         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  task        TEXT NOT NULL,
  task_type   TEXT NOT NULL,
  domain      TEXT,
  language    TEXT,
  framework   TEXT,
  complexity  TEXT,
  tags        TEXT NOT NULL DEFAULT '[]',
  status      TEXT NOT NULL DEFAULT 'open',
  started_at  TEXT NOT NULL,
  ended_at    TEXT,
  outcome     TEXT,
  reward      TEXT,
  reflection  TEXT,
  metadata    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX episodes_started_at ON episodes(started_at);
CREATE INDEX episodes_domain ON episodes(domain);
CREATE TABLE episode_tags (
  tag          TEXT NOT NULL,
  episode_key  INTEGER NOT NULL,
  PRIMARY KEY (tag, episode_key)
) WITHOUT ROWID;
CREATE TABLE steps (
  episode_key  INTEGER NOT NULL,
  step_number  INTEGER NOT NULL,
  timestamp    TEXT NOT NULL,
  tool         TEXT NOT NULL,
  action       TEXT NOT NULL,
  latency_ms   INTEGER NOT NULL,
  tokens       INTEGER,
  success      INTEGER NOT NULL,
  observation  TEXT NOT NULL,
  parameters   TEXT NOT NULL DEFAULT '{}',
  metadata     TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (episode_key, step_number)
);
)sql",
      // 1 -> 2: what a completed episode cost, so the reward can compare it with similar ones.
      R"sql(
ALTER TABLE episodes ADD COLUMN step_count INTEGER;
ALTER TABLE episodes ADD COLUMN duration_ms INTEGER;
CREATE INDEX episodes_completed ON episodes(task_type, status, ended_at);
)sql",
      // 2 -> 3: patterns mined across episodes, one row per distinct pattern, with evidence.
      R"sql(
CREATE TABLE patterns (
  id              TEXT PRIMARY KEY,
  key             TEXT NOT NULL UNIQUE,
  type            TEXT NOT NULL,
  description     TEXT NOT NULL,
  support         INTEGER NOT NULL,
  success_sum     REAL NOT NULL,
  occurrences     INTEGER NOT NULL,
  latency_ms_sum  INTEGER NOT NULL,
  tokens_sum      INTEGER NOT NULL,
  branches        TEXT,
  first_seen      TEXT NOT NULL,
  last_seen       TEXT NOT NULL
);
CREATE INDEX patterns_type ON patterns(type, support);
CREATE TABLE pattern_evidence (
  pattern_id   TEXT NOT NULL,
  episode_key  INTEGER NOT NULL,
  PRIMARY KEY (pattern_id, episode_key)
) WITHOUT ROWID;
CREATE INDEX pattern_evidence_episode ON pattern_evidence(episode_key);
)sql",
      // 3 -> 4: full-text search for recall over completed episodes (rowid = episodes.key),
      // filled for the episodes completed before; an index for finding similar episodes.
      R"sql(
CREATE INDEX episodes_similar ON episodes(task_type, domain, status, ended_at);
CREATE VIRTUAL TABLE episode_fts USING fts5(
  task, reflection, steps, tokenize = 'porter unicode61 remove_diacritics 2');
INSERT INTO episode_fts (rowid, task, reflection, steps)
SELECT key, task,
  coalesce((SELECT group_concat(value, ' ') FROM json_tree(episodes.reflection)
            WHERE type = 'text'), ''),
  coalesce(substr((SELECT group_concat(tool || ' ' || action || ' ' || substr(observation, 1, 300),
                                       ' ')
                   FROM steps WHERE episode_key = episodes.key), 1, 16384), '')
FROM episodes WHERE status = 'completed';
)sql",
      // 4 -> 5: evidence kept where it is read. One (pattern, episode) row per pattern an episode
      // showed cost two B-tree inserts each, most of an import's time; now each episode lists
      // its patterns in one row, each pattern keeps its 100 newest episodes, and the episodes a
      // pattern was seen in are counted per domain for listing by domain.
      R"sql(
ALTER TABLE patterns ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]';
CREATE TABLE episode_patterns (
  episode_key  INTEGER PRIMARY KEY,
  pattern_ids  TEXT NOT NULL
);
CREATE TABLE pattern_domains (
  domain      TEXT NOT NULL,
  pattern_id  TEXT NOT NULL,
  episodes    INTEGER NOT NULL,
  PRIMARY KEY (domain, pattern_id)
) WITHOUT ROWID;
INSERT INTO episode_patterns (episode_key, pattern_ids)
SELECT episode_key, json_group_array(pattern_id) FROM pattern_evidence GROUP BY episode_key;
INSERT INTO pattern_domains (domain, pattern_id, episodes)
SELECT e.domain, pe.pattern_id, count(*)
FROM pattern_evidence pe JOIN episodes e ON e.key = pe.episode_key
WHERE e.domain IS NOT NULL GROUP BY e.domain, pe.pattern_id;
UPDATE patterns SET evidence = (
  SELECT json_group_array(episode_key) FROM (
    SELECT episode_key FROM pattern_evidence WHERE pattern_id = patterns.id
    ORDER BY episode_key DESC LIMIT 100));
DROP TABLE pattern_evidence;
)sql",
      // 5 -> 6: the search index field by field, so that each is scored against its own
      // length (a short task is no longer diluted by a long transcript): the task, what the
      // user said, the tool calls, what was observed and the reflection (learn/recall.h);
      // each word as written and as its stem (sqlite/tokenizer.h).
      R"sql(
DROP TABLE episode_fts;
CREATE VIRTUAL TABLE episode_fts USING fts5(
  task, user, calls, observations, reflection, tokenize = 'engram');
INSERT INTO episode_fts (rowid, task, user, calls, observations, reflection)
SELECT key, task,
  coalesce(substr((SELECT group_concat(observation, char(10)) FROM (
    SELECT observation FROM steps WHERE episode_key = episodes.key AND tool = 'user'
      AND observation <> '' ORDER BY step_number)), 1, 16384), ''),
  coalesce(substr((SELECT group_concat(tool || ' ' || action, char(10)) FROM (
    SELECT tool, action FROM steps WHERE episode_key = episodes.key
      AND tool NOT IN ('llm', 'user') ORDER BY step_number)), 1, 16384), ''),
  coalesce(substr((SELECT group_concat(substr(observation, 1, 300), char(10)) FROM (
    SELECT observation FROM steps WHERE episode_key = episodes.key AND tool <> 'user'
      AND observation <> '' ORDER BY step_number)), 1, 16384), ''),
  coalesce((SELECT group_concat(value, ' ') FROM json_tree(episodes.reflection)
            WHERE type = 'text'), '')
FROM episodes WHERE status = 'completed';
)sql",
      // 6 -> 7: names of the caller's for episodes (an OpenTelemetry conversation or trace, a
      // coding agent's session), each naming one episode.
      R"sql(
CREATE TABLE episode_names (
  name        TEXT PRIMARY KEY,
  episode_key INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX episode_names_by_episode ON episode_names (episode_key);
)sql",
  };
  return migrations;
}

Result<int64_t> QueryInt(Connection& conn, std::string_view sql) {
  auto stmt = conn.prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->scalar();
}

}  // namespace

int SchemaVersion() {
  return static_cast<int>(Migrations().size());
}

Status MigrateSchema(Connection& conn, int target) {
  // The write lock first, so two processes opening a new file do not both create the schema.
  if (Status s = conn.exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto fail = [&](Status s) {
    (void)conn.exec("ROLLBACK");
    return s;
  };
  auto app_id = QueryInt(conn, "PRAGMA application_id");
  if (!app_id.ok()) return fail(app_id.status());
  auto version = QueryInt(conn, "PRAGMA user_version");
  if (!version.ok()) return fail(version.status());
  auto tables = QueryInt(conn, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  if (!tables.ok()) return fail(tables.status());

  if (*app_id != kApplicationId && (*tables > 0 || *version != 0)) {
    return fail(Status::Corruption(fmt::format(
        "database {} is not an engram database (it holds {} table(s) of another application)",
        conn.path(), *tables)));
  }
  if (*version > target) {
    return fail(Status::FailedPrecondition(fmt::format(
        "database {} has schema version {}, newer than this engram build understands ({})",
        conn.path(), *version, target)));
  }
  const auto& migrations = Migrations();
  for (int64_t v = *version; v < target; ++v) {
    if (Status s = conn.exec(migrations[static_cast<size_t>(v)]); !s.ok()) return fail(s);
  }
  if (*version != target || *app_id != kApplicationId) {
    Status s = conn.exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {}",
                                     kApplicationId, target));
    if (!s.ok()) return fail(s);
  }
  return conn.exec("COMMIT");
}

}  // namespace engram::sqlite
