#include "store/sqlite_patterns.h"

#include <fmt/format.h>

#include "engram/json.h"
#include "store/row_decode.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace engram::sqlite {
namespace {

using nlohmann::json;

constexpr int kMaxEvidence = 100;
// Adds this episode's branches to the stored ones: {"tool": {"taken", "succeeded"}}.
json MergeBranches(const std::optional<std::string>& stored,
                   const std::map<std::string, std::pair<int64_t, int64_t>>& added) {
  json out = stored ? json::parse(*stored, nullptr, false) : json::object();
  if (!out.is_object()) out = json::object();
  for (const auto& [tool, counts] : added) {
    json& b = out[tool];
    if (!b.is_object()) b = json::object();
    b["taken"] = b.value("taken", int64_t{0}) + counts.first;
    b["succeeded"] = b.value("succeeded", int64_t{0}) + counts.second;
  }
  return out;
}

// A JSON array of integers (episode keys), as the evidence column holds them.
std::vector<int64_t> Keys(std::string_view json_array) {
  std::vector<int64_t> out;
  json a = json::parse(json_array, nullptr, false);
  if (!a.is_array()) return out;
  for (const auto& v : a) {
    if (v.is_number_integer()) out.push_back(v.get<int64_t>());
  }
  return out;
}

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

}  // namespace

Status MergePatterns(Connection& conn, const std::vector<EpisodePatterns>& episodes) {
  // One row per distinct pattern, however many of these episodes show it: the contributions
  // are summed here first, so a batch of similar episodes costs one upsert per pattern.
  struct Merged {
    const PatternContribution* first = nullptr;
    int64_t support = 0, occurrences = 0, latency_ms = 0, tokens = 0;
    double success = 0;
    std::map<std::string, std::pair<int64_t, int64_t>> branches;
    std::string_view first_seen, last_seen;
    std::vector<int64_t> episode_keys;            // in the order of `episodes`, oldest first
    std::map<std::string_view, int64_t> domains;  // episodes per domain
  };
  std::unordered_map<std::string_view, Merged> merged;  // by pattern id
  auto listed =
      conn.cached("INSERT INTO episode_patterns (episode_key, pattern_ids) VALUES (?, ?)");
  if (!listed.ok()) return listed.status();
  for (const auto& ep : episodes) {
    std::string ids;  // a JSON array; ids need no escaping
    for (const auto& c : *ep.patterns) {
      Merged& m = merged[c.id];
      if (!m.first) {
        m.first = &c;
        m.first_seen = m.last_seen = ep.seen_at;
      }
      ++m.support;
      m.occurrences += c.occurrences;
      m.latency_ms += c.latency_ms;
      m.tokens += c.tokens;
      m.success += c.success;
      for (const auto& [tool, counts] : c.branches) {
        m.branches[tool].first += counts.first;
        m.branches[tool].second += counts.second;
      }
      m.first_seen = std::min(m.first_seen, ep.seen_at);
      m.last_seen = std::max(m.last_seen, ep.seen_at);
      m.episode_keys.push_back(ep.episode_key);
      if (ep.domain && *ep.domain) ++m.domains[**ep.domain];
      ids += ids.empty() ? "[\"" : ",\"";
      ids += c.id;
      ids += '"';
    }
    if (ids.empty()) continue;
    ids += ']';
    (*listed)->bind(1, ep.episode_key).bind_text_static(2, ids);
    if (Status s = (*listed)->run(); !s.ok()) return s;
  }
  for (const auto& [id, m] : merged) {
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
    // The newest evidence first, then what was kept before, kMaxEvidence in all (SQLite returns
    // a UNION ALL part by part; MemoryTest.PatternEvidenceKeepsTheNewest... checks the order).
    const auto& keys = m.episode_keys;
    const size_t fresh = std::min(keys.size(), static_cast<size_t>(kMaxEvidence));
    const std::string evidence = fmt::format(
        "[{}]", fmt::join(keys.rbegin(), keys.rbegin() + static_cast<long>(fresh), ","));
    static const std::string kUpsert = fmt::format(
        "INSERT INTO patterns (id, key, type, description, support, success_sum, occurrences, "
        "latency_ms_sum, tokens_sum, branches, first_seen, last_seen, evidence) "
        "VALUES (?1, ?2, ?3, ?4, ?11, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?13) "
        "ON CONFLICT (id) DO UPDATE SET support = support + excluded.support, "
        "success_sum = success_sum + excluded.success_sum, "
        "occurrences = occurrences + excluded.occurrences, "
        "latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, "
        "tokens_sum = tokens_sum + excluded.tokens_sum, "
        "branches = excluded.branches, first_seen = min(first_seen, excluded.first_seen), "
        "last_seen = max(last_seen, excluded.last_seen), "
        "evidence = (SELECT json_group_array(value) FROM ("
        "SELECT value FROM json_each(?13) UNION ALL "
        "SELECT value FROM json_each(patterns.evidence) LIMIT {}))",
        kMaxEvidence);
    auto up = conn.cached(kUpsert);
    if (!up.ok()) return up.status();
    Statement& q = **up;
    q.bind_text_static(1, id).bind(2, c.key).bind(3, c.type).bind_text_static(4, c.description);
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
  sql += " ORDER BY support DESC, success_sum * 1.0 / support DESC, id";
  auto st = conn.prepare(sql);
  if (!st.ok()) return st.status();
  st->bind(1, f.min_support).bind(2, f.min_success - 1e-9);
  if (f.type) st->bind(3, to_string(*f.type));
  if (f.domain) st->bind(4, *f.domain);
  return ReadPatterns(conn, *st);
}

Result<Pattern> GetPattern(Connection& conn, std::string_view id) {
  auto st = conn.cached(fmt::format("SELECT {} FROM patterns WHERE id = ?", kPatternColumns));
  if (!st.ok()) return st.status();
  (*st)->bind(1, id);
  auto found = ReadPatterns(conn, **st);
  if (!found.ok()) return found.status();
  if (found->empty()) return Status::NotFound(fmt::format("pattern {} not found", id));
  return std::move(found->front());
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
  while (st->step(s)) out.push_back(PatternHit{PatternFromRow(*st), Keys(st->column_text(12))});
  if (!s.ok()) return s;
  return out;
}

}  // namespace engram::sqlite
