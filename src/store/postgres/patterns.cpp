#include "store/postgres/patterns.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/saturating.h"
#include "engram/json.h"
#include "store/row_decode.h"

namespace engram::pg {
namespace {

// The stored branches plus the added ones, per tool; the stored ones when nothing is added.
constexpr const char* kMergedBranches =
    "CASE WHEN excluded.branches IS NULL THEN p.branches "
    "WHEN p.branches IS NULL THEN excluded.branches ELSE ("
    "SELECT jsonb_object_agg(k, jsonb_build_object("
    "'taken', coalesce((old.b -> k ->> 'taken')::bigint, 0) + "
    "coalesce((new.b -> k ->> 'taken')::bigint, 0), "
    "'succeeded', coalesce((old.b -> k ->> 'succeeded')::bigint, 0) + "
    "coalesce((new.b -> k ->> 'succeeded')::bigint, 0)))::text "
    "FROM (SELECT p.branches::jsonb AS b) old, (SELECT excluded.branches::jsonb AS b) new, "
    "LATERAL jsonb_object_keys(old.b || new.b) AS k) END";

// The new evidence first, then what was kept, the newest kMaxEvidence in all.
const std::string& MergedEvidence() {
  static const std::string sql = fmt::format(
      "(SELECT coalesce(json_agg(v ORDER BY part, ord), '[]'::json)::text FROM ("
      "SELECT v, part, ord FROM ("
      "SELECT n.v::bigint AS v, 0 AS part, n.ord FROM "
      "json_array_elements_text(excluded.evidence::json) WITH ORDINALITY AS n(v, ord) "
      "UNION ALL SELECT o.v::bigint, 1, o.ord FROM "
      "json_array_elements_text(p.evidence::json) WITH ORDINALITY AS o(v, ord)) x "
      "ORDER BY part, ord LIMIT {}) kept)",
      kMaxEvidence);
  return sql;
}

// The ids of the episodes in the pattern's evidence, newest first.
Status LoadEvidence(Connection& conn, Pattern& p, const std::string& evidence) {
  auto rows = conn.query(
      "SELECT e.id FROM json_array_elements_text($1::json) WITH ORDINALITY AS j(v, ord) "
      "JOIN episodes e ON e.key = j.v::bigint ORDER BY j.ord",
      Params().add(evidence));
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < rows->size(); ++i) p.evidence.push_back(rows->text(i, 0));
  return Status::Ok();
}

Result<std::vector<Pattern>> ReadPatterns(Connection& conn, const Rows& rows) {
  std::vector<Pattern> out;
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(PatternFromRow(Row(rows, i)));
    if (Status s = LoadEvidence(conn, out.back(), rows.text(i, 11)); !s.ok()) return s;
  }
  return out;
}

}  // namespace

std::string PatternRowsCopy(const std::vector<PatternRow>& rows) {
  std::string out;
  for (const PatternRow& p : rows) {
    for (std::string_view v : {std::string_view(p.id), std::string_view(p.key), to_string(p.type),
                               std::string_view(p.description)}) {
      AppendCopyText(out, v);
      out += '\t';
    }
    out += fmt::format("{}\t{}\t{}\t{}\t{}\t", p.support, p.success_sum, p.occurrences,
                       p.latency_ms_sum, p.tokens_sum);
    if (p.branches) {
      AppendCopyText(out, *p.branches);
    } else {
      out += "\\N";
    }
    out += '\t';
    AppendCopyText(out, p.first_seen);
    out += '\t';
    AppendCopyText(out, p.last_seen);
    out += fmt::format("\t[{}]\n", fmt::join(p.evidence, ","));
  }
  return out;
}

std::string EpisodePatternsCopy(const std::vector<EpisodePatternsRow>& rows) {
  std::string out;
  for (const EpisodePatternsRow& r : rows) {
    out += fmt::format("{}\t", r.episode_key);
    AppendCopyText(out, r.pattern_ids);
    out += '\n';
  }
  return out;
}

std::string PatternDomainsCopy(const std::vector<PatternDomainRow>& rows) {
  std::string out;
  for (const PatternDomainRow& r : rows) {
    AppendCopyText(out, r.domain);
    out += '\t';
    AppendCopyText(out, r.pattern_id);
    out += fmt::format("\t{}\n", r.episodes);
  }
  return out;
}

Status MergePatterns(Connection& conn, const std::vector<EpisodePatterns>& episodes) {
  // The batch's sums arrive by COPY in the session's incoming tables (kIncomingTables), then
  // merge into the stored rows in one statement per table: a batch of imported episodes
  // brings thousands of patterns.
  LearntRows rows;
  for (const auto& ep : episodes) {
    const std::string& ids = ep.learnt->pattern_ids;
    if (!ids.empty()) rows.episode_patterns.push_back({ep.episode_key, ids});
  }
  for (const auto& [id, m] : SumContributions(episodes)) {  // in id order
    const PatternContribution& c = *m.first;
    PatternRow p;
    p.id = std::string(id);
    p.key = c.key;
    p.type = c.type;
    p.description = c.description;
    p.support = m.support;
    p.success_sum = m.success;
    p.occurrences = m.occurrences;
    p.latency_ms_sum = m.latency_ms;
    p.tokens_sum = m.tokens;
    if (!m.branches.empty()) p.branches = MergeBranches(std::nullopt, m.branches).dump();
    p.first_seen = std::string(m.first_seen);
    p.last_seen = std::string(m.last_seen);
    const size_t kept = std::min(m.episode_keys.size(), kMaxEvidence);
    p.evidence.assign(m.episode_keys.rbegin(), m.episode_keys.rbegin() + static_cast<long>(kept));
    rows.patterns.push_back(std::move(p));
    for (const auto& [domain, count] : m.domains) {
      rows.pattern_domains.push_back({std::string(domain), std::string(id), count});
    }
  }
  if (!rows.episode_patterns.empty()) {
    Status s = conn.copy_in("episode_patterns (episode_key, pattern_ids)",
                            EpisodePatternsCopy(rows.episode_patterns));
    if (!s.ok()) return s;
  }
  if (rows.patterns.empty()) return Status::Ok();
  static const std::string kMerge = fmt::format(
      "INSERT INTO patterns AS p ({0}) SELECT {0} FROM incoming_patterns ORDER BY id "
      "ON CONFLICT (id) DO UPDATE SET support = p.support + excluded.support, "
      "success_sum = p.success_sum + excluded.success_sum, "
      "occurrences = p.occurrences + excluded.occurrences, "
      "latency_ms_sum = {3}, tokens_sum = {4}, branches = {1}, "
      "first_seen = least(p.first_seen, excluded.first_seen), "
      "last_seen = greatest(p.last_seen, excluded.last_seen), evidence = {2}",
      kPatternRowColumns, kMergedBranches, MergedEvidence(),
      fmt::format(kSaturatingAddSql, fmt::arg("a", "p.latency_ms_sum"),
                  fmt::arg("b", "excluded.latency_ms_sum")),
      fmt::format(kSaturatingAddSql, fmt::arg("a", "p.tokens_sum"),
                  fmt::arg("b", "excluded.tokens_sum")));
  if (Status s = conn.copy_in(fmt::format("incoming_patterns ({})", kPatternRowColumns),
                              PatternRowsCopy(rows.patterns));
      !s.ok()) {
    return s;
  }
  if (Status s = conn.run(kMerge); !s.ok()) return s;
  if (rows.pattern_domains.empty()) return Status::Ok();
  if (Status s = conn.copy_in("incoming_domains (domain, pattern_id, episodes)",
                              PatternDomainsCopy(rows.pattern_domains));
      !s.ok()) {
    return s;
  }
  return conn.run(
      "INSERT INTO pattern_domains AS d (domain, pattern_id, episodes) "
      "SELECT domain, pattern_id, episodes FROM incoming_domains ORDER BY domain, pattern_id "
      "ON CONFLICT (domain, pattern_id) DO UPDATE SET episodes = d.episodes + excluded.episodes");
}

const std::vector<std::string>& ForgetEpisodePatternsSql() {
  // $1 is the episodes' keys, an array; their pattern ids are read from episode_patterns.
  static const std::vector<std::string> statements = {
      "UPDATE patterns SET evidence = (SELECT coalesce(json_agg(j.v::bigint ORDER BY j.ord), "
      "'[]'::json)::text FROM json_array_elements_text(patterns.evidence::json) "
      "WITH ORDINALITY AS j(v, ord) WHERE j.v::bigint <> ALL($1::bigint[])) WHERE id IN ("
      "SELECT json_array_elements_text(pattern_ids::json) FROM episode_patterns "
      "WHERE episode_key = ANY($1::bigint[]))",
      "UPDATE pattern_domains pd SET episodes = pd.episodes - c.n FROM ("
      "SELECT e.domain, j.pid, count(*) AS n FROM episodes e "
      "JOIN episode_patterns ep ON ep.episode_key = e.key "
      "CROSS JOIN LATERAL json_array_elements_text(ep.pattern_ids::json) AS j(pid) "
      "WHERE e.key = ANY($1::bigint[]) AND e.domain IS NOT NULL GROUP BY e.domain, j.pid) c "
      "WHERE pd.domain = c.domain AND pd.pattern_id = c.pid",
      "DELETE FROM pattern_domains WHERE episodes <= 0 AND domain IN ("
      "SELECT domain FROM episodes WHERE key = ANY($1::bigint[]) AND domain IS NOT NULL)",
      "DELETE FROM episode_patterns WHERE episode_key = ANY($1::bigint[])",
  };
  return statements;
}

Result<std::vector<Pattern>> ListPatterns(Connection& conn, const PatternFilter& f) {
  Params params;
  params.add(f.min_support).add(f.min_success - 1e-9);
  std::string sql = fmt::format(
      "SELECT {} FROM patterns WHERE support >= $1 AND success_sum >= $2::double precision * "
      "support",
      kPatternColumns);
  if (f.type) {
    params.add(std::string(to_string(*f.type)));
    sql += fmt::format(" AND type = ${}", params.size());
  }
  if (f.domain) {
    params.add(*f.domain);
    sql += fmt::format(" AND id IN (SELECT pattern_id FROM pattern_domains WHERE domain = ${})",
                       params.size());
  }
  if (f.episode) {
    params.add(*f.episode);
    sql += fmt::format(
        " AND id IN (SELECT j.v FROM episodes e JOIN episode_patterns ep ON ep.episode_key = "
        "e.key, json_array_elements_text(ep.pattern_ids::json) AS j(v) WHERE e.id = ${})",
        params.size());
  }
  sql += " ORDER BY support DESC, success_sum / support DESC, id";
  auto rows = conn.query(sql, params);
  if (!rows.ok()) return rows.status();
  return ReadPatterns(conn, *rows);
}

Result<Pattern> GetPattern(Connection& conn, std::string_view id) {
  auto rows = conn.query(fmt::format("SELECT {} FROM patterns WHERE id = $1", kPatternColumns),
                         Params().add(id));
  if (!rows.ok()) return rows.status();
  return OnePattern(ReadPatterns(conn, *rows), id);
}

Result<std::vector<PatternHit>> PatternsOfEpisodes(Connection& conn,
                                                   const std::vector<int64_t>& keys) {
  std::vector<PatternHit> out;
  if (keys.empty()) return out;
  auto rows =
      conn.query(fmt::format("SELECT {}, hits.keys FROM (SELECT j.v AS pattern_id, "
                             "json_agg(ep.episode_key)::text AS keys FROM episode_patterns ep, "
                             "json_array_elements_text(ep.pattern_ids::json) AS j(v) "
                             "WHERE ep.episode_key = ANY($1::bigint[]) GROUP BY j.v) hits "
                             "JOIN patterns ON patterns.id = hits.pattern_id",
                             kPatternColumns),
                 Params().add(pg::NumberArray(keys)));
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back(PatternHit{PatternFromRow(Row(*rows, i)), KeysOfJsonArray(rows->text(i, 12))});
  }
  return out;
}

}  // namespace engram::pg
