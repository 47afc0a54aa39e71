// The libpq layer against a real PostgreSQL server: parameters and results as text, COPY,
// errors as Status values, and the pool's limit.
#include "store/postgres/db.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "pg_test_util.h"
#include "test_util.h"

namespace engram::pg {
namespace {

using engram::testing::PgDatabase;

class PgDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ENGRAM_REQUIRE_POSTGRES();
    db_ = std::make_unique<PgDatabase>();
    auto c = Connection::Open(db_->url());
    ASSERT_OK(c);
    conn_ = std::move(*c);
  }
  std::unique_ptr<PgDatabase> db_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(PgDbTest, ParametersAndResultsKeepTheirValues) {
  ASSERT_OK(conn_->exec("CREATE TABLE t (s TEXT, n BIGINT, b BOOLEAN, r DOUBLE PRECISION)"));
  const std::string text = "tab\there, newline\nthere, backslash \\ and \xc3\xa9\xe2\x82\xac";
  ASSERT_OK(conn_->run("INSERT INTO t VALUES ($1, $2, $3, $4)",
                       Params().add(text).add(int64_t{-9007199254740993}).add(true).add(0.25)));
  ASSERT_OK(
      conn_->run("INSERT INTO t VALUES ($1, $2, $3, $4)", Params()
                                                              .add(std::optional<std::string>())
                                                              .add(std::optional<int64_t>())
                                                              .add(false)
                                                              .add(std::nullopt)));
  // The same statement again: prepared once, run twice.
  auto rows = conn_->query("SELECT s, n, b, r FROM t ORDER BY b DESC");
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->text(0, 0), text);
  EXPECT_EQ(rows->integer(0, 1), -9007199254740993);
  EXPECT_TRUE(rows->boolean(0, 2));
  EXPECT_EQ(rows->real(0, 3), 0.25);
  EXPECT_FALSE(rows->optional_text(1, 0).has_value());
  EXPECT_TRUE(rows->null(1, 1));
  EXPECT_FALSE(rows->boolean(1, 2));
  auto again = conn_->query("SELECT s, n, b, r FROM t ORDER BY b DESC");
  ASSERT_OK(again);
  EXPECT_EQ(again->size(), 2);
}

TEST_F(PgDbTest, StreamedRowsArriveOneAtATimeAndAnErrorMidwayIsReported) {
  std::vector<int64_t> seen;
  ASSERT_OK(conn_->stream("SELECT g, g * $1 FROM generate_series(1, 5000) g",
                          Params().add(int64_t{2}), [&](const Row& row) {
                            EXPECT_EQ(row.column_int(1), row.column_int(0) * 2);
                            seen.push_back(row.column_int(0));
                          }));
  ASSERT_EQ(seen.size(), 5000u);
  EXPECT_EQ(seen.front(), 1);
  EXPECT_EQ(seen.back(), 5000);

  // The server fails at the third row: the rows before it were handed over, the error is
  // returned, and the connection takes the next statement.
  seen.clear();
  Status s = conn_->stream("SELECT 10 / (3 - g) FROM generate_series(1, 5) g", Params(),
                           [&](const Row& row) { seen.push_back(row.column_int(0)); });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("division by zero"), std::string::npos) << s.message();
  EXPECT_EQ(seen, (std::vector<int64_t>{5, 10}));
  auto rows = conn_->query("SELECT 1");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->integer(0, 0), 1);
}

TEST_F(PgDbTest, CopyTakesEscapedText) {
  ASSERT_OK(conn_->exec("CREATE TABLE t (k BIGINT, s TEXT)"));
  std::string rows;
  const std::string tricky = "a\tb\nc\\d\re";
  for (int i = 0; i < 3; ++i) {
    rows += std::to_string(i) + "\t";
    AppendCopyText(rows, tricky + std::to_string(i));
    rows += "\n";
  }
  ASSERT_OK(conn_->copy_in("t (k, s)", rows));
  auto back = conn_->query("SELECT s FROM t ORDER BY k");
  ASSERT_OK(back);
  ASSERT_EQ(back->size(), 3);
  EXPECT_EQ(back->text(2, 0), tricky + "2");
  // A bad row fails the COPY whole, and says where.
  Status bad = conn_->copy_in("t (k, s)", "x\ty\n");
  EXPECT_TRUE(bad.IsIOError()) << bad.message();
  EXPECT_NE(bad.message().find("invalid input syntax for type bigint"), std::string::npos)
      << bad.message();
  EXPECT_EQ(conn_->query("SELECT count(*) FROM t")->integer(0, 0), 3);
}

TEST_F(PgDbTest, ErrorsSayWhatTheServerSaid) {
  ASSERT_OK(conn_->exec("CREATE TABLE t (k BIGINT PRIMARY KEY)"));
  ASSERT_OK(conn_->run("INSERT INTO t VALUES ($1)", Params().add(int64_t{1})));
  Status dup = conn_->run("INSERT INTO t VALUES ($1)", Params().add(int64_t{1}));
  EXPECT_TRUE(dup.IsAlreadyExists()) << dup.message();
  EXPECT_NE(dup.message().find("duplicate key value violates unique constraint"), std::string::npos)
      << dup.message();
  Status syntax = conn_->exec("SELEC 1");
  EXPECT_TRUE(syntax.IsIOError());
  EXPECT_NE(syntax.message().find("syntax error"), std::string::npos) << syntax.message();
  // The connection is still good after errors.
  EXPECT_EQ(conn_->query("SELECT 41 + 1")->integer(0, 0), 42);

  auto refused = Connection::Open("postgres://engram@127.0.0.1:1/none");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsIOError());
  EXPECT_EQ(refused.status().message().rfind("cannot connect to PostgreSQL: ", 0), 0u)
      << refused.status().message();
  // libpq's lines ("Connection refused\n\tIs the server running…") folded into one.
  EXPECT_EQ(refused.status().message().find_first_of("\n\t"), std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("refused Is the server running"), std::string::npos)
      << refused.status().message();
}

// The connect_timeout a connection was opened with, as libpq reports it.
std::string ConnectTimeout(Connection& c) {
  std::string out;
  PQconninfoOption* options = PQconninfo(c.raw());
  for (PQconninfoOption* o = options; o && o->keyword; ++o) {
    if (std::string_view(o->keyword) == "connect_timeout" && o->val) out = o->val;
  }
  PQconninfoFree(options);
  return out;
}

TEST_F(PgDbTest, ConnectingGivesUpAfterTenSecondsUnlessToldOtherwise) {
  EXPECT_EQ(ConnectTimeout(*conn_), "10");  // the URL says nothing of it
  auto url = Connection::Open(db_->url() + "?connect_timeout=3");
  ASSERT_OK(url);
  EXPECT_EQ(ConnectTimeout(**url), "3");
  PGconn* raw = conn_->raw();
  auto keywords =
      Connection::Open(fmt::format("host={} port={} user={} dbname={} connect_timeout=4",
                                   PQhost(raw), PQport(raw), PQuser(raw), PQdb(raw)));
  ASSERT_OK(keywords);
  EXPECT_EQ(ConnectTimeout(**keywords), "4");
  ASSERT_EQ(setenv("PGCONNECT_TIMEOUT", "5", 1), 0);
  auto env = Connection::Open(db_->url());
  unsetenv("PGCONNECT_TIMEOUT");
  ASSERT_OK(env);
  EXPECT_EQ(ConnectTimeout(**env), "5");
}

TEST_F(PgDbTest, ADeadlockIsBusySoTheTransactionCanRunAgain) {
  ASSERT_OK(
      conn_->exec("CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT); "
                  "INSERT INTO t VALUES (1, 0), (2, 0)"));
  auto other = Connection::Open(db_->url());
  ASSERT_OK(other);
  ASSERT_OK(conn_->exec("SET deadlock_timeout = '50ms'; BEGIN"));
  ASSERT_OK((*other)->exec("SET deadlock_timeout = '50ms'; BEGIN"));
  ASSERT_OK(conn_->exec("UPDATE t SET v = 1 WHERE k = 1"));
  ASSERT_OK((*other)->exec("UPDATE t SET v = 2 WHERE k = 2"));
  // Each now waits for the other's row: the server aborts one of them.
  Status first;
  std::thread t([&] { first = conn_->exec("UPDATE t SET v = 1 WHERE k = 2"); });
  Status second = (*other)->exec("UPDATE t SET v = 2 WHERE k = 1");
  t.join();
  const Status& aborted = first.ok() ? second : first;
  EXPECT_TRUE(first.ok() != second.ok());
  EXPECT_TRUE(aborted.IsBusy()) << aborted.message();
  EXPECT_NE(aborted.message().find("deadlock detected"), std::string::npos) << aborted.message();
  (void)conn_->exec("ROLLBACK");
  (void)(*other)->exec("ROLLBACK");
}

TEST_F(PgDbTest, APoolLendsAtMostItsSizeAndReusesConnections) {
  Pool pool(db_->url(), 2);
  auto a = pool.acquire();
  ASSERT_OK(a);
  const int64_t pid_a = (*a)->query("SELECT pg_backend_pid()")->integer(0, 0);
  auto b = pool.acquire();
  ASSERT_OK(b);
  std::atomic<bool> third_got{false};
  std::thread third([&] {
    auto c = pool.acquire();
    EXPECT_TRUE(c.ok());
    third_got = true;
    // The connection a gave back, not a new one.
    EXPECT_EQ((*c)->query("SELECT pg_backend_pid()")->integer(0, 0), pid_a);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(third_got.load());  // both are lent: it waits
  { auto give_back = std::move(*a); }
  third.join();
  EXPECT_TRUE(third_got.load());
}

}  // namespace
}  // namespace engram::pg
