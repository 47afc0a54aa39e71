// One test suite, both stores: a fixture parameterised with StoreKind runs each test on a real
// SQLite file and on a database of its own on the throwaway PostgreSQL server (skipped, with
// the reason, when there is none).
#pragma once

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "pg_test_util.h"
#include "test_util.h"

namespace engram::testing {

enum class StoreKind { kSqlite, kPostgres };

inline std::string StoreName(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param == StoreKind::kSqlite ? "Sqlite" : "Postgres";
}

inline auto BothStores() {
  return ::testing::Values(StoreKind::kSqlite, StoreKind::kPostgres);
}

// Databases of one kind for one test, each new and empty, named so that a test may open the
// same one again (and several at once).
class TestStores {
 public:
  explicit TestStores(StoreKind kind) : kind_(kind) {}
  // Empty, with `why`, when the kind cannot run here.
  bool available(std::string* why) const {
    return kind_ == StoreKind::kSqlite || !PostgresServerUrl(why).empty();
  }
  std::string url(const std::string& name) {
    if (kind_ == StoreKind::kSqlite) return dir_.url(name);
    auto& db = databases_[name];
    if (!db) db = std::make_unique<PgDatabase>();
    return db->url();
  }
  StoreKind kind() const { return kind_; }

 private:
  StoreKind kind_;
  TempDir dir_;
  std::map<std::string, std::unique_ptr<PgDatabase>> databases_;
};

// Skips the calling test when its store kind cannot run here.
#define ENGRAM_REQUIRE_STORE(stores)                      \
  do {                                                    \
    std::string _why;                                     \
    if (!(stores).available(&_why)) GTEST_SKIP() << _why; \
  } while (0)

// The fixture of a suite that runs on both stores: `stores_` holds the test's databases, and a
// test whose store cannot run here is skipped. Instantiate with ENGRAM_ON_BOTH_STORES(Suite).
class OnEachStore : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override { ENGRAM_REQUIRE_STORE(stores_); }
  TestStores stores_{GetParam()};
};

#define ENGRAM_ON_BOTH_STORES(suite)                                       \
  INSTANTIATE_TEST_SUITE_P(Stores, suite, ::engram::testing::BothStores(), \
                           ::engram::testing::StoreName)

}  // namespace engram::testing
