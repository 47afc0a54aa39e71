// The PostgreSQL store outlives its sessions being ended by the server, as a restart, a
// failover or an administrator's pg_terminate_backend ends them: the next call reconnects.
#include <chrono>
#include <thread>

#include "engram/engram.h"
#include "pg_test_util.h"
#include "store/postgres/db.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::PgDatabase;

// Ends every session on `db` but the caller's and waits until the server has closed them.
void EndSessions(const PgDatabase& db) {
  std::string why;
  auto admin = pg::Connection::Open(testing::PostgresServerUrl(&why));
  ASSERT_OK(admin);
  pg::Params name;
  name.add(db.name());
  ASSERT_OK((*admin)->run(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
      "pg_backend_pid()",
      name));
  for (int i = 0; i < 1000; ++i) {
    auto rows = (*admin)->query("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name);
    ASSERT_OK(rows);
    if (rows->integer(0, 0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL() << "the sessions on " << db.name() << " were not closed within 10 s";
}

class PgReconnect : public ::testing::Test {
 protected:
  void SetUp() override {
    ENGRAM_REQUIRE_POSTGRES();
    db_ = std::make_unique<PgDatabase>();
  }
  std::unique_ptr<PgDatabase> db_;
};

TEST_F(PgReconnect, AConnectionTheServerEndedIsNotAlive) {
  auto c = pg::Connection::Open(db_->url());
  ASSERT_OK(c);
  EXPECT_TRUE((*c)->alive());
  EndSessions(*db_);
  EXPECT_FALSE((*c)->alive());
  EXPECT_FALSE((*c)->query("SELECT 1").ok());  // it really was ended
}

TEST_F(PgReconnect, ThePoolReplacesConnectionsTheServerEnded) {
  pg::Pool pool(db_->url(), 2);
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    ASSERT_OK(a);
    ASSERT_OK(b);
  }  // both idle in the pool now
  EndSessions(*db_);
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.acquire();
    ASSERT_OK(lease);
    auto rows = (*lease)->query("SELECT 1");
    ASSERT_OK(rows);
    EXPECT_EQ(rows->integer(0, 0), 1);
  }
}

ExecutionStep Step(int i) {
  ExecutionStep s;
  s.tool = "cargo";
  s.action = "test " + std::to_string(i);
  s.observation = "ok";
  return s;
}

TEST_F(PgReconnect, AMemoryGoesOnAfterItsSessionsAreEnded) {
  auto m = Memory::open(db_->url());
  ASSERT_OK(m);
  EpisodeSpec spec{"Fix the flaky login test", TaskType::kDebugging, {}, {}, {}};
  auto id = (*m)->start_episode(spec);
  ASSERT_OK(id);
  ASSERT_OK((*m)->log_step(*id, Step(1)));
  ASSERT_OK((*m)->get_episode(*id));  // a reader connection in the pool too

  EndSessions(*db_);
  auto second = (*m)->log_step(*id, Step(2));  // the writer reconnects
  ASSERT_OK(second);
  EXPECT_EQ(*second, 2);
  auto e = (*m)->get_episode(*id);  // and so do the readers
  ASSERT_OK(e);
  EXPECT_EQ(e->steps.size(), 2u);

  EndSessions(*db_);
  auto other = (*m)->start_episode(spec);
  ASSERT_OK(other);
  EndSessions(*db_);
  auto done = (*m)->complete_episode(*id, Outcome{OutcomeKind::kSuccess, "fixed", {}, {}, {}});
  ASSERT_OK(done);
  EXPECT_EQ(done->steps.size(), 2u);
  EndSessions(*db_);
  auto recalled = (*m)->recall(RecallQuery{"flaky login test", {}, 5, 200, {}});
  ASSERT_OK(recalled);
  ASSERT_EQ(recalled->episodes.size(), 1u);
  EXPECT_EQ(recalled->episodes[0].id, *id);
}

}  // namespace
}  // namespace engram
