// Recall's index on PostgreSQL: the same BM25F ranking as on SQLite, episodes completed before
// the index existed indexed when a node opens the store, and a deleted episode unindexed.
#include "store/postgres/search.h"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "learn/recall.h"
#include "pg_test_util.h"
#include "store/postgres/schema.h"
#include "store/store.h"
#include "store/url.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::PgDatabase;

constexpr const char* kWords[] = {
    "refund",  "booking", "cancel",  "flight",  "seat",    "upgrade",   "baggage", "passenger",
    "payment", "voucher", "delay",   "economy", "charged", "reserved",  "modify",  "airport",
    "gift",    "card",    "insured", "changes", "change",  "cancelled", "paid",    "routes"};

std::string Words(std::mt19937& rng, int n) {
  std::uniform_int_distribution<size_t> pick(0, std::size(kWords) - 1);
  std::string out;
  for (int i = 0; i < n; ++i) out += std::string(i ? " " : "") + kWords[pick(rng)];
  return out;
}

// `count` completed episodes of made-up text, the same for the same seed.
std::vector<ImportedEpisode> Episodes(int count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<ImportedEpisode> out;
  for (int i = 0; i < count; ++i) {
    ImportedEpisode item;
    item.episode.id = fmt::format("01900000-0000-7000-8000-{:012d}", i);
    item.episode.task = Words(rng, 3 + i % 5);
    item.episode.started_at = "2026-01-01T00:00:00.000Z";
    Completion c;
    c.ended_at = "2026-01-01T00:01:00.000Z";
    c.reward = R"({"total": 0.5})";
    c.reflection = "{}";
    c.pattern_ids = "[]";
    c.steps_text.user = Words(rng, i % 7);
    c.steps_text.calls = Words(rng, 2 + i % 11);
    c.steps_text.observations = Words(rng, 20 + i % 40);
    c.reflection_text = Words(rng, i % 3);
    item.completion = std::move(c);
    out.push_back(std::move(item));
  }
  return out;
}

void Import(Store& store, const std::vector<ImportedEpisode>& items) {
  size_t next = 0;
  auto results = store.import_episodes(
      [&]() -> const ImportedEpisode* { return next < items.size() ? &items[next++] : nullptr; });
  ASSERT_OK(results);
  for (const auto& r : *results) ASSERT_OK(r);
}

TEST(PgSearch, RanksAsSqliteDoes) {
  ENGRAM_REQUIRE_POSTGRES();
  PgDatabase db;
  testing::TempDir dir;
  auto pg = OpenStore(db.url(), Options{});
  auto lite = OpenStore(dir.url("search.db"), Options{});
  ASSERT_OK(pg);
  ASSERT_OK(lite);
  const auto items = Episodes(120, 7);
  Import(**pg, items);
  Import(**lite, items);
  std::mt19937 rng(11);
  for (int q = 0; q < 30; ++q) {
    const auto words = QueryWords(Words(rng, 1 + q % 6));
    auto a = (*lite)->search_episodes(words, 10);
    auto b = (*pg)->search_episodes(words, 10);
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_EQ(a->size(), b->size()) << fmt::format("{}", fmt::join(words, " "));
    ASSERT_FALSE(a->empty());
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_EQ((*a)[i].episode.id, (*b)[i].episode.id) << "rank " << i;
      EXPECT_NEAR((*a)[i].relevance, (*b)[i].relevance, 1e-9 * (*a)[i].relevance) << "rank " << i;
      EXPECT_GT((*b)[i].relevance, 0);
    }
  }
}

TEST(PgSearch, EpisodesCompletedBeforeTheIndexAreIndexedWhenTheStoreOpens) {
  ENGRAM_REQUIRE_POSTGRES();
  PgDatabase db;
  {
    // A store at schema version 1, holding an episode completed then.
    auto c = pg::Connection::Open(db.url(), "SET search_path = engram");
    ASSERT_OK(c);
    ASSERT_OK(pg::MigrateSchema(**c, 1));
    ASSERT_OK((*c)->exec(R"sql(
INSERT INTO episodes (id, task, task_type, status, started_at, ended_at, reflection)
VALUES ('01900000-0000-7000-8000-000000000001', 'Change the flight', 'other', 'completed',
        '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z',
        '{"lessons": ["ask for the booking first"], "score": 1}');
INSERT INTO episodes (id, task, task_type, status, started_at)
VALUES ('01900000-0000-7000-8000-000000000002', 'Still open', 'other', 'open',
        '2026-01-01T00:00:00Z');
INSERT INTO steps (episode_key, step_number, timestamp, tool, action, latency_ms, success,
                   observation) VALUES
  (1, 1, '2026-01-01T00:00:01Z', 'llm', 'reply', 1, true, 'Which booking?'),
  (1, 2, '2026-01-01T00:00:02Z', 'user', 'reply', 0, true, 'Booking ZX81, the later one'),
  (1, 3, '2026-01-01T00:00:03Z', 'get_booking', '{"id": "ZX81"}', 5, true, 'departs at noon');
)sql"));
  }
  auto store = OpenStore(db.url(), Options{});
  ASSERT_OK(store);
  auto c = pg::Connection::Open(db.url(), "SET search_path = engram");
  ASSERT_OK(c);
  auto pending = (*c)->query("SELECT count(*) FROM search_pending");
  ASSERT_OK(pending);
  EXPECT_EQ(pending->integer(0, 0), 0);
  // The fields as StepsText and ReflectionText make them, term for term.
  std::vector<ExecutionStep> steps(3);
  steps[0].tool = "llm", steps[0].action = "reply", steps[0].observation = "Which booking?";
  steps[1].tool = "user", steps[1].action = "reply";
  steps[1].observation = "Booking ZX81, the later one";
  steps[2].tool = "get_booking", steps[2].action = R"({"id": "ZX81"})";
  steps[2].observation = "departs at noon";
  const StepTexts texts = StepsText(steps);
  const std::string reflection =
      ReflectionText(nlohmann::json::parse(R"({"lessons": ["ask for the booking first"]})"));
  auto expected =
      IndexText({"Change the flight", texts.user, texts.calls, texts.observations, reflection});
  ASSERT_OK(expected);
  auto rows = (*c)->query(
      "SELECT term, task, said, calls, observed, reflection FROM search_postings "
      "WHERE episode_key = 1 ORDER BY term");
  ASSERT_OK(rows);
  ASSERT_EQ(static_cast<size_t>(rows->size()), expected->terms.size());
  for (int i = 0; i < rows->size(); ++i) {
    const auto& [term, tf] = expected->terms[static_cast<size_t>(i)];
    EXPECT_EQ(rows->text(i, 0), term);
    for (int f = 0; f < 5; ++f) EXPECT_EQ(rows->integer(i, f + 1), tf[f]) << term;
  }
  auto docs = (*c)->query("SELECT episode_key FROM search_docs");
  ASSERT_OK(docs);
  ASSERT_EQ(docs->size(), 1);  // the open episode waits for its completion
  auto hits = (*store)->search_episodes({"zx81"}, 5);
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].episode.task, "Change the flight");
}

TEST(PgSearch, ADeletedEpisodeLeavesTheIndex) {
  ENGRAM_REQUIRE_POSTGRES();
  PgDatabase db;
  auto store = OpenStore(db.url(), Options{});
  ASSERT_OK(store);
  const auto items = Episodes(3, 5);
  Import(**store, items);
  ASSERT_OK((*store)->delete_episode(items[1].episode.id));
  auto c = pg::Connection::Open(db.url(), "SET search_path = engram");
  ASSERT_OK(c);
  auto left = (*c)->query(
      "SELECT (SELECT count(DISTINCT episode_key) FROM search_postings), "
      "(SELECT count(*) FROM search_docs)");
  ASSERT_OK(left);
  EXPECT_EQ(left->integer(0, 0), 2);
  EXPECT_EQ(left->integer(0, 1), 2);
  const auto words = QueryWords(items[1].episode.task);
  auto hits = (*store)->search_episodes(words, 5);
  ASSERT_OK(hits);
  for (const auto& h : *hits) EXPECT_NE(h.episode.id, items[1].episode.id);
}

}  // namespace
}  // namespace engram
