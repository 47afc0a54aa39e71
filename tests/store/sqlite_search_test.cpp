// Recall's ranking on SQLite: engram_bm25 is FTS5's bm25() given the phrase counts, and the
// term counts it is given follow the index as it grows.
#include "store/sqlite_search.h"

#include <fmt/format.h>

#include "test_util.h"

namespace engram::sqlite {
namespace {

class SqliteSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::Open(":memory:", /*create=*/true, std::chrono::milliseconds(1000));
    ASSERT_OK(c);
    conn_ = std::move(*c);
    ASSERT_OK(
        conn_->exec("CREATE VIRTUAL TABLE episode_fts USING fts5(task, reflection, steps, "
                    "tokenize = 'porter unicode61 remove_diacritics 2')"));
    ASSERT_OK(RegisterRanking(*conn_));
  }
  void Add(int64_t rowid, const std::string& task, const std::string& steps) {
    auto st = conn_->cached(
        "INSERT INTO episode_fts (rowid, task, reflection, steps) "
        "VALUES (?, ?, 'worked: tests passed', ?)");
    ASSERT_OK(st);
    (*st)->bind(1, rowid).bind(2, task).bind(3, steps);
    ASSERT_OK((*st)->run());
  }
  int64_t Count(const std::string& match) {
    auto st = conn_->prepare("SELECT count(*) FROM episode_fts WHERE episode_fts MATCH ?");
    EXPECT_TRUE(st.ok());
    st->bind(1, match);
    Status s;
    return st->step(s) ? st->column_int(0) : -1;
  }
  std::unique_ptr<Connection> conn_;
};

TEST_F(SqliteSearch, EngramBm25ScoresEveryRowAsFts5Bm25Does) {
  const char* tasks[] = {"Fix the flaky login test", "Add a login page", "Speed up the test suite",
                         "Fix the flaky download test in CI", "Write the release notes"};
  for (int i = 0; i < 40; ++i) {
    Add(i + 1, tasks[i % 5],
        fmt::format("cargo test {} login {} flaky retry", i, std::string(i % 7, 'x')));
  }
  const std::string match = "\"flaky\" OR \"login\" OR \"notes\"";
  const std::string hits =
      fmt::format("{},{},{}", Count("\"flaky\""), Count("\"login\""), Count("\"notes\""));
  auto st = conn_->prepare(
      "SELECT rowid, bm25(episode_fts, 4.0, 1.0, 1.0), "
      "engram_bm25(episode_fts, 4.0, 1.0, 1.0, ?2) FROM episode_fts WHERE episode_fts MATCH ?1");
  ASSERT_OK(st);
  st->bind(1, match).bind(2, hits);
  Status s;
  int rows = 0;
  while (st->step(s)) {
    ++rows;
    EXPECT_NEAR(st->column_double(1), st->column_double(2), 1e-9) << "rowid " << st->column_int(0);
    EXPECT_LT(st->column_double(2), 0);  // more negative is better, as with bm25()
  }
  ASSERT_OK(s);
  EXPECT_EQ(rows, 40);
}

TEST_F(SqliteSearch, TermCountsAreCountedAgainOnceTheIndexGrew) {
  for (int i = 1; i <= 100; ++i) Add(i, i % 2 ? "flaky test" : "release notes", "cargo");
  TermHits hits;
  auto first = hits.in_index(*conn_, "\"flaky\"", 100);
  ASSERT_OK(first);
  EXPECT_EQ(*first, 50);
  for (int i = 101; i <= 300; ++i) Add(i, "flaky test", "cargo");
  // Within 64 new rowids of the count: the count stands.
  auto cached = hits.in_index(*conn_, "\"flaky\"", 164);
  ASSERT_OK(cached);
  EXPECT_EQ(*cached, 50);
  // Past that: counted again.
  auto fresh = hits.in_index(*conn_, "\"flaky\"", 300);
  ASSERT_OK(fresh);
  EXPECT_EQ(*fresh, 250);
  // In the sample (rowids 201 on): counted again once 16 more were indexed.
  auto sample = hits.in_sample(*conn_, "\"flaky\"", 201, 300);
  ASSERT_OK(sample);
  EXPECT_EQ(*sample, 100);
  for (int i = 301; i <= 320; ++i) Add(i, "release notes", "cargo");
  auto within = hits.in_sample(*conn_, "\"flaky\"", 221, 316);
  ASSERT_OK(within);
  EXPECT_EQ(*within, 100);
  auto recounted = hits.in_sample(*conn_, "\"flaky\"", 221, 320);
  ASSERT_OK(recounted);
  EXPECT_EQ(*recounted, 80);  // 221..300; the 20 new ones do not hold it
}

}  // namespace
}  // namespace engram::sqlite
