#include "store/sqlite/patterns.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "core/saturating.h"
#include "engram/json.h"
#include "store/row_decode.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace engram::sqlite {
namespace {

using nlohmann::json;

// The ids of the episodes in the pattern's evidence column, newest first.
Status LoadEvidence(Connection& conn, Pattern& p, std::string_view evidence) {
  auto st = conn.cached(
      "SELECT e.id FROM json_each(?) j JOIN episodes e ON e.key = j.value ORDER BY j.key");
  if (!st.ok()) return st.status();
  (*st)->bind_text_static(1, evidence);
  Status s;
  while ((*st)->step(s)) p.evidence.push_back((*st)->column_text(0));
  (*st)->reset();
  return s;
}

// Reads patterns with their evidence.
Result<std::vector<Pattern>> ReadPatterns(Connection& conn, Statement& st) {
  std::vector<Pattern> out;
  std::vector<std::string> evidence;
  Status s;
  while (st.step(s)) {
    out.push_back(PatternFromRow(st));
    evidence.push_back(st.column_text(11));
  }
  st.reset();
  if (!s.ok()) return s;
  for (size_t i = 0; i < out.size(); ++i) {
    if (Status e = LoadEvidence(conn, out[i], evidence[i]); !e.ok()) return e;
  }
  return out;
}

std::string_view TextOf(sqlite3_value* v) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return text ? std::string_view(text, static_cast<size_t>(sqlite3_value_bytes(v)))
              : std::string_view();
}

// engram_evidence(fresh, stored, limit): PrependEvidence as an SQL function.
void Evidence(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const sqlite3_int64 limit = sqlite3_value_int64(argv[2]);
  auto merged = PrependEvidence(TextOf(argv[0]), TextOf(argv[1]),
                                static_cast<size_t>(std::max<sqlite3_int64>(limit, 0)));
  if (!merged) {
    sqlite3_result_error(ctx, "engram_evidence: the evidence is not a JSON array of episode keys",
                         -1);
    return;
  }
  sqlite3_result_text64(ctx, merged->data(), merged->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// The upsert that adds a pattern's contribution to what is stored (built once, outside any loop).
const std::string& UpsertSql() {
  static const std::string sql = [] {
    const std::string latency = fmt::format(kSaturatingAddSql, fmt::arg("a", "latency_ms_sum"),
                                            fmt::arg("b", "excluded.latency_ms_sum"));
    const std::string tokens = fmt::format(kSaturatingAddSql, fmt::arg("a", "tokens_sum"),
                                           fmt::arg("b", "excluded.tokens_sum"));
    return fmt::format(
        "INSERT INTO patterns (id, key, type, description, support, success_sum, occurrences, "
        "latency_ms_sum, tokens_sum, branches, first_seen, last_seen, evidence) "
        "VALUES (?1, ?2, ?3, ?4, ?11, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?13) "
        "ON CONFLICT (id) DO UPDATE SET support = support + excluded.support, "
        "success_sum = success_sum + excluded.success_sum, "
        "occurrences = occurrences + excluded.occurrences, "
        "latency_ms_sum = {}, tokens_sum = {}, "
        "branches = excluded.branches, first_seen = min(first_seen, excluded.first_seen), "
        "last_seen = max(last_seen, excluded.last_seen), "
        "evidence = engram_evidence(?13, patterns.evidence, {})",
        latency, tokens, kMaxEvidence);
  }();
  return sql;
}

}  // namespace

Status RegisterPatternFunctions(Connection& conn) {
  if (sqlite3_create_function_v2(conn.raw(), "engram_evidence", 3,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                 Evidence, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Status::IOError("cannot register the engram_evidence function");
  }
  return Status::Ok();
}

Status MergePatterns(Connection& conn, const std::vector<EpisodePatterns>& episodes) {
  auto listed =
      conn.cached("INSERT INTO episode_patterns (episode_key, pattern_ids) VALUES (?, ?)");
  if (!listed.ok()) return listed.status();
  for (const auto& ep : episodes) {
    const std::string& ids = ep.learnt->pattern_ids;
    if (ids.empty()) continue;
    (*listed)->bind(1, ep.episode_key).bind_text_static(2, ids);
    if (Status s = (*listed)->run(); !s.ok()) return s;
  }
  for (const auto& [id, m] : SumContributions(episodes)) {
    const PatternContribution& c = *m.first;
    std::optional<std::string> branches;
    if (!m.branches.empty()) {
      auto read = conn.cached("SELECT branches FROM patterns WHERE id = ?");
      if (!read.ok()) return read.status();
      (*read)->bind_text_static(1, id);
      Status s;
      std::optional<std::string> stored;
      if ((*read)->step(s)) stored = (*read)->column_optional_text(0);
      (*read)->reset();
      if (!s.ok()) return s;
      branches = MergeBranches(stored, m.branches).dump();
    }
    // The newest evidence first, then what was kept before, kMaxEvidence in all
    // (MemoryTest.PatternEvidenceKeepsTheNewest... checks the order).
    const std::string evidence = NewestFirst(m.episode_keys, kMaxEvidence);
    auto up = conn.cached(UpsertSql());
    if (!up.ok()) return up.status();
    Statement& q = **up;
    q.bind_text_static(1, id)
        .bind(2, c.key)
        .bind_text_static(3, to_string(c.type))
        .bind_text_static(4, c.description);
    q.bind(5, m.success).bind(6, m.occurrences).bind(7, m.latency_ms).bind(8, m.tokens);
    q.bind_optional(9, branches).bind(10, m.first_seen).bind(11, m.support);
    q.bind(12, m.last_seen).bind_text_static(13, evidence);
    if (Status s = q.run(); !s.ok()) return s;
    for (const auto& [domain, count] : m.domains) {
      auto d = conn.cached(
          "INSERT INTO pattern_domains (domain, pattern_id, episodes) VALUES (?, ?, ?) "
          "ON CONFLICT DO UPDATE SET episodes = episodes + excluded.episodes");
      if (!d.ok()) return d.status();
      (*d)->bind_text_static(1, domain).bind_text_static(2, id).bind(3, count);
      if (Status s = (*d)->run(); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status ForgetEpisodePatterns(Connection& conn, int64_t episode_key) {
  // ?1 is the episode; its pattern ids are read from episode_patterns by each statement.
  for (const char* sql : {
           "UPDATE patterns SET evidence = (SELECT json_group_array(j.value) FROM "
           "json_each(patterns.evidence) j WHERE j.value <> ?1) WHERE id IN (SELECT value FROM "
           "json_each((SELECT pattern_ids FROM episode_patterns WHERE episode_key = ?1)))",
           "UPDATE pattern_domains SET episodes = episodes - 1 "
           "WHERE domain = (SELECT domain FROM episodes WHERE key = ?1) AND pattern_id IN "
           "(SELECT value FROM json_each((SELECT pattern_ids FROM episode_patterns "
           "WHERE episode_key = ?1)))",
           "DELETE FROM pattern_domains WHERE domain = (SELECT domain FROM episodes WHERE key = "
           "?1) AND episodes <= 0",
           "DELETE FROM episode_patterns WHERE episode_key = ?1",
       }) {
    auto st = conn.cached(sql);
    if (!st.ok()) return st.status();
    if (Status s = (*st)->bind(1, episode_key).run(); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::vector<Pattern>> ListPatterns(Connection& conn, const PatternFilter& f) {
  std::string sql = fmt::format(
      "SELECT {} FROM patterns WHERE support >= ? AND success_sum >= "
      "? * support",
      kPatternColumns);
  if (f.type) sql += " AND type = ?3";
  if (f.domain) sql += " AND id IN (SELECT pattern_id FROM pattern_domains WHERE domain = ?4)";
  if (f.episode) {
    sql +=
        " AND id IN (SELECT j.value FROM episodes e JOIN episode_patterns ep ON ep.episode_key = "
        "e.key, json_each(ep.pattern_ids) j WHERE e.id = ?5)";
  }
  sql += " ORDER BY support DESC, success_sum * 1.0 / support DESC, id";
  auto st = conn.prepare(sql);
  if (!st.ok()) return st.status();
  st->bind(1, f.min_support).bind(2, f.min_success - 1e-9);
  if (f.type) st->bind(3, to_string(*f.type));
  if (f.domain) st->bind(4, *f.domain);
  if (f.episode) st->bind(5, *f.episode);
  return ReadPatterns(conn, *st);
}

Result<Pattern> GetPattern(Connection& conn, std::string_view id) {
  auto st = conn.cached(fmt::format("SELECT {} FROM patterns WHERE id = ?", kPatternColumns));
  if (!st.ok()) return st.status();
  (*st)->bind(1, id);
  return OnePattern(ReadPatterns(conn, **st), id);
}

Result<std::vector<PatternHit>> PatternsOfEpisodes(Connection& conn,
                                                   const std::vector<int64_t>& keys) {
  std::vector<PatternHit> out;
  if (keys.empty()) return out;
  std::string sql = fmt::format(
      "SELECT {}, hits.keys FROM (SELECT j.value AS pattern_id, json_group_array(ep.episode_key) "
      "AS keys FROM episode_patterns ep, json_each(ep.pattern_ids) j "
      "WHERE ep.episode_key IN ({}) GROUP BY j.value) hits "
      "JOIN patterns ON patterns.id = hits.pattern_id",
      kPatternColumns, fmt::join(keys, ", "));
  auto st = conn.prepare(sql);
  if (!st.ok()) return st.status();
  Status s;
  while (st->step(s))
    out.push_back(PatternHit{PatternFromRow(*st), KeysOfJsonArray(st->column_text(12))});
  if (!s.ok()) return s;
  return out;
}

}  // namespace engram::sqlite
