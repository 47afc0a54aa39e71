// The PostgreSQL store's reads: episodes, patterns, statistics and recall's search.
#include "store/postgres/store_impl.h"

#include <fmt/format.h>

#include <unordered_map>

#include "engram/json.h"
#include "store/episode_queries.h"
#include "store/postgres/patterns.h"
#include "store/row_decode.h"

namespace engram::pg {

Result<EpisodeHead> PgStore::find_episode(std::string_view id) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  return ReadHead(**lease, "id", Params().add(id), fmt::format("episode {} not found", id));
}

Result<NamedEpisodeRow> ReadNamed(Connection& conn, std::string_view name) {
  static const std::string kNamed = NamedQuery(Dialect::kPostgres);
  auto rows = conn.query(kNamed, Params().add(name));
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return Status::NotFound(fmt::format("no episode is named \"{}\"", name));
  return NamedFromRow(Row(*rows, 0));
}

Result<NamedEpisodeRow> PgStore::find_named_episode(std::string_view name) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  return ReadNamed(**lease, name);
}

Result<std::vector<EpisodeCost>> PgStore::recent_costs(TaskType type,
                                                       const std::optional<std::string>& domain,
                                                       int limit) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  auto rows = (*lease)->query(
      "SELECT step_count, duration_ms FROM episodes WHERE task_type = $1 "
      "AND ($2::text IS NULL OR domain = $2) AND status = 'completed' "
      "AND step_count IS NOT NULL ORDER BY ended_at DESC LIMIT $3",
      Params().add(std::string(to_string(type))).add(domain).add(int64_t{limit}));
  if (!rows.ok()) return rows.status();
  std::vector<EpisodeCost> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->integer(i, 0), rows->integer(i, 1)});
  }
  return out;
}

Result<Episode> PgStore::load_episode(std::string_view id) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  Connection& conn = **lease;
  // One snapshot for the episode row and its steps.
  Transaction txn(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto rows = conn.query(fmt::format("SELECT {}, key FROM episodes WHERE id = $1", kEpisodeColumns),
                         Params().add(id));
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return Status::NotFound(fmt::format("episode {} not found", id));
  Episode e = EpisodeFromRow(Row(*rows, 0));
  auto steps = StepsAfter(conn, rows->integer(0, 15), 0);
  if (!steps.ok()) return steps.status();
  e.steps = std::move(*steps);
  if (Status s = txn.commit(); !s.ok()) return s;
  return e;
}

Result<std::vector<ExecutionStep>> PgStore::load_steps(int64_t key, int64_t after, int64_t limit) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  return StepsAfter(**lease, key, after, limit);
}

Result<Rows> RunQuery(Connection& conn, const Query& query) {
  return conn.query(query.sql, ParamsOf(query));
}

Result<EpisodePage> PgStore::list_episodes(const EpisodeFilter& f) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  auto rows = RunQuery(**lease, ListEpisodesQuery(Dialect::kPostgres, f));
  if (!rows.ok()) return rows.status();
  EpisodePage page;
  for (int i = 0; i < rows->size() && AddToPage(page, Row(*rows, i), f.limit); ++i) {
  }
  return page;
}

Result<std::vector<PrunedEpisode>> PgStore::prunable(const PruneQuery& query, int limit) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  auto rows = RunQuery(**lease, PruneCandidatesQuery(Dialect::kPostgres, query, limit));
  if (!rows.ok()) return rows.status();
  std::vector<PrunedEpisode> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(PrunedFromRow(Row(*rows, i)));
  return out;
}

Result<std::vector<Pattern>> PgStore::list_patterns(const PatternFilter& filter) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  return pg::ListPatterns(**lease, filter);
}

Status PgStore::scan_steps(const StatsFilter& f,
                           const std::function<void(const StepFacts&)>& visit) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  // One snapshot, streamed: a store may hold millions of steps.
  Connection& conn = **lease;
  Transaction txn(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!txn.begin_status().ok()) return txn.begin_status();
  Status s = conn.stream(
      "SELECT e.id, s.step_number, s.tool, substr(s.action, 1, 200), s.latency_ms, s.tokens, "
      "s.success::int, s.timestamp FROM steps s JOIN episodes e ON e.key = s.episode_key "
      "WHERE ($1::text IS NULL OR s.tool = $1) AND ($2::text IS NULL OR e.domain = $2) "
      "AND ($3::text IS NULL OR s.timestamp >= $3)",
      Params().add(f.tool).add(f.domain).add(f.since),
      [&](const Row& row) { VisitStepFacts(row, visit); });
  if (!s.ok()) return s;
  return txn.commit();
}

Status PgStore::count_episodes(const StatsFilter& f,
                               const std::function<void(const EpisodeCount&)>& visit) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  auto rows = (*lease)->query(
      "SELECT status, outcome::json ->> 'kind', substr(started_at, 1, 16), count(*) FROM episodes "
      "WHERE ($1::text IS NULL OR domain = $1) AND ($2::text IS NULL OR started_at >= $2) "
      "GROUP BY 1, 2, 3",
      Params().add(f.domain).add(f.since));
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < rows->size(); ++i) {
    const std::string status = rows->text(i, 0), minute = rows->text(i, 2);
    const std::optional<std::string> kind = rows->optional_text(i, 1);
    visit(EpisodeCount{status, kind, minute, rows->integer(i, 3)});
  }
  return Status::Ok();
}

Result<Pattern> PgStore::get_pattern(std::string_view id) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  return pg::GetPattern(**lease, id);
}

Result<std::vector<SearchHit>> PgStore::search_episodes(const std::vector<std::string>& words,
                                                        int limit) {
  // Only what scoring needs: the reward's total, no metadata, and the reflection as text
  // until an episode is chosen. The first 15 columns read as EpisodeFromRow reads them.
  constexpr const char* kColumns =
      "id, task, task_type, domain, language, framework, complexity, tags, status, "
      "started_at, ended_at, outcome, CASE WHEN reward IS NULL THEN NULL ELSE "
      "json_build_object('total', (reward::json ->> 'total')::double precision)::text END, "
      "NULL, '{}', key, reflection";
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  Connection& conn = **lease;
  std::vector<SearchHit> out;
  auto read = [&](const std::string& sql, const Params& params,
                  const std::vector<ScoredEpisode>& ranked) -> Status {
    auto rows = conn.query(sql, params);
    if (!rows.ok()) return rows.status();
    std::unordered_map<int64_t, int> row_of;
    for (int i = 0; i < rows->size(); ++i) row_of[rows->integer(i, 15)] = i;
    auto hit = [&](int i, double relevance) {
      SearchHit h;
      h.episode = EpisodeFromRow(Row(*rows, i));
      h.key = rows->integer(i, 15);
      h.reflection_json = rows->optional_text(i, 16).value_or("");
      h.relevance = relevance;
      out.push_back(std::move(h));
    };
    if (ranked.empty()) {
      for (int i = 0; i < rows->size(); ++i) hit(i, 0);
    }
    for (const auto& [minus_score, key] : ranked) {
      if (auto it = row_of.find(key); it != row_of.end()) hit(it->second, -minus_score);
    }
    return Status::Ok();
  };
  if (words.empty()) {
    static const std::string kNewest = fmt::format(
        "SELECT {} FROM episodes WHERE status = 'completed' ORDER BY key DESC LIMIT $1", kColumns);
    if (Status s = read(kNewest, Params().add(int64_t{limit}), {}); !s.ok()) return s;
    return out;
  }
  // One snapshot for the ranking and the rows it names.
  if (Status s = conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s.ok()) return s;
  auto ranked = pg::RankEpisodes(conn, words, limit, search_figures_);
  Status s = ranked.status();
  if (s.ok() && !ranked->empty()) {
    std::vector<int64_t> keys;
    for (const auto& r : *ranked) keys.push_back(r.second);
    static const std::string kChosen =
        fmt::format("SELECT {} FROM episodes WHERE key = ANY($1::bigint[])", kColumns);
    s = read(kChosen, Params().add(pg::NumberArray(keys)), *ranked);
  }
  (void)conn.exec(s.ok() ? "COMMIT" : "ROLLBACK");
  if (!s.ok()) return s;
  return out;
}

Result<std::unordered_map<int64_t, std::vector<StepBrief>>> PgStore::step_briefs(
    const std::vector<int64_t>& keys) {
  std::unordered_map<int64_t, std::vector<StepBrief>> out;
  if (keys.empty()) return out;
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  auto rows = (*lease)->query(
      fmt::format("SELECT episode_key, tool, left(action, {}), success FROM steps "
                  "WHERE episode_key = ANY($1::bigint[]) ORDER BY episode_key, step_number",
                  kStepBriefActionChars),
      Params().add(pg::NumberArray(keys)));
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < rows->size(); ++i) {
    out[rows->integer(i, 0)].push_back(
        StepBrief{rows->text(i, 1), rows->text(i, 2), rows->boolean(i, 3)});
  }
  return out;
}

Result<std::vector<PatternHit>> PgStore::patterns_of_episodes(const std::vector<int64_t>& keys) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  return pg::PatternsOfEpisodes(**lease, keys);
}

}  // namespace engram::pg
