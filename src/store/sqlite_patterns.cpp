#include "store/sqlite_patterns.h"

#include <fmt/format.h>

#include "engram/json.h"

#include <algorithm>
#include <map>

namespace engram::sqlite {
namespace {

using nlohmann::json;

constexpr int kMaxEvidence = 100;
constexpr size_t kEvidenceRows = 64;

// INSERT of `n` evidence rows of one pattern: ?1 is the pattern, ?2 … the episode keys.
std::string EvidenceInsert(size_t n) {
  std::string sql = "INSERT OR IGNORE INTO pattern_evidence (pattern_id, episode_key) VALUES ";
  for (size_t i = 0; i < n; ++i) sql += fmt::format("{}(?1, ?{})", i ? ", " : "", i + 2);
  return sql;
}

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

constexpr const char* kColumns =
    "id, type, description, support, success_sum, occurrences, latency_ms_sum, tokens_sum, "
    "branches, first_seen, last_seen";

Pattern FromRow(const Statement& st) {
  Pattern p;
  p.id = st.column_text(0);
  if (auto t = parse_pattern_type(st.column_text(1)); t.ok()) p.type = *t;
  p.description = json::parse(st.column_text(2), nullptr, false);
  p.support = st.column_int(3);
  p.success_rate = p.support ? st.column_double(4) / static_cast<double>(p.support) : 0;
  p.occurrences = st.column_int(5);
  const double n = p.occurrences ? static_cast<double>(p.occurrences) : 1;
  p.mean_latency_ms = static_cast<double>(st.column_int(6)) / n;
  p.mean_tokens = static_cast<double>(st.column_int(7)) / n;
  if (auto b = st.column_optional_text(8)) {
    p.branches = json::parse(*b, nullptr, false);
    if (!p.branches.is_object()) p.branches = json::object();
    for (auto& [tool, v] : p.branches.items()) {
      if (!v.is_object()) continue;
      const auto taken = v.value("taken", int64_t{0});
      v["success_rate"] =
          taken ? static_cast<double>(v.value("succeeded", int64_t{0})) / static_cast<double>(taken)
                : 0.0;
    }
  }
  p.first_seen = st.column_text(9);
  p.last_seen = st.column_text(10);
  return p;
}

Status LoadEvidence(Connection& conn, Pattern& p) {
  auto st = conn.cached(
      "SELECT e.id FROM pattern_evidence pe JOIN episodes e ON e.key = pe.episode_key "
      "WHERE pe.pattern_id = ? ORDER BY pe.episode_key DESC LIMIT " +
      std::to_string(kMaxEvidence));
  if (!st.ok()) return st.status();
  (*st)->bind(1, p.id);
  Status s;
  while ((*st)->step(s)) p.evidence.push_back((*st)->column_text(0));
  (*st)->reset();
  return s;
}

}  // namespace

std::string PatternId(std::string_view key) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return fmt::format("p{:016x}", h);
}

Status MergePatterns(Connection& conn, const std::vector<EpisodePatterns>& episodes) {
  // One row per distinct pattern, however many of these episodes show it: the contributions
  // are summed here first, so a batch of similar episodes costs one upsert per pattern.
  struct Merged {
    const PatternContribution* first = nullptr;
    int64_t support = 0, occurrences = 0, latency_ms = 0, tokens = 0;
    double success = 0;
    std::map<std::string, std::pair<int64_t, int64_t>> branches;
    std::string_view first_seen, last_seen;
    std::vector<int64_t> episode_keys;
  };
  std::map<std::string_view, Merged> merged;
  for (const auto& ep : episodes) {
    for (const auto& c : *ep.patterns) {
      Merged& m = merged[c.key];
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
    }
  }
  for (const auto& [key, m] : merged) {
    const PatternContribution& c = *m.first;
    const std::string id = PatternId(key);
    std::optional<std::string> branches;
    if (!m.branches.empty()) {
      auto read = conn.cached("SELECT branches FROM patterns WHERE id = ?");
      if (!read.ok()) return read.status();
      (*read)->bind(1, id);
      Status s;
      std::optional<std::string> stored;
      if ((*read)->step(s)) stored = (*read)->column_optional_text(0);
      (*read)->reset();
      if (!s.ok()) return s;
      branches = MergeBranches(stored, m.branches).dump();
    }
    auto up = conn.cached(
        "INSERT INTO patterns (id, key, type, description, support, success_sum, occurrences, "
        "latency_ms_sum, tokens_sum, branches, first_seen, last_seen) "
        "VALUES (?1, ?2, ?3, ?4, ?11, ?5, ?6, ?7, ?8, ?9, ?10, ?12) "
        "ON CONFLICT (id) DO UPDATE SET support = support + excluded.support, "
        "success_sum = success_sum + excluded.success_sum, "
        "occurrences = occurrences + excluded.occurrences, "
        "latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum, "
        "tokens_sum = tokens_sum + excluded.tokens_sum, "
        "branches = excluded.branches, first_seen = min(first_seen, excluded.first_seen), "
        "last_seen = max(last_seen, excluded.last_seen)");
    if (!up.ok()) return up.status();
    Statement& q = **up;
    q.bind(1, id).bind(2, c.key).bind(3, c.type).bind(4, c.description.dump());
    q.bind(5, m.success).bind(6, m.occurrences).bind(7, m.latency_ms).bind(8, m.tokens);
    q.bind_optional(9, branches).bind(10, m.first_seen).bind(11, m.support);
    q.bind(12, m.last_seen);
    if (Status s = q.run(); !s.ok()) return s;
    // The evidence rows, kEvidenceRows to a statement.
    const auto& keys = m.episode_keys;
    for (size_t from = 0; from < keys.size(); from += kEvidenceRows) {
      const size_t n = std::min(kEvidenceRows, keys.size() - from);
      auto ev = conn.cached(EvidenceInsert(n));
      if (!ev.ok()) return ev.status();
      (*ev)->bind(1, id);
      for (size_t i = 0; i < n; ++i) (*ev)->bind(static_cast<int>(i + 2), keys[from + i]);
      if (Status s = (*ev)->run(); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Result<std::vector<Pattern>> ListPatterns(Connection& conn, const PatternFilter& f) {
  std::string sql = fmt::format(
      "SELECT {} FROM patterns WHERE support >= ? AND success_sum >= "
      "? * support",
      kColumns);
  if (f.type) sql += " AND type = ?3";
  if (f.domain) {
    sql +=
        " AND id IN (SELECT pe.pattern_id FROM pattern_evidence pe JOIN episodes e ON "
        "e.key = pe.episode_key WHERE e.domain = ?4)";
  }
  sql += " ORDER BY support DESC, success_sum * 1.0 / support DESC, id";
  auto st = conn.prepare(sql);
  if (!st.ok()) return st.status();
  st->bind(1, f.min_support).bind(2, f.min_success - 1e-9);
  if (f.type) st->bind(3, to_string(*f.type));
  if (f.domain) st->bind(4, *f.domain);
  std::vector<Pattern> out;
  Status s;
  while (st->step(s)) out.push_back(FromRow(*st));
  if (!s.ok()) return s;
  for (auto& p : out) {
    if (Status e = LoadEvidence(conn, p); !e.ok()) return e;
  }
  return out;
}

Result<Pattern> GetPattern(Connection& conn, std::string_view id) {
  auto st = conn.cached(fmt::format("SELECT {} FROM patterns WHERE id = ?", kColumns));
  if (!st.ok()) return st.status();
  (*st)->bind(1, id);
  Status s;
  if (!(*st)->step(s)) {
    if (!s.ok()) return s;
    return Status::NotFound(fmt::format("pattern {} not found", id));
  }
  Pattern p = FromRow(**st);
  (*st)->reset();
  if (Status e = LoadEvidence(conn, p); !e.ok()) return e;
  return p;
}

Result<std::vector<PatternHit>> PatternsOfEpisodes(Connection& conn,
                                                   const std::vector<int64_t>& keys) {
  std::vector<PatternHit> out;
  if (keys.empty()) return out;
  std::string sql = fmt::format(
      "SELECT {}, hits.keys FROM (SELECT pattern_id, group_concat(episode_key) AS keys "
      "FROM pattern_evidence WHERE episode_key IN ({}) GROUP BY pattern_id) hits "
      "JOIN patterns ON patterns.id = hits.pattern_id",
      kColumns, fmt::join(keys, ", "));
  auto st = conn.prepare(sql);
  if (!st.ok()) return st.status();
  Status s;
  while (st->step(s)) {
    PatternHit hit{FromRow(*st), {}};
    const std::string list = st->column_text(11);
    for (size_t pos = 0; pos < list.size();) {
      size_t end = list.find(',', pos);
      if (end == std::string::npos) end = list.size();
      hit.episode_keys.push_back(std::stoll(list.substr(pos, end - pos)));
      pos = end + 1;
    }
    out.push_back(std::move(hit));
  }
  if (!s.ok()) return s;
  return out;
}

}  // namespace engram::sqlite
