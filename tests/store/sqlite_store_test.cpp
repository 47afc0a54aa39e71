// Opening SQLite stores: the schema, its version, and the files engram must refuse.
#include <sqlite3.h>

#include <fstream>

#include "engram/engram.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::TempDir;

int64_t QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

void Exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(SqliteStore, CreatesAVersionedSchemaInWalMode) {
  TempDir dir;
  {
    auto m = Memory::open(dir.url("e.db"));
    ASSERT_OK(m);
  }
  EXPECT_EQ(QueryInt(dir.file("e.db"), "PRAGMA user_version"), 4);
  EXPECT_EQ(QueryInt(dir.file("e.db"), "PRAGMA application_id"), 0x656E6772);
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("e.db").c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(SqliteStore, UrlFormsOpenTheSameFile) {
  TempDir dir;
  std::string id;
  {
    auto m = Memory::open("sqlite://" + dir.file("a.db"));
    ASSERT_OK(m);
    id = *(*m)->start_episode(EpisodeSpec{"task", TaskType::kOther, {}, nlohmann::json::object()});
  }
  auto plain = Memory::open(dir.file("a.db"));  // a plain path works too
  ASSERT_OK(plain);
  EXPECT_TRUE((*plain)->get_episode(id).ok());
}

TEST(SqliteStore, InMemoryStoreWorks) {
  auto m = Memory::open("sqlite::memory:");
  ASSERT_OK(m);
  auto id =
      (*m)->start_episode(EpisodeSpec{"task", TaskType::kOther, {}, nlohmann::json::object()});
  ASSERT_OK(id);
  ExecutionStep s;
  s.tool = "git";
  ASSERT_OK((*m)->log_step(*id, s));
  EXPECT_EQ((*m)->get_episode(*id)->steps.size(), 1u);
}

TEST(SqliteStore, UnknownSchemesAreRefusedClearly) {
  auto r = Memory::open("mysql://localhost/db");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("unknown scheme \"mysql\""), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(Memory::open("").ok());
  EXPECT_FALSE(Memory::open("sqlite://").ok());
}

TEST(SqliteStore, APathThatCannotBeOpenedIsAnIOError) {
  auto r = Memory::open("sqlite:///nonexistent-dir/deeper/engram.db");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsIOError()) << r.status().message();
  EXPECT_NE(r.status().message().find("cannot open database /nonexistent-dir/deeper/engram.db"),
            std::string::npos)
      << r.status().message();
}

TEST(SqliteStore, AFileThatIsNotSqliteIsRefused) {
  TempDir dir;
  {
    std::ofstream f(dir.file("notes.db"));
    f << "these are my notes, not a database\n" << std::string(5000, 'x');
  }
  auto r = Memory::open(dir.url("notes.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().message();
  EXPECT_NE(r.status().message().find("is not an engram database"), std::string::npos)
      << r.status().message();
  std::ifstream f(dir.file("notes.db"));  // and left as it was
  std::string first;
  std::getline(f, first);
  EXPECT_EQ(first, "these are my notes, not a database");
}

TEST(SqliteStore, ASqliteFileOfAnotherApplicationIsRefused) {
  TempDir dir;
  Exec(dir.file("other.db"), "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
  auto r = Memory::open(dir.url("other.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("not an engram database"), std::string::npos);
  EXPECT_EQ(QueryInt(dir.file("other.db"), "SELECT count(*) FROM sqlite_schema"), 1);
}

TEST(SqliteStore, ACorruptEngramFileIsReportedNotCrashedOn) {
  TempDir dir;
  {
    auto m = Memory::open(dir.url("c.db"));
    ASSERT_OK(m);
  }
  {
    std::fstream f(dir.file("c.db"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << "garbage header!!";  // overwrite the SQLite magic
  }
  auto r = Memory::open(dir.url("c.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().message();
}

TEST(SqliteStore, ANewerSchemaIsRefused) {
  TempDir dir;
  {
    auto m = Memory::open(dir.url("n.db"));
    ASSERT_OK(m);
  }
  Exec(dir.file("n.db"), "PRAGMA user_version = 99");
  auto r = Memory::open(dir.url("n.db"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("schema version 99, newer than this engram build"),
            std::string::npos)
      << r.status().message();
}

TEST(SqliteStore, AnOlderSchemaIsMigratedForward) {
  TempDir dir;
  std::string id;
  {
    auto m = Memory::open(dir.url("old.db"));
    ASSERT_OK(m);
    id = *(*m)->start_episode({"from version 1", TaskType::kOther, {}, {}});
  }
  // Take the file back to schema version 1, as an older engram left it.
  Exec(dir.file("old.db"),
       "DROP INDEX episodes_similar; DROP TABLE episode_fts; DROP TABLE patterns; DROP TABLE "
       "pattern_evidence; "
       "DROP INDEX episodes_completed; "
       "ALTER TABLE episodes DROP COLUMN step_count; ALTER TABLE episodes DROP COLUMN duration_ms; "
       "PRAGMA user_version = 1");
  auto m = Memory::open(dir.url("old.db"));
  ASSERT_OK(m);
  EXPECT_EQ(QueryInt(dir.file("old.db"), "PRAGMA user_version"), 4);
  auto e = (*m)->complete_episode(id, Outcome{});
  ASSERT_OK(e);
  EXPECT_EQ(QueryInt(dir.file("old.db"),
                     "SELECT count(*) FROM episodes WHERE step_count = 0 AND duration_ms >= 0"),
            1);
}

TEST(SqliteStore, EpisodesCompletedBeforeVersion4AreIndexedForRecall) {
  TempDir dir;
  std::string id;
  {
    auto m = Memory::open(dir.url("v3.db"));
    ASSERT_OK(m);
    id = *(*m)->start_episode({"Rotate the signing keys", TaskType::kOther, {}, {}});
    ExecutionStep s;
    s.tool = "vault";
    s.action = "write transit/keys/rotate";
    s.observation = "permission denied on kms";
    s.success = false;
    ASSERT_OK((*m)->log_step(id, s));
    ASSERT_OK((*m)->complete_episode(id, Outcome{OutcomeKind::kFailure, "", {}, {}, {}}));
  }
  Exec(dir.file("v3.db"),
       "DROP INDEX episodes_similar; DROP TABLE episode_fts; PRAGMA user_version = 3");
  auto m = Memory::open(dir.url("v3.db"));
  ASSERT_OK(m);
  EXPECT_EQ(QueryInt(dir.file("v3.db"), "SELECT count(*) FROM episode_fts"), 1);
  for (const char* words : {"signing keys", "kms permission", "vault transit"}) {
    auto r = (*m)->recall(RecallQuery{words, {}, 5, 500, {}});
    ASSERT_OK(r);
    ASSERT_EQ(r->episodes.size(), 1u) << words;
    EXPECT_EQ(r->episodes[0].id, id);
    EXPECT_GT(r->episodes[0].why.at("text"), 0) << words;
  }
}

TEST(SqliteStore, DataSurvivesReopening) {
  TempDir dir;
  std::string id;
  {
    auto m = Memory::open(dir.url("r.db"));
    ASSERT_OK(m);
    id = *(*m)->start_episode(EpisodeSpec{"persist", TaskType::kTesting, {}, {}});
    for (int i = 0; i < 10; ++i) {
      ExecutionStep s;
      s.tool = "t" + std::to_string(i);
      ASSERT_OK((*m)->log_step_async(id, s));  // fire-and-forget: close must flush them
    }
  }
  auto m = Memory::open(dir.url("r.db"));
  ASSERT_OK(m);
  auto e = (*m)->get_episode(id);
  ASSERT_OK(e);
  ASSERT_EQ(e->steps.size(), 10u);
  EXPECT_EQ(e->steps[9].tool, "t9");
  EXPECT_EQ(e->task_type, TaskType::kTesting);
}

TEST(SqliteStore, SynchronousFullIsAnOption) {
  TempDir dir;
  Options o;
  o.synchronous = Synchronous::kFull;
  std::string id;
  {
    auto m = Memory::open(dir.url("full.db"), o);
    ASSERT_OK(m);
    id = *(*m)->start_episode({"power loss", TaskType::kOther, {}, {}});
    ExecutionStep s;
    s.tool = "sync";
    ASSERT_OK((*m)->log_step(id, s));
  }
  auto m = Memory::open(dir.url("full.db"));
  ASSERT_OK(m);
  EXPECT_EQ((*m)->get_episode(id)->steps.size(), 1u);
}

}  // namespace
}  // namespace engram
