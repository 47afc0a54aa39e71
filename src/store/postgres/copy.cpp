// The PostgreSQL store read out whole, for engram migrate.
#include "store/postgres/store_impl.h"

#include <fmt/format.h>

#include <unordered_map>

#include "engram/json.h"
#include "store/episode_queries.h"
#include "store/postgres/patterns.h"
#include "store/row_decode.h"

namespace engram::pg {

Result<std::vector<StoredEpisode>> PgStore::scan_episodes(int64_t after_key, int limit) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  Connection& conn = **lease;
  Transaction txn(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!txn.begin_status().ok()) return txn.begin_status();
  auto rows = conn.query(fmt::format("SELECT {}, {} FROM episodes WHERE key > $1 ORDER BY key "
                                     "LIMIT $2",
                                     kEpisodeColumns, kStoredEpisodeExtraColumns),
                         Params().add(after_key).add(int64_t{limit}));
  if (!rows.ok()) return rows.status();
  std::vector<StoredEpisode> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(StoredEpisodeFromRow(Row(*rows, i)));
  if (out.empty()) return out;
  auto steps = conn.query(fmt::format("SELECT {}, episode_key FROM steps WHERE episode_key > $1 "
                                      "AND episode_key <= $2 ORDER BY episode_key, step_number",
                                      kStepColumnsPostgres),
                          Params().add(after_key).add(out.back().key));
  if (!steps.ok()) return steps.status();
  size_t e = 0;
  for (int i = 0; i < steps->size(); ++i) {
    const int64_t key = steps->integer(i, 10);
    while (e < out.size() && out[e].key < key) ++e;
    if (e < out.size() && out[e].key == key) {
      out[e].episode.steps.push_back(StepFromRow(Row(*steps, i)));
    }
  }
  static const std::string kNames = NamesOfEpisodesQuery(Dialect::kPostgres);
  auto names = conn.query(kNames, Params().add(after_key).add(out.back().key));
  if (!names.ok()) return names.status();
  size_t at = 0;
  for (int i = 0; i < names->size(); ++i) AddName(out, &at, Row(*names, i));
  if (Status s = txn.commit(); !s.ok()) return s;
  return out;
}

Status PgStore::scan_learnt(const std::function<Status(LearntRows&&)>& page) {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  Connection& conn = **lease;
  Transaction txn(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!txn.begin_status().ok()) return txn.begin_status();
  constexpr int64_t kPage = 4096;
  // Each table a page at a time, after the last row of the page before (keyset paging).
  auto each = [&](const std::string& first, const std::string& after, auto params_after,
                  auto take) -> Status {
    auto rows = conn.query(first, Params().add(kPage));
    while (true) {
      if (!rows.ok()) return rows.status();
      if (rows->size() == 0) return Status::Ok();
      LearntRows out;
      for (int i = 0; i < rows->size(); ++i) take(out, Row(*rows, i));
      Params p = params_after(Row(*rows, rows->size() - 1));
      if (Status s = page(std::move(out)); !s.ok()) return s;
      if (rows->size() < kPage) return Status::Ok();
      rows = conn.query(after, p.add(kPage));
    }
  };
  const std::string patterns = fmt::format("SELECT {} FROM patterns", kPatternRowColumns);
  Status s = each(
      patterns + " ORDER BY id LIMIT $1", patterns + " WHERE id > $1 ORDER BY id LIMIT $2",
      [](const Row& r) {
        Params p;
        p.add(r.column_text(0));
        return p;
      },
      [](LearntRows& out, const Row& r) { out.patterns.push_back(PatternRowFromRow(r)); });
  if (s.ok()) {
    const std::string listed = "SELECT episode_key, pattern_ids FROM episode_patterns";
    s = each(
        listed + " ORDER BY episode_key LIMIT $1",
        listed + " WHERE episode_key > $1 ORDER BY episode_key LIMIT $2",
        [](const Row& r) {
          Params p;
          p.add(r.column_int(0));
          return p;
        },
        [](LearntRows& out, const Row& r) {
          out.episode_patterns.push_back({r.column_int(0), r.column_text(1)});
        });
  }
  if (s.ok()) {
    const std::string domains = "SELECT domain, pattern_id, episodes FROM pattern_domains";
    s = each(
        domains + " ORDER BY domain, pattern_id LIMIT $1",
        domains + " WHERE (domain, pattern_id) > ($1, $2) ORDER BY domain, pattern_id LIMIT $3",
        [](const Row& r) {
          Params p;
          p.add(r.column_text(0)).add(r.column_text(1));
          return p;
        },
        [](LearntRows& out, const Row& r) {
          out.pattern_domains.push_back({r.column_text(0), r.column_text(1), r.column_int(2)});
        });
  }
  if (!s.ok()) return s;
  return txn.commit();
}

Result<RowCounts> PgStore::backup(const std::string&) {
  return Status::FailedPrecondition(
      "a PostgreSQL store is backed up with pg_dump, or copied to a SQLite file with engram "
      "migrate (see the README, Backup)");
}

Result<RowCounts> PgStore::count_rows() {
  auto lease = readers_.acquire();
  if (!lease.ok()) return lease.status();
  auto rows = (*lease)->query(
      "SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM steps), "
      "(SELECT count(*) FROM patterns), (SELECT count(*) FROM episode_patterns), "
      "(SELECT count(*) FROM pattern_domains), (SELECT count(*) FROM episode_names)");
  if (!rows.ok()) return rows.status();
  RowCounts counts;
  int i = 0;
  for (const char* table :
       {"episodes", "steps", "patterns", "episode_patterns", "pattern_domains", "episode_names"}) {
    counts[table] = rows->integer(0, i++);
  }
  return counts;
}

}  // namespace engram::pg
