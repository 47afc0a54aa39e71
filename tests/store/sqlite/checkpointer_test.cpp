// WAL checkpoints beside the writer: they run on a thread of their own, the WAL stays within
// the writer's limit under a load that never pauses, and nothing written is lost.
#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>

#include <filesystem>
#include <thread>

#include "test_util.h"

namespace engram::sqlite {
namespace {

using engram::testing::TempDir;

constexpr int kPageBytes = 1024;
constexpr int kWalFrameBytes = kPageBytes + 24;  // each frame has a 24-byte header

void OpenWal(const std::string& path, std::unique_ptr<Connection>* out) {
  auto c = Connection::Open(path, /*create=*/true, std::chrono::seconds(5));
  ASSERT_OK(c);
  ASSERT_OK(
      (*c)->exec("PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; "
                 "PRAGMA synchronous = NORMAL"));
  ASSERT_OK((*c)->exec("CREATE TABLE IF NOT EXISTS t (x BLOB)"));
  *out = std::move(*c);
}

// One transaction of `rows` rows of about one page each.
void WriteRows(Connection& c, int rows) {
  ASSERT_OK(c.exec("BEGIN IMMEDIATE"));
  auto st = c.cached("INSERT INTO t (x) VALUES (zeroblob(900))");
  ASSERT_OK(st);
  for (int i = 0; i < rows; ++i) {
    Status s;
    (*st)->step(s);
    ASSERT_OK(s);
    (*st)->reset();
  }
  ASSERT_OK(c.exec("COMMIT"));
}

// A writer connection on a WAL file of its own.
class WalWriter : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenWal(path_, &writer_)); }
  TempDir dir_;
  const std::string path_ = dir_.file("c.db");
  std::unique_ptr<Connection> writer_;
};

TEST_F(WalWriter, CheckpointsBesideTheWriterAndKeepsTheWalBounded) {
  auto checkpointer = Checkpointer::Start(*writer_, std::chrono::seconds(5), "NORMAL");
  ASSERT_OK(checkpointer);

  // 2.5 times the writer's limit, in transactions of 100 pages, without a pause.
  constexpr int kRowsPerCommit = 100;
  const int commits = Checkpointer::kWriterPages * 5 / 2 / kRowsPerCommit;
  uintmax_t largest_wal = 0;
  for (int i = 0; i < commits; ++i) {
    WriteRows(*writer_, kRowsPerCommit);
    largest_wal = std::max(largest_wal, std::filesystem::file_size(path_ + "-wal"));
  }
  // The WAL file keeps the size it once reached; it never went far past the writer's limit.
  const uintmax_t limit =
      uintmax_t{Checkpointer::kWriterPages + 4 * kRowsPerCommit} * kWalFrameBytes + 32;
  EXPECT_LE(largest_wal, limit);
  EXPECT_GT(largest_wal, uintmax_t{Checkpointer::kWakePages} * kWalFrameBytes);
  // The thread did the checkpoints between the writer's.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((*checkpointer)->checkpoints() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE((*checkpointer)->checkpoints(), 1u);

  checkpointer->reset();
  writer_.reset();
  std::unique_ptr<Connection> reader;
  ASSERT_NO_FATAL_FAILURE(OpenWal(path_, &reader));
  auto count = reader->cached("SELECT count(*) FROM t");
  ASSERT_OK(count);
  Status s;
  ASSERT_TRUE((*count)->step(s));
  EXPECT_EQ((*count)->column_int(0), int64_t{commits} * kRowsPerCommit);
  (*count)->reset();
}

TEST_F(WalWriter, GivesTheWriterBackSqlitesOwnCheckpointWhenStopped) {
  {
    auto checkpointer = Checkpointer::Start(*writer_, std::chrono::seconds(5), "NORMAL");
    ASSERT_OK(checkpointer);
  }
  // With the automatic checkpoint back, a commit past 1,000 pages checkpoints and the WAL starts
  // over: 30 commits of 100 pages leave a WAL file of about 1,100 pages, not 3,000.
  for (int i = 0; i < 30; ++i) WriteRows(*writer_, 100);
  EXPECT_LE(std::filesystem::file_size(path_ + "-wal"), uintmax_t{1300} * kWalFrameBytes);
}

}  // namespace
}  // namespace engram::sqlite
