#include "store/episode_queries.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/timestamp.h"
#include "store/row_decode.h"

namespace engram {
namespace {

std::string Param(Dialect dialect, size_t n) {
  return fmt::format("{}{}", dialect == Dialect::kSqlite ? '?' : '$', n);
}

}  // namespace

std::string HeadQuery(Dialect dialect, std::string_view column) {
  return fmt::format(
      "SELECT key, status, (SELECT coalesce(max(step_number), 0) FROM steps "
      "WHERE episode_key = episodes.key) FROM episodes WHERE {} = {}",
      column, Param(dialect, 1));
}

std::string NamedQuery(Dialect dialect) {
  return fmt::format(
      "SELECT episodes.key, episodes.id, episodes.status, (SELECT coalesce(max(step_number), 0) "
      "FROM steps WHERE episode_key = episodes.key), episodes.task FROM episode_names JOIN "
      "episodes "
      "ON episodes.key = episode_names.episode_key WHERE episode_names.name = {}",
      Param(dialect, 1));
}

std::string NamesOfEpisodesQuery(Dialect dialect) {
  return fmt::format(
      "SELECT episode_key, name FROM episode_names WHERE episode_key > {} AND episode_key <= {} "
      "ORDER BY episode_key, name",
      Param(dialect, 1), Param(dialect, 2));
}

std::string AmendReadQuery(Dialect dialect) {
  return fmt::format("SELECT status, tags, metadata FROM episodes WHERE key = {}{}",
                     Param(dialect, 1), dialect == Dialect::kPostgres ? " FOR UPDATE" : "");
}

Result<AmendWrite> AmendQuery(Dialect dialect, int64_t key, const EpisodeAmendment& a,
                              std::string_view tags_json, std::string_view metadata_json,
                              size_t max_metadata_bytes) {
  AmendWrite out;
  std::vector<std::string> sets;
  auto set = [&](std::string_view column, std::string value) {
    out.update.params.push_back(std::move(value));
    sets.push_back(fmt::format("{} = {}", column, Param(dialect, out.update.params.size())));
  };
  if (a.task) set("task", *a.task);
  if (a.started_at) {
    auto t = NormalizeTimestamp("started_at", *a.started_at);
    if (!t.ok()) return t.status();
    set("started_at", *t);
  }
  if (a.domain) set("domain", *a.domain);
  if (!a.tags.empty()) {
    auto tags = nlohmann::json::parse(tags_json, nullptr, /*allow_exceptions=*/false);
    if (!tags.is_array()) tags = nlohmann::json::array();
    for (const std::string& tag : a.tags) {
      if (std::find(tags.begin(), tags.end(), tag) != tags.end()) continue;
      tags.push_back(tag);
      out.new_tags.push_back(tag);
    }
    if (!out.new_tags.empty()) set("tags", tags.dump());
  }
  if (!a.metadata.empty()) {
    auto metadata = nlohmann::json::parse(metadata_json, nullptr, /*allow_exceptions=*/false);
    if (!metadata.is_object()) metadata = nlohmann::json::object();
    metadata.update(a.metadata);
    std::string text = metadata.dump();
    if (text.size() > max_metadata_bytes) {
      return Status::InvalidArgument(fmt::format("metadata would be {} bytes, limit {} bytes",
                                                 text.size(), max_metadata_bytes));
    }
    set("metadata", std::move(text));
  }
  if (sets.empty()) return out;  // nothing to write
  out.update.params.push_back(std::to_string(key));
  out.update.sql = fmt::format("UPDATE episodes SET {} WHERE key = {}", fmt::join(sets, ", "),
                               Param(dialect, out.update.params.size()));
  return out;
}

std::array<std::string, 2> StepsByTimeUpdates(Dialect dialect) {
  const std::string key = Param(dialect, 1);
  return {fmt::format("UPDATE steps SET step_number = -byt.n FROM (SELECT step_number AS old, "
                      "row_number() OVER (ORDER BY timestamp, step_number) AS n FROM steps "
                      "WHERE episode_key = {0}) AS byt WHERE steps.episode_key = {0} AND "
                      "steps.step_number = byt.old AND byt.n <> byt.old",
                      key),
          fmt::format("UPDATE steps SET step_number = -step_number WHERE episode_key = {} AND "
                      "step_number < 0",
                      key)};
}

std::string OutcomeKindColumn(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "json_extract(outcome, '$.kind')"
                                     : "(outcome::json ->> 'kind')";
}

Query ListEpisodesQuery(Dialect dialect, const EpisodeFilter& f) {
  // After the episode's columns, its totals (steps, failed steps, tokens; AddToPage reads them),
  // each one range of the steps' primary key.
  const char* failed = dialect == Dialect::kSqlite ? "success = 0" : "NOT success";
  Query q{fmt::format("SELECT {}, (SELECT count(*) FROM steps WHERE episode_key = episodes.key), "
                      "(SELECT count(*) FROM steps WHERE episode_key = episodes.key AND {}), "
                      "(SELECT coalesce(sum(tokens), 0) FROM steps WHERE episode_key = "
                      "episodes.key) FROM episodes WHERE 1 = 1",
                      kEpisodeColumns, failed),
          {}};
  auto add = [&](std::string_view clause, std::string value) {
    q.params.push_back(std::move(value));
    q.sql += fmt::format(fmt::runtime(clause), Param(dialect, q.params.size()));
  };
  if (!f.ids.empty()) {
    q.sql += " AND id IN (";
    for (size_t i = 0; i < f.ids.size(); ++i) {
      q.params.push_back(f.ids[i]);
      q.sql += fmt::format("{}{}", i ? ", " : "", Param(dialect, q.params.size()));
    }
    q.sql += ")";
  }
  if (f.status) add(" AND status = {}", std::string(to_string(*f.status)));
  if (f.outcome) {
    add(fmt::format(" AND status = 'completed' AND {} = {{}}", OutcomeKindColumn(dialect)),
        std::string(to_string(*f.outcome)));
  }
  if (f.domain) add(" AND domain = {}", *f.domain);
  if (f.task_type) add(" AND task_type = {}", std::string(to_string(*f.task_type)));
  if (f.tag) add(" AND key IN (SELECT episode_key FROM episode_tags WHERE tag = {})", *f.tag);
  if (f.since) add(" AND started_at >= {}", *f.since);
  if (f.until) add(" AND started_at < {}", *f.until);
  if (!f.cursor.empty()) add(" AND id < {}", f.cursor);
  q.sql += fmt::format(" ORDER BY id DESC LIMIT {}", f.limit + 1);
  return q;
}

Query PruneCandidatesQuery(Dialect dialect, const PruneQuery& p, int limit) {
  const std::string kind = OutcomeKindColumn(dialect);
  Query q{fmt::format("SELECT key, id, started_at, status, {}, (SELECT count(*) FROM steps "
                      "WHERE episode_key = episodes.key) FROM episodes WHERE started_at < {}",
                      kind, Param(dialect, 1)),
          {p.before}};
  auto add = [&](std::string_view clause, std::string value) {
    q.params.push_back(std::move(value));
    q.sql += fmt::format(fmt::runtime(clause), Param(dialect, q.params.size()));
  };
  if (p.status) add(" AND status = {}", std::string(to_string(*p.status)));
  if (p.outcome) {
    add(fmt::format(" AND status = 'completed' AND {} = {{}}", kind),
        std::string(to_string(*p.outcome)));
  }
  if (p.domain) add(" AND domain = {}", *p.domain);
  if (p.after) {
    add(" AND (started_at > {}", p.after->first);
    add(fmt::format(" OR (started_at = {} AND key > CAST({{}} AS BIGINT)))",
                    Param(dialect, q.params.size())),
        std::to_string(p.after->second));
  }
  q.sql += fmt::format(" ORDER BY started_at, key LIMIT {}", limit);
  return q;
}

std::string StepPageQuery(Dialect dialect) {
  return fmt::format(
      "SELECT {} FROM steps WHERE episode_key = {} AND step_number > {} ORDER BY step_number "
      "LIMIT {}",
      dialect == Dialect::kSqlite ? kStepColumns : kStepColumnsPostgres, Param(dialect, 1),
      Param(dialect, 2), Param(dialect, 3));
}

}  // namespace engram
