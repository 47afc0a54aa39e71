// The baseline engram is compared with in row (c): what a store looks like when an episode's
// steps are one JSON column, rewritten on each append.
#include <sqlite3.h>

#include <stdexcept>

#include "bench_common.h"

namespace engram::bench {
namespace {

void Check(sqlite3* db, int rc) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(sqlite3_errmsg(db));
  }
}

}  // namespace

double RunNaive(const std::string& path, int episodes, int steps_per_episode) {
  sqlite3* db = nullptr;
  Check(db, sqlite3_open(path.c_str(), &db));
  Check(db, sqlite3_exec(db,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         "CREATE TABLE episodes (id INTEGER PRIMARY KEY, steps TEXT NOT NULL);",
                         nullptr, nullptr, nullptr));
  for (int e = 0; e < episodes; ++e) {
    Check(db, sqlite3_exec(db, "INSERT INTO episodes (steps) VALUES ('[]')", nullptr, nullptr,
                           nullptr));
  }
  sqlite3_stmt* read = nullptr;
  sqlite3_stmt* write = nullptr;
  Check(db, sqlite3_prepare_v2(db, "SELECT steps FROM episodes WHERE id = ?", -1, &read, nullptr));
  Check(db,
        sqlite3_prepare_v2(db, "UPDATE episodes SET steps = ? WHERE id = ?", -1, &write, nullptr));
  Stopwatch watch;
  int64_t n = 0;
  for (int i = 0; i < steps_per_episode; ++i) {
    for (int e = 1; e <= episodes; ++e, ++n) {
      // One durable append = one transaction that reads, extends and rewrites the array.
      Check(db, sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr));
      sqlite3_bind_int(read, 1, e);
      Check(db, sqlite3_step(read));
      auto steps = nlohmann::ordered_json::parse(
          reinterpret_cast<const char*>(sqlite3_column_text(read, 0)));
      sqlite3_reset(read);
      ExecutionStep s = MakeStep(n);
      s.step_number = i + 1;
      steps.push_back(to_json(s));
      const std::string text = steps.dump();
      sqlite3_bind_text(write, 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
      sqlite3_bind_int(write, 2, e);
      Check(db, sqlite3_step(write));
      sqlite3_reset(write);
      Check(db, sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr));
    }
  }
  const double rate = static_cast<double>(n) / watch.seconds();
  sqlite3_finalize(read);
  sqlite3_finalize(write);
  sqlite3_close(db);
  return rate;
}

}  // namespace engram::bench
