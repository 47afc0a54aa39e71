// The PostgreSQL side of the tests: a fresh database per test on the throwaway server that
// scripts/with-postgres starts (make test runs every suite through it).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "store/postgres/db.h"

namespace engram::testing {

// The server's URL, or empty with `why` saying why there is none.
inline std::string PostgresServerUrl(std::string* why) {
  if (const char* url = std::getenv("ENGRAM_TEST_POSTGRES_URL"); url && *url) return url;
  if (const char* skip = std::getenv("ENGRAM_TEST_POSTGRES_SKIP"); skip && *skip) {
    *why = skip;
  } else {
    *why =
        "ENGRAM_TEST_POSTGRES_URL is not set (make test sets it through scripts/with-postgres, "
        "which starts a throwaway server)";
  }
  return {};
}

// Skips the calling test, with the reason, when there is no server.
#define ENGRAM_REQUIRE_POSTGRES()                                                  \
  do {                                                                             \
    std::string _why;                                                              \
    if (::engram::testing::PostgresServerUrl(&_why).empty()) GTEST_SKIP() << _why; \
  } while (0)

// A database of its own, created empty and dropped (with whoever is still connected) at the end.
class PgDatabase {
 public:
  PgDatabase() {
    std::string why;
    server_ = PostgresServerUrl(&why);
    if (server_.empty()) return;
    static std::atomic<int> counter{0};
    name_ = "engram_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    Admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    Admin("CREATE DATABASE " + name_);
  }
  ~PgDatabase() {
    if (!name_.empty()) Admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  // postgres://user@host:port/<this database>
  std::string url() const { return server_.substr(0, server_.rfind('/') + 1) + name_; }
  const std::string& name() const { return name_; }

 private:
  void Admin(const std::string& sql) {
    auto c = pg::Connection::Open(server_);
    ASSERT_TRUE(c.ok()) << c.status().message();
    Status s = (*c)->exec(sql);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  std::string server_, name_;
};

}  // namespace engram::testing
