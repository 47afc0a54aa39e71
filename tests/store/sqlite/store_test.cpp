// Opening SQLite stores: the schema, its version, and the files engram must refuse.
#include <sqlite3.h>

#include <fstream>

#include "engram/engram.h"
#include "learn/recall.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/tokenizer.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::ValueOf;

using testing::TempDir;

int64_t QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_TRUE(sqlite::RegisterTokenizer(db).ok());  // the search index's
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

// A new file with the schema an older engram created, as of `version`.
void CreateAtVersion(const std::string& path, int version) {
  auto conn = sqlite::Connection::Open(path, /*create=*/true, std::chrono::milliseconds(1000));
  ASSERT_OK(conn);
  ASSERT_OK(sqlite::MigrateSchema(**conn, version));
}

TEST(SqliteStore, CreatesAVersionedSchemaInWalMode) {
  TempDir dir;
  {
    auto m = Memory::open(dir.url("e.db"));
    ASSERT_OK(m);
  }
  EXPECT_EQ(QueryInt(dir.file("e.db"), "PRAGMA user_version"), 7);
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
    id = ValueOf((*m)->start_episode(
        EpisodeSpec{"task", TaskType::kOther, {}, nlohmann::json::object(), {}}));
  }
  auto plain = Memory::open(dir.file("a.db"));  // a plain path works too
  ASSERT_OK(plain);
  EXPECT_TRUE((*plain)->get_episode(id).ok());
}

TEST(SqliteStore, InMemoryStoreWorks) {
  auto m = Memory::open("sqlite::memory:");
  ASSERT_OK(m);
  auto id =
      (*m)->start_episode(EpisodeSpec{"task", TaskType::kOther, {}, nlohmann::json::object(), {}});
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
  CreateAtVersion(dir.file("old.db"), 1);
  const std::string id = "0190a000-0000-7000-8000-000000000001";
  Exec(dir.file("old.db"),
       "INSERT INTO episodes (id, task, task_type, started_at) VALUES "
       "('0190a000-0000-7000-8000-000000000001', 'from version 1', 'other', "
       "'2026-01-02T03:04:05.000Z')");
  auto m = Memory::open(dir.url("old.db"));
  ASSERT_OK(m);
  EXPECT_EQ(QueryInt(dir.file("old.db"), "PRAGMA user_version"), sqlite::SchemaVersion());
  auto e = (*m)->complete_episode(id, Outcome{});
  ASSERT_OK(e);
  EXPECT_EQ(QueryInt(dir.file("old.db"),
                     "SELECT count(*) FROM episodes WHERE step_count = 0 AND duration_ms >= 0"),
            1);
}

TEST(SqliteStore, EpisodesIndexedBeforeVersion6AreIndexedFieldByFieldAsCompletingWould) {
  TempDir dir;
  CreateAtVersion(dir.file("v5.db"), 5);
  Exec(dir.file("v5.db"),
       "INSERT INTO episodes (key, id, task, task_type, status, started_at, ended_at, outcome, "
       "reflection) VALUES (1, '0190a000-0000-7000-8000-000000000003', 'Change my flight', "
       "'other', 'completed', '2026-01-02T03:04:05.000Z', '2026-01-02T03:05:05.000Z', "
       "'{\"kind\":\"success\"}', '{\"worked\":[{\"text\":\"get_user worked\"}]}'); "
       "INSERT INTO steps (episode_key, step_number, timestamp, tool, action, latency_ms, "
       "success, observation) VALUES "
       "(1, 1, '2026-01-02T03:04:06.000Z', 'llm', 'call get_user', 0, 1, 'Your id?'), "
       "(1, 2, '2026-01-02T03:04:07.000Z', 'user', 'reply', 0, 1, 'mia_li_3668'), "
       "(1, 3, '2026-01-02T03:04:08.000Z', 'get_user', '{\"id\":\"mia\"}', 3, 1, 'found'), "
       "(1, 4, '2026-01-02T03:04:09.000Z', 'user', 'reply', 0, 1, 'the other one')");
  { ASSERT_OK(Memory::open(dir.url("v5.db"))); }
  std::vector<ExecutionStep> steps(4);
  const char* rows[4][3] = {{"llm", "call get_user", "Your id?"},
                            {"user", "reply", "mia_li_3668"},
                            {"get_user", "{\"id\":\"mia\"}", "found"},
                            {"user", "reply", "the other one"}};
  for (size_t i = 0; i < 4; ++i) {
    steps[i].tool = rows[i][0];
    steps[i].action = rows[i][1];
    steps[i].observation = rows[i][2];
  }
  const StepTexts want = StepsText(steps);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("v5.db").c_str(), &db), SQLITE_OK);
  ASSERT_OK(sqlite::RegisterTokenizer(db));
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT task, user, calls, observations, reflection FROM "
                               "episode_fts WHERE rowid = 1",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  auto column = [&](int i) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, i)));
  };
  EXPECT_EQ(column(0), "Change my flight");
  EXPECT_EQ(column(1), want.user);
  EXPECT_EQ(column(2), want.calls);
  EXPECT_EQ(column(3), want.observations);
  EXPECT_EQ(column(4), "get_user worked");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(SqliteStore, EpisodesCompletedBeforeVersion4AreIndexedForRecall) {
  TempDir dir;
  CreateAtVersion(dir.file("v3.db"), 3);
  const std::string id = "0190a000-0000-7000-8000-000000000002";
  Exec(dir.file("v3.db"),
       "INSERT INTO episodes (key, id, task, task_type, status, started_at, ended_at, outcome, "
       "reward, reflection) VALUES (1, '0190a000-0000-7000-8000-000000000002', "
       "'Rotate the signing keys', 'other', 'completed', '2026-01-02T03:04:05.000Z', "
       "'2026-01-02T03:05:05.000Z', '{\"kind\":\"failure\"}', '{\"total\":0.1}', "
       "'{\"to_improve\":[{\"text\":\"vault failed once\",\"steps\":[1]}]}'); "
       "INSERT INTO steps (episode_key, step_number, timestamp, tool, action, latency_ms, "
       "success, observation) VALUES (1, 1, '2026-01-02T03:04:06.000Z', 'vault', "
       "'write transit/keys/rotate', 5, 0, 'permission denied on kms')");
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

TEST(SqliteStore, PatternEvidenceOfVersion4IsCarriedForward) {
  TempDir dir;
  CreateAtVersion(dir.file("v4.db"), 4);
  // Three episodes (two in domain infra) showing pattern pa, the third also pb.
  Exec(dir.file("v4.db"),
       "INSERT INTO episodes (key, id, task, task_type, domain, status, started_at) VALUES "
       "(1, '0190a000-0000-7000-8000-000000000011', 'one', 'other', 'infra', 'completed', "
       "'2026-01-01T00:00:00.000Z'), "
       "(2, '0190a000-0000-7000-8000-000000000012', 'two', 'other', 'infra', 'completed', "
       "'2026-01-02T00:00:00.000Z'), "
       "(3, '0190a000-0000-7000-8000-000000000013', 'three', 'other', NULL, 'completed', "
       "'2026-01-03T00:00:00.000Z'); "
       "INSERT INTO patterns (id, key, type, description, support, success_sum, occurrences, "
       "latency_ms_sum, tokens_sum, first_seen, last_seen) VALUES "
       "('pa', 'ka', 'tool_sequence', '{}', 3, 3, 3, 0, 0, '2026-01-01T00:00:00.000Z', "
       "'2026-01-03T00:00:00.000Z'), "
       "('pb', 'kb', 'tool_sequence', '{}', 1, 1, 1, 0, 0, '2026-01-03T00:00:00.000Z', "
       "'2026-01-03T00:00:00.000Z'); "
       "INSERT INTO pattern_evidence VALUES ('pa', 1), ('pa', 2), ('pa', 3), ('pb', 3)");
  auto m = Memory::open(dir.url("v4.db"));
  ASSERT_OK(m);
  EXPECT_EQ(QueryInt(dir.file("v4.db"),
                     "SELECT count(*) FROM sqlite_schema WHERE name = 'pattern_evidence'"),
            0);
  auto pa = (*m)->get_pattern("pa");
  ASSERT_OK(pa);
  EXPECT_EQ(pa->evidence, (std::vector<std::string>{"0190a000-0000-7000-8000-000000000013",
                                                    "0190a000-0000-7000-8000-000000000012",
                                                    "0190a000-0000-7000-8000-000000000011"}));
  PatternFilter f;
  f.domain = "infra";
  auto infra = (*m)->list_patterns(f);
  ASSERT_OK(infra);
  ASSERT_EQ(infra->size(), 1u);
  EXPECT_EQ(infra->front().id, "pa");
  // Deleting episode 3 takes it out of both patterns' evidence.
  ASSERT_OK((*m)->delete_episode("0190a000-0000-7000-8000-000000000013"));
  EXPECT_EQ((*m)->get_pattern("pa")->evidence.size(), 2u);
  EXPECT_TRUE((*m)->get_pattern("pb")->evidence.empty());
  EXPECT_EQ((*m)->get_pattern("pa")->support, 3);  // what was learnt stays
}

TEST(SqliteStore, DataSurvivesReopening) {
  TempDir dir;
  std::string id;
  {
    auto m = Memory::open(dir.url("r.db"));
    ASSERT_OK(m);
    id = ValueOf((*m)->start_episode(EpisodeSpec{"persist", TaskType::kTesting, {}, {}, {}}));
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
  o.sqlite.emplace().synchronous = Synchronous::kFull;
  std::string id;
  {
    auto m = Memory::open(dir.url("full.db"), o);
    ASSERT_OK(m);
    id = ValueOf((*m)->start_episode({"power loss", TaskType::kOther, {}, {}, {}}));
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
