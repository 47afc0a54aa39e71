// The SQLite store read out whole, for engram migrate.
#include "store/sqlite/store_impl.h"

#include <fmt/format.h>

#include <filesystem>

#include "engram/json.h"
#include "store/sqlite/patterns.h"

namespace engram::sqlite {
namespace {

// The rows of each table, in one snapshot.
Result<RowCounts> CountRows(Connection& conn);

}  // namespace

Result<std::vector<StoredEpisode>> SqliteStore::scan_episodes(int64_t after_key, int limit) {
  return InSnapshot([&](Connection& conn) { return scan_in_snapshot(conn, after_key, limit); });
}

Status SqliteStore::scan_learnt(const std::function<Status(LearntRows&&)>& page) {
  return InSnapshot([&](Connection& conn) { return scan_learnt_in_snapshot(conn, page); });
}

Result<RowCounts> SqliteStore::backup(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return Status::AlreadyExists(fmt::format("{} exists: a backup goes to a new file", path));
  }
  // Written beside the target and renamed over it once whole and checked, so that a backup cut
  // short leaves no file that looks like one.
  const std::string partial = path + ".partial";
  std::filesystem::remove(partial, ec);
  auto target = Connection::Open(partial, /*create=*/true, std::chrono::milliseconds(0));
  if (!target.ok()) return target.status();
  {
    auto lease = reader();
    // One step of every page: a read transaction on the source, one snapshot of it (WAL lets
    // writers go on meanwhile), whatever commits after it starts left out.
    sqlite3_backup* copy = sqlite3_backup_init((*target)->raw(), "main", lease->raw(), "main");
    if (!copy) return ErrorStatus((*target)->raw(), sqlite3_errcode((*target)->raw()), "backup");
    const int rc = sqlite3_backup_step(copy, -1);
    sqlite3_backup_finish(copy);
    if (rc != SQLITE_DONE) {
      target->reset();
      std::filesystem::remove(partial, ec);
      return ErrorStatus(lease->raw(), rc, "backup");
    }
  }
  std::string verdict;
  {
    auto check = (*target)->prepare("PRAGMA integrity_check");
    if (!check.ok()) return check.status();
    Status s;
    if (check->step(s)) verdict = check->column_text(0);
    if (!s.ok()) return s;
  }  // the statement finalized before its connection closes
  if (verdict != "ok") {
    target->reset();
    std::filesystem::remove(partial, ec);
    return Status::IOError(fmt::format("the backup {} failed its integrity check: {}", partial,
                                       verdict.substr(0, 200)));
  }
  auto counts = CountRows(**target);
  target->reset();
  if (!counts.ok()) return counts.status();
  if (std::filesystem::rename(partial, path, ec); ec) {
    return Status::IOError(fmt::format("cannot rename {} to {}: {}", partial, path, ec.message()));
  }
  return counts;
}

Result<RowCounts> SqliteStore::count_rows() {
  auto lease = reader();
  return CountRows(*lease);
}

namespace {

Result<RowCounts> CountRows(Connection& conn) {
  if (Status s = conn.exec("BEGIN"); !s.ok()) return s;  // one snapshot
  RowCounts counts;
  Status s;
  for (const char* table :
       {"episodes", "steps", "patterns", "episode_patterns", "pattern_domains", "episode_names"}) {
    auto st = conn.prepare(fmt::format("SELECT count(*) FROM {}", table));
    if (!st.ok()) {
      s = st.status();
      break;
    }
    if (st->step(s)) counts[table] = st->column_int(0);
    if (!s.ok()) break;
  }
  (void)conn.exec("COMMIT");
  if (!s.ok()) return s;
  return counts;
}

}  // namespace

Result<std::vector<StoredEpisode>> SqliteStore::scan_in_snapshot(Connection& conn,
                                                                 int64_t after_key, int limit) {
  auto st =
      conn.cached(fmt::format("SELECT {}, {} FROM episodes WHERE key > ? ORDER BY key LIMIT ?",
                              kEpisodeColumns, kStoredEpisodeExtraColumns));
  if (!st.ok()) return st.status();
  (*st)->bind(1, after_key).bind(2, int64_t{limit});
  std::vector<StoredEpisode> out;
  Status s;
  while ((*st)->step(s)) out.push_back(StoredEpisodeFromRow(**st));
  (*st)->reset();
  if (!s.ok()) return s;
  if (out.empty()) return out;
  auto steps = conn.cached(
      fmt::format("SELECT {}, episode_key FROM steps WHERE episode_key > ? AND episode_key <= ? "
                  "ORDER BY episode_key, step_number",
                  kStepColumns));
  if (!steps.ok()) return steps.status();
  (*steps)->bind(1, after_key).bind(2, out.back().key);
  size_t i = 0;
  while ((*steps)->step(s)) {
    const int64_t key = (*steps)->column_int(10);
    while (i < out.size() && out[i].key < key) ++i;
    if (i < out.size() && out[i].key == key) out[i].episode.steps.push_back(StepFromRow(**steps));
  }
  (*steps)->reset();
  if (!s.ok()) return s;
  static const std::string kNames = NamesOfEpisodesQuery(Dialect::kSqlite);
  auto names = conn.cached(kNames);
  if (!names.ok()) return names.status();
  (*names)->bind(1, after_key).bind(2, out.back().key);
  size_t at = 0;
  while ((*names)->step(s)) AddName(out, &at, **names);
  (*names)->reset();
  if (!s.ok()) return s;
  return out;
}

Status SqliteStore::scan_learnt_in_snapshot(Connection& conn,
                                            const std::function<Status(LearntRows&&)>& page) {
  constexpr size_t kPage = 4096;
  LearntRows rows;
  auto flush = [&](bool full) -> Status {
    const size_t n =
        rows.patterns.size() + rows.episode_patterns.size() + rows.pattern_domains.size();
    if (n == 0 || (!full && n < kPage)) return Status::Ok();
    Status s = page(std::move(rows));
    rows = LearntRows{};
    return s;
  };
  auto each = [&](std::string_view sql, const std::function<void(const Statement&)>& take) {
    auto st = conn.prepare(sql);
    if (!st.ok()) return st.status();
    Status s;
    while (st->step(s)) {
      take(*st);
      if (Status f = flush(false); !f.ok()) return f;
    }
    return s;
  };
  Status s = each(fmt::format("SELECT {} FROM patterns ORDER BY id", kPatternRowColumns),
                  [&](const Statement& q) { rows.patterns.push_back(PatternRowFromRow(q)); });
  if (s.ok()) {
    s = each("SELECT episode_key, pattern_ids FROM episode_patterns ORDER BY episode_key",
             [&](const Statement& q) {
               rows.episode_patterns.push_back({q.column_int(0), q.column_text(1)});
             });
  }
  if (s.ok()) {
    s = each(
        "SELECT domain, pattern_id, episodes FROM pattern_domains ORDER BY 1, 2",
        [&](const Statement& q) {
          rows.pattern_domains.push_back({q.column_text(0), q.column_text(1), q.column_int(2)});
        });
  }
  if (s.ok()) s = flush(true);
  return s;
}

}  // namespace engram::sqlite
