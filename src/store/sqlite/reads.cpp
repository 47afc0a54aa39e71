// The SQLite store's reads: episodes, patterns, statistics and recall's search.
#include "store/sqlite/store_impl.h"

#include <fmt/format.h>

#include "engram/json.h"
#include "store/sqlite/patterns.h"

namespace engram::sqlite {

using nlohmann::json;

Result<EpisodeHead> SqliteStore::find_episode(std::string_view id) {
  auto lease = reader();
  return ReadHead(*lease, "id", id, fmt::format("episode {} not found", id));
}

Result<NamedEpisodeRow> ReadNamed(Connection& conn, std::string_view name) {
  static const std::string kNamed = NamedQuery(Dialect::kSqlite);
  auto st = conn.cached(kNamed);
  if (!st.ok()) return st.status();
  Statement& q = **st;
  q.bind(1, name);
  Status s;
  if (!q.step(s)) {
    if (!s.ok()) return s;
    return Status::NotFound(fmt::format("no episode is named \"{}\"", name));
  }
  NamedEpisodeRow named = NamedFromRow(q);
  q.reset();
  return named;
}

Result<NamedEpisodeRow> SqliteStore::find_named_episode(std::string_view name) {
  auto lease = reader();
  return ReadNamed(*lease, name);
}

Result<std::vector<EpisodeCost>> SqliteStore::recent_costs(TaskType type,
                                                           const std::optional<std::string>& domain,
                                                           int limit) {
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

Result<Episode> SqliteStore::load_episode(std::string_view id) {
  // The episode row and its steps from one snapshot.
  return InSnapshot([&](Connection& conn) { return load_in_snapshot(conn, id); });
}

Result<EpisodePage> SqliteStore::list_episodes(const EpisodeFilter& f) {
  const Query query = ListEpisodesQuery(Dialect::kSqlite, f);
  auto lease = reader();
  auto st = lease->prepare(query.sql);
  if (!st.ok()) return st.status();
  BindQuery(*st, query);
  EpisodePage page;
  Status s;
  while (st->step(s) && AddToPage(page, *st, f.limit)) {
  }
  if (!s.ok()) return s;
  return page;
}

Result<std::vector<Pattern>> SqliteStore::list_patterns(const PatternFilter& filter) {
  auto lease = reader();
  return sqlite::ListPatterns(*lease, filter);
}

Status SqliteStore::scan_steps(const StatsFilter& f,
                               const std::function<void(const StepFacts&)>& visit) {
  auto lease = reader();
  Connection& conn = *lease;
  if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
  auto st = conn.cached(
      "SELECT e.id, s.step_number, s.tool, substr(s.action, 1, 200), s.latency_ms, s.tokens, "
      "s.success, s.timestamp FROM steps s JOIN episodes e ON e.key = s.episode_key "
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

Status SqliteStore::count_episodes(const StatsFilter& f,
                                   const std::function<void(const EpisodeCount&)>& visit) {
  auto lease = reader();
  auto st = lease->cached(
      "SELECT status, json_extract(outcome, '$.kind'), substr(started_at, 1, 16), count(*) "
      "FROM episodes WHERE (?1 IS NULL OR domain = ?1) AND (?2 IS NULL OR started_at >= ?2) "
      "GROUP BY 1, 2, 3");
  if (!st.ok()) return st.status();
  Statement& q = **st;
  q.bind_optional(1, f.domain).bind_optional(2, f.since);
  Status s;
  while (q.step(s)) {
    const std::string status = q.column_text(0), minute = q.column_text(2);
    const std::optional<std::string> kind = q.column_optional_text(1);
    visit(EpisodeCount{status, kind, minute, q.column_int(3)});
  }
  q.reset();
  return s;
}

Result<Pattern> SqliteStore::get_pattern(std::string_view id) {
  auto lease = reader();
  return sqlite::GetPattern(*lease, id);
}

Result<std::vector<SearchHit>> SqliteStore::search_episodes(const std::vector<std::string>& words,
                                                            int limit) {
  return InSnapshot([&](Connection& conn) { return search_in_snapshot(conn, words, limit); });
}

Result<std::unordered_map<int64_t, std::vector<StepBrief>>> SqliteStore::step_briefs(
    const std::vector<int64_t>& keys) {
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

Result<std::vector<PatternHit>> SqliteStore::patterns_of_episodes(
    const std::vector<int64_t>& keys) {
  auto lease = reader();
  return sqlite::PatternsOfEpisodes(*lease, keys);
}

Result<std::vector<SearchHit>> SqliteStore::search_in_snapshot(
    Connection& conn, const std::vector<std::string>& words, int limit) {
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
        "SELECT {} FROM episodes WHERE status = 'completed' ORDER BY key DESC LIMIT ?", kColumns));
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

SearchHit SqliteStore::HitFromRow(Statement& q, double relevance) {
  SearchHit h;
  h.episode = EpisodeFromRow(q);
  h.key = q.column_int(15);
  h.reflection_json = q.column_optional_text(16).value_or("");
  h.relevance = relevance;
  return h;
}

Result<std::vector<ExecutionStep>> SqliteStore::load_steps(int64_t key, int64_t after,
                                                           int64_t limit) {
  auto lease = reader();
  return StepsAfter(*lease, key, after, limit);
}

Result<std::vector<ExecutionStep>> SqliteStore::StepsAfter(Connection& conn, int64_t key,
                                                           int64_t after, int64_t limit) {
  static const std::string kQuery = StepPageQuery(Dialect::kSqlite);
  auto st = conn.cached(kQuery);
  if (!st.ok()) return st.status();
  (*st)->bind(1, key).bind(2, after).bind(3, limit);  // SQLite: a limit of -1 is none
  std::vector<ExecutionStep> steps;
  Status s;
  while ((*st)->step(s)) steps.push_back(StepFromRow(**st));
  (*st)->reset();
  if (!s.ok()) return s;
  return steps;
}

Result<Episode> SqliteStore::load_in_snapshot(Connection& conn, std::string_view id) {
  auto st = conn.cached(fmt::format("SELECT {}, key FROM episodes WHERE id = ?", kEpisodeColumns));
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

}  // namespace engram::sqlite
