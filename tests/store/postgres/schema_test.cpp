// The PostgreSQL schema: made once however many nodes start at the same moment, versioned,
// and a newer schema than the build knows refused.
#include "store/postgres/schema.h"

#include <thread>
#include <vector>

#include "pg_test_util.h"
#include "test_util.h"

namespace engram::pg {
namespace {

using engram::testing::PgDatabase;

constexpr const char* kSearchPath = "SET search_path = engram";

TEST(PgSchema, NodesStartingTogetherMakeItOnce) {
  ENGRAM_REQUIRE_POSTGRES();
  PgDatabase db;
  constexpr int kNodes = 6;
  std::vector<Status> results(kNodes);
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.emplace_back([&, i] {
      auto c = Connection::Open(db.url(), kSearchPath);
      results[i] = c.ok() ? MigrateSchema(**c) : c.status();
    });
  }
  for (auto& t : nodes) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.message();

  auto c = Connection::Open(db.url(), kSearchPath);
  ASSERT_OK(c);
  auto version = (*c)->query("SELECT count(*), max(version) FROM engram.schema_version");
  ASSERT_OK(version);
  EXPECT_EQ(version->integer(0, 0), 1);
  EXPECT_EQ(version->integer(0, 1), SchemaVersion());
  auto tables = (*c)->query(
      "SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables "
      "WHERE table_schema = 'engram'");
  ASSERT_OK(tables);
  EXPECT_EQ(tables->text(0, 0),
            "episode_names episode_patterns episode_tags episodes pattern_domains patterns "
            "schema_version "
            "search_docs search_pending search_postings steps");
  // Opening again changes nothing.
  ASSERT_OK(MigrateSchema(**c));
  EXPECT_EQ((*c)->query("SELECT count(*) FROM engram.schema_version")->integer(0, 0), 1);
}

TEST(PgSchema, ANewerSchemaIsRefused) {
  ENGRAM_REQUIRE_POSTGRES();
  PgDatabase db;
  auto c = Connection::Open(db.url(), kSearchPath);
  ASSERT_OK(c);
  ASSERT_OK(MigrateSchema(**c));
  ASSERT_OK((*c)->exec("UPDATE engram.schema_version SET version = 99"));
  Status s = MigrateSchema(**c);
  EXPECT_TRUE(s.IsFailedPrecondition());
  EXPECT_EQ(s.message(),
            "database has engram schema version 99, newer than this engram build understands (" +
                std::to_string(SchemaVersion()) + ")");
  // Refusing left the database as it was.
  EXPECT_EQ((*c)->query("SELECT version FROM engram.schema_version")->integer(0, 0), 99);
}

}  // namespace
}  // namespace engram::pg
