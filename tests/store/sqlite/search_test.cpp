// Recall's ranking on SQLite: engram_bm25f is BM25F over the index's fields, every term of the
// task is matched, and the term counts it is given follow the index as it grows.
#include "store/sqlite/search.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <sstream>

#include "test_util.h"

namespace engram::sqlite {
namespace {

class SqliteSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::Open(":memory:", /*create=*/true, std::chrono::milliseconds(1000));
    ASSERT_OK(c);
    conn_ = std::move(*c);
    ASSERT_OK(RegisterRanking(*conn_));  // and the index's tokenizer
    ASSERT_OK(
        conn_->exec("CREATE VIRTUAL TABLE episode_fts USING fts5(task, user, calls, observations, "
                    "reflection, tokenize = 'engram')"));
  }
  void Add(int64_t rowid, const std::array<std::string, 5>& fields) {
    auto st = conn_->cached(
        "INSERT INTO episode_fts (rowid, task, user, calls, observations, reflection) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    ASSERT_OK(st);
    (*st)->bind(1, rowid);
    for (int f = 0; f < 5; ++f) (*st)->bind(f + 2, fields[static_cast<size_t>(f)]);
    ASSERT_OK((*st)->run());
  }
  int64_t Count(const std::string& match) {
    auto st = conn_->prepare("SELECT count(*) FROM episode_fts WHERE episode_fts MATCH ?");
    EXPECT_TRUE(st.ok());
    st->bind(1, match);
    Status s;
    return st->step(s) ? st->column_int(0) : -1;
  }
  // rowid -> engram_bm25f for the query `match` with these phrase counts.
  std::map<int64_t, double> Rank(const std::string& match, const std::string& hits) {
    auto st = conn_->prepare(
        fmt::format("SELECT rowid, engram_bm25f(episode_fts, {}, ?2) FROM episode_fts "
                    "WHERE episode_fts MATCH ?1",
                    fmt::join(kFieldWeights, ", ")));
    EXPECT_TRUE(st.ok());
    st->bind(1, match).bind(2, hits);
    std::map<int64_t, double> out;
    Status s;
    while (st->step(s)) out[st->column_int(0)] = st->column_double(1);
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }
  std::unique_ptr<Connection> conn_;
};

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// BM25F written out from its definition, over texts of words the porter stemmer leaves alone.
std::map<int64_t, double> ReferenceBm25f(const std::vector<std::array<std::string, 5>>& docs,
                                         const std::vector<std::string>& query) {
  const double k1 = 1.2, b = 0.75, n = static_cast<double>(docs.size());
  std::array<double, 5> mean{};
  for (const auto& d : docs) {
    for (size_t f = 0; f < 5; ++f) mean[f] += static_cast<double>(Words(d[f]).size()) / n;
  }
  std::map<int64_t, double> out;
  for (const auto& term : query) {
    double holding = 0;
    for (const auto& d : docs) {
      bool any = false;
      for (const auto& field : d) {
        for (const auto& w : Words(field)) any = any || w == term;
      }
      holding += any ? 1 : 0;
    }
    const double idf = std::log(1 + (n - holding + 0.5) / (holding + 0.5));
    for (size_t i = 0; i < docs.size(); ++i) {
      double tf = 0;
      for (size_t f = 0; f < 5; ++f) {
        const auto words = Words(docs[i][f]);
        const double count = static_cast<double>(std::count(words.begin(), words.end(), term));
        tf += kFieldWeights[f] * count / (1 - b + b * static_cast<double>(words.size()) / mean[f]);
      }
      if (tf > 0) out[static_cast<int64_t>(i + 1)] -= idf * tf * (k1 + 1) / (tf + k1);
    }
  }
  return out;
}

TEST_F(SqliteSearch, EngramBm25fIsBm25fWrittenOut) {
  std::vector<std::array<std::string, 5>> docs;
  const char* tasks[] = {"alpha beta", "alpha gamma delta", "gamma", "beta beta omega",
                         "delta kappa"};
  for (int i = 0; i < 30; ++i) {
    docs.push_back({tasks[i % 5], i % 3 ? "" : "alpha sigma",
                    fmt::format("cargo {}", std::string(static_cast<size_t>(i % 4), 'x')),
                    i % 4 ? "omega kappa kappa" : "beta", i % 2 ? "gamma" : "sigma omega"});
  }
  for (size_t i = 0; i < docs.size(); ++i) Add(static_cast<int64_t>(i + 1), docs[i]);
  const std::vector<std::string> query = {"alpha", "kappa", "gamma"};
  const std::string hits =
      fmt::format("{},{},{}", Count("\"alpha\""), Count("\"kappa\""), Count("\"gamma\""));
  const auto got = Rank("\"alpha\" OR \"kappa\" OR \"gamma\"", hits);
  const auto want = ReferenceBm25f(docs, query);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [rowid, score] : want) {
    EXPECT_NEAR(got.at(rowid), score, 1e-9) << "rowid " << rowid;
    EXPECT_LT(score, 0);
  }
}

TEST_F(SqliteSearch, AShortTaskIsNotDilutedByALongTranscript) {
  std::string transcript;
  for (int i = 0; i < 500; ++i) transcript += "omega kappa ";
  Add(1, {"alpha beta", "", "cargo", transcript, ""});
  Add(2, {"alpha gamma", "", "cargo", "short", ""});
  Add(3, {"delta", "", "cargo", "short", ""});
  const auto scores = Rank("\"alpha\"", fmt::format("{}", Count("\"alpha\"")));
  ASSERT_EQ(scores.size(), 2u);
  // Both tasks hold the word once in two words: the same score, however long the rest is.
  EXPECT_NEAR(scores.at(1), scores.at(2), 1e-12);
}

TEST_F(SqliteSearch, TermCountsAreCountedAgainOnceTheIndexGrew) {
  for (int i = 1; i <= 100; ++i) {
    Add(i, {i % 2 ? "flaky test" : "release notes", "", "cargo", "", ""});
  }
  TermHits hits;
  auto first = hits.in_index(*conn_, "\"flaky\"", 100, 100);
  ASSERT_OK(first);
  EXPECT_EQ(first->hits, 50);
  for (int i = 101; i <= 300; ++i) Add(i, {"flaky test", "", "cargo", "", ""});
  // Within 64 new rowids of the count: the count stands.
  auto cached = hits.in_index(*conn_, "\"flaky\"", 164, 164);
  ASSERT_OK(cached);
  EXPECT_EQ(cached->hits, 50);
  // Past that: counted again.
  auto fresh = hits.in_index(*conn_, "\"flaky\"", 300, 300);
  ASSERT_OK(fresh);
  EXPECT_EQ(fresh->hits, 250);
}

TEST_F(SqliteSearch, ARareTermsBoundIsItsHighestScore) {
  for (int i = 1; i <= 200; ++i) {
    Add(i, {"release notes", "", "cargo", i % 50 == 0 ? "flaky flaky and more words" : "", ""});
  }
  Add(201, {"a flaky test", "", "cargo", "flaky", ""});
  TermHits hits;
  auto plan = PlanSearch(*conn_, {"flaky"}, hits);
  ASSERT_OK(plan);
  ASSERT_EQ(plan->bounds.size(), 2u);  // "flaky" and its stem
  const TermBound& flaky = plan->bounds[0];
  EXPECT_EQ(flaky.hits, 5);
  ASSERT_GT(flaky.max_frequency, 0);  // held by few: measured
  // The bound is the best episode's score for the term alone, and well under idf × (k1 + 1).
  const auto scores = Rank("\"flaky\"", "5");
  double best = 0;
  for (const auto& [rowid, score] : scores) best = std::max(best, -score);
  EXPECT_NEAR(Bound(flaky, plan->episodes, plan->means), best, 1e-9);
  EXPECT_LT(best, 0.8 * ScoreBound(Idf(201, 5)));
  // A common term is not measured.
  auto notes = hits.in_index(*conn_, "\"notes\"", 201, 201);
  ASSERT_OK(notes);
  EXPECT_LT(notes->max_frequency, 0);
}

TEST_F(SqliteSearch, EveryTermOfTheTaskIsInTheMatch) {
  for (int i = 1; i <= 200; ++i) Add(i, {"flaky login test", "", "cargo test", "", ""});
  Add(201, {"release notes", "", "git", "", ""});
  TermHits hits;
  auto plan = PlanSearch(*conn_, {"flaky", "tests", "test", "notes", "unseen"}, hits);
  ASSERT_OK(plan);
  // Each word as written and as its stem ("tests" and "test" share one); common terms stay
  // in; an unseen one counts 0.
  EXPECT_EQ(plan->match,
            "\"flaky\" OR \"~flaki\" OR \"tests\" OR \"~test\" OR \"test\" OR \"notes\" OR "
            "\"~note\" OR \"unseen\" OR \"~unseen\"");
  EXPECT_EQ(plan->hits, (std::vector<int64_t>{200, 200, 0, 200, 200, 1, 1, 0, 0}));
  EXPECT_EQ(plan->episodes, 201);
}

TEST_F(SqliteSearch, PruningFindsTheSameBestAsScoringEveryMatch) {
  // 3,000 episodes over a vocabulary where some words are in most and some in few.
  std::mt19937_64 rng(5);
  const std::vector<std::string> words = {"alpha", "beta",  "gamma", "delta", "kappa",
                                          "sigma", "omega", "theta", "zeta",  "lambda"};
  auto text = [&](size_t n, size_t spread) {
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      // Low indices are common: the index is the smaller of two draws.
      const size_t w = std::min(rng() % spread, rng() % words.size());
      out += words[w] + " ";
    }
    return out;
  };
  ASSERT_OK(conn_->exec("BEGIN"));
  for (int i = 1; i <= 3000; ++i) {
    Add(i, {text(4, 10), text(rng() % 6, 10), text(3, 6), text(rng() % 40, 10), text(5, 4)});
  }
  ASSERT_OK(conn_->exec("COMMIT"));
  TermHits hits;
  for (const auto& query : std::vector<std::vector<std::string>>{
           {"lambda", "alpha"},
           {"zeta", "theta", "beta", "alpha"},
           {"alpha", "beta"},
           {"lambda", "zeta", "theta", "omega", "sigma", "kappa", "delta", "gamma"}}) {
    auto plan = PlanSearch(*conn_, query, hits);
    ASSERT_OK(plan);
    for (int limit : {1, 5, 100}) {
      size_t searched = 0;
      auto pruned = RankMatches(*conn_, *plan, limit, &searched);
      ASSERT_OK(pruned);
      // Every match scored: the same statement with no pruning.
      auto st = conn_->prepare(
          fmt::format("SELECT rowid, engram_bm25f(episode_fts, {}, ?2) AS score FROM episode_fts "
                      "WHERE episode_fts MATCH ?1 ORDER BY score, rowid DESC LIMIT ?3",
                      fmt::join(kFieldWeights, ", ")));
      ASSERT_OK(st);
      st->bind(1, plan->match).bind(2, fmt::format("{}", fmt::join(plan->hits, ",")));
      st->bind(3, int64_t{limit});
      std::vector<std::pair<double, int64_t>> every;
      Status s;
      while (st->step(s)) every.emplace_back(st->column_double(1), st->column_int(0));
      ASSERT_OK(s);
      ASSERT_EQ(pruned->size(), every.size()) << query[0] << " limit " << limit;
      for (size_t i = 0; i < every.size(); ++i) {
        EXPECT_NEAR((*pruned)[i].first, every[i].first, 1e-9) << query[0] << " " << i;
      }
      if (query.size() == 8 && limit == 1) {
        EXPECT_LT(searched, query.size());  // rare terms decided it: the common ones not read
      }
    }
  }
}

TEST_F(SqliteSearch, PruningScoresEpisodesIndexedSinceABoundWasMeasured) {
  // "seldom" in 20 episodes, in a long task; "faint" in 150, only in what was observed.
  ASSERT_OK(conn_->exec("BEGIN"));
  for (int i = 1; i <= 3000; ++i) {
    Add(i, {i <= 20 ? "seldom and then many more words of a long task" : "other task words", "",
            "cargo", i % 20 == 0 ? "faint observation" : "observation", ""});
  }
  ASSERT_OK(conn_->exec("COMMIT"));
  TermHits hits;
  const std::vector<std::string> words = {"seldom", "faint"};
  ASSERT_OK(PlanSearch(*conn_, words, hits));  // the bounds measured
  // Then, within the counts' slack, episodes where "faint" is the whole task.
  for (int i = 3001; i <= 3010; ++i) Add(i, {"faint faint", "", "cargo", "", ""});
  auto plan = PlanSearch(*conn_, words, hits);
  ASSERT_OK(plan);
  EXPECT_EQ(plan->bounds[2].through, 3000);  // "faint", as measured before
  size_t searched = 0;
  auto pruned = RankMatches(*conn_, *plan, 5, &searched);
  ASSERT_OK(pruned);
  // "seldom" (and its stem) alone searched: by the measured bounds, "faint" could not matter.
  EXPECT_LE(searched, 2u);
  ASSERT_EQ(pruned->size(), 5u);
  for (const auto& [score, rowid] : *pruned) EXPECT_GT(rowid, 3000) << score;
}

}  // namespace
}  // namespace engram::sqlite
