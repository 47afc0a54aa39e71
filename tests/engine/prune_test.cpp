// Memory::prune and retention, on a real SQLite file and a real PostgreSQL database: what
// matches goes whole (steps, search index, names, pattern evidence), what does not stays, a
// dry run removes nothing, writers go on during a large prune, and the space comes back.
#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "engram/engram.h"
#include "store_param.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::ValueOf;

ExecutionStep Step(std::string tool, std::string observation = "ok", bool success = true) {
  ExecutionStep s;
  s.tool = std::move(tool);
  s.action = "run " + s.tool;
  s.observation = std::move(observation);
  s.success = success;
  return s;
}

// An episode to import, id numbered `n`, started on `started_at`.
Episode Old(size_t n, std::string started_at, std::string task, std::string domain,
            std::optional<OutcomeKind> outcome) {
  Episode e;
  e.id = fmt::format("0190a000-0000-7000-8000-{:012}", n);
  e.task = std::move(task);
  e.context.domain = std::move(domain);
  e.started_at = started_at;
  e.steps = {Step("cargo", "error[E0308]: mismatched types", false), Step("edit"), Step("cargo")};
  for (auto& s : e.steps) s.timestamp = started_at;
  if (outcome) {
    e.status = EpisodeStatus::kCompleted;
    e.ended_at = started_at;
    e.outcome = Outcome{*outcome, "done", {}, {}, {}};
  }
  return e;
}

class PruneTest : public testing::OnEachStore {
 protected:
  void SetUp() override {
    ENGRAM_REQUIRE_STORE(stores_);
    Open();
  }
  void Open(Options options = {}) {
    memory_.reset();
    auto m = Memory::open(stores_.url("p.db"), std::move(options));
    ASSERT_OK(m);
    memory_ = std::move(*m);
  }
  // Four old episodes (2025) and one of now.
  void Fill() {
    std::vector<Episode> episodes = {
        Old(1, "2025-01-10T00:00:00.000Z", "fix the parser crash on empty input", "cli",
            OutcomeKind::kSuccess),
        Old(2, "2025-02-10T00:00:00.000Z", "deploy the web frontend", "web", OutcomeKind::kFailure),
        Old(3, "2025-03-10T00:00:00.000Z", "an abandoned refactor", "cli", std::nullopt),
        Old(4, "2025-04-10T00:00:00.000Z", "tune the web cache", "web", OutcomeKind::kSuccess),
    };
    for (const Status& s : ValueOf(memory_->import_episodes(episodes))) ASSERT_OK(s);
    ASSERT_OK(memory_->name_episode(Id(3), "session:abandoned"));
    EpisodeSpec spec;
    spec.task = "fix the parser crash again";
    spec.context.domain = "cli";
    recent_ = ValueOf(memory_->start_episode(spec));
    ASSERT_OK(memory_->log_step(recent_, Step("cargo")));
    ASSERT_OK(memory_->complete_episode(recent_, Outcome{}));
  }
  static std::string Id(size_t n) { return fmt::format("0190a000-0000-7000-8000-{:012}", n); }
  std::set<std::string> Ids() {
    EpisodeFilter f;
    f.limit = 1000;
    std::set<std::string> out;
    for (const auto& e : ValueOf(memory_->list_episodes(f)).episodes) out.insert(e.id);
    return out;
  }

  std::unique_ptr<Memory> memory_;
  std::string recent_;
};

PruneFilter OlderThan(std::chrono::seconds age) {
  PruneFilter f;
  f.older_than = age;
  return f;
}

constexpr auto kMonth = std::chrono::hours(24 * 30);

TEST_P(PruneTest, ADryRunCountsWhatWouldGoAndRemovesNothing) {
  Fill();
  PruneFilter f = OlderThan(kMonth);
  f.dry_run = true;
  const PruneResult r = ValueOf(memory_->prune(f));
  EXPECT_TRUE(r.dry_run);
  EXPECT_EQ(r.episodes, 4);
  EXPECT_EQ(r.steps, 12);
  EXPECT_EQ(r.by_status, (std::map<std::string, int64_t>{{"completed", 3}, {"open", 1}}));
  EXPECT_EQ(r.by_outcome, (std::map<std::string, int64_t>{{"failure", 1}, {"success", 2}}));
  EXPECT_EQ(r.oldest, "2025-01-10T00:00:00.000Z");
  EXPECT_EQ(r.newest, "2025-04-10T00:00:00.000Z");
  EXPECT_EQ(Ids().size(), 5u);
}

TEST_P(PruneTest, RemovesWhatMatchesEachFilterAndNothingElse) {
  Fill();
  PruneFilter failed = OlderThan(kMonth);
  failed.outcome = OutcomeKind::kFailure;
  PruneResult r = ValueOf(memory_->prune(failed));
  EXPECT_FALSE(r.dry_run);
  EXPECT_EQ(r.episodes, 1);
  EXPECT_EQ(r.steps, 3);
  EXPECT_TRUE(memory_->get_episode(Id(2)).status().IsNotFound());

  PruneFilter open = OlderThan(kMonth);
  open.status = EpisodeStatus::kOpen;
  EXPECT_EQ(ValueOf(memory_->prune(open)).episodes, 1);
  EXPECT_TRUE(memory_->get_episode(Id(3)).status().IsNotFound());

  PruneFilter cli = OlderThan(kMonth);
  cli.domain = "cli";
  r = ValueOf(memory_->prune(cli));
  EXPECT_EQ(r.episodes, 1);
  EXPECT_EQ(r.by_outcome, (std::map<std::string, int64_t>{{"success", 1}}));
  // The web success of April and the recent cli episode stay.
  EXPECT_EQ(Ids(), (std::set<std::string>{Id(4), recent_}));
}

TEST_P(PruneTest, ARemovedEpisodeLeavesNoTraceInRecallNamesOrEvidence) {
  Fill();
  auto before = ValueOf(memory_->list_patterns({}));
  ASSERT_FALSE(before.empty());
  const PruneResult r = ValueOf(memory_->prune(OlderThan(kMonth)));
  EXPECT_EQ(r.episodes, 4);
  EXPECT_EQ(Ids(), std::set<std::string>{recent_});

  // Recall finds only what is left.
  RecallQuery q;
  q.task = "fix the parser crash on empty input";
  q.k = 10;
  for (const auto& e : ValueOf(memory_->recall(q)).episodes) EXPECT_EQ(e.id, recent_);
  // The patterns keep what was learnt, and their evidence names only episodes that exist.
  auto after = ValueOf(memory_->list_patterns({}));
  EXPECT_EQ(after.size(), before.size());
  for (const Pattern& p : after) {
    for (const std::string& id : p.evidence) EXPECT_EQ(id, recent_) << p.id;
  }
  // The name of the removed open episode is free again.
  EpisodeSpec spec;
  spec.task = "a new session";
  const NamedEpisode named = ValueOf(memory_->start_named_episode("session:abandoned", spec));
  EXPECT_TRUE(named.started);
  EXPECT_NE(named.id, Id(3));
}

TEST_P(PruneTest, AnOpenEpisodeOfThisProcessTakesNoMoreStepsOnceRemoved) {
  const std::string id = ValueOf(memory_->start_episode(EpisodeSpec{"live", {}, {}, {}, {}}));
  ASSERT_OK(memory_->log_step(id, Step("bash")));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // started before "now", not at it
  EXPECT_EQ(ValueOf(memory_->prune(OlderThan(std::chrono::seconds(0)))).episodes, 1);
  EXPECT_TRUE(memory_->log_step(id, Step("bash")).status().IsNotFound());
  EXPECT_TRUE(memory_->get_episode(id).status().IsNotFound());
}

TEST_P(PruneTest, RefusesAnAgeOutOfRangeOrFiltersThatCannotMatch) {
  Status s = memory_->prune(OlderThan(std::chrono::seconds(-1))).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(),
            fmt::format("older_than must be from 0 to {} seconds, got -1", kMaxPruneAge.count()));
  EXPECT_TRUE(memory_->prune(OlderThan(kMaxPruneAge + std::chrono::seconds(1)))
                  .status()
                  .IsInvalidArgument());
  PruneFilter f = OlderThan(kMonth);
  f.status = EpisodeStatus::kOpen;
  f.outcome = OutcomeKind::kSuccess;
  s = memory_->prune(f).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("outcome"), std::string::npos) << s.message();
}

// Thousands of episodes go in many short batches while another thread keeps logging steps:
// every step is kept, every old episode goes, and the new one stays.
TEST_P(PruneTest, WritersGoOnDuringALargePrune) {
  constexpr size_t kOld = 3000;
  std::vector<Episode> old;
  for (size_t i = 0; i < kOld; ++i) {
    old.push_back(Old(100 + i,
                      fmt::format("2024-{:02}-{:02}T00:00:00.000Z", 1 + i % 12, 1 + i % 28),
                      fmt::format("task {}", i), i % 2 ? "cli" : "web",
                      i % 3 ? std::optional(OutcomeKind::kSuccess) : std::nullopt));
  }
  for (const Status& s : ValueOf(memory_->import_episodes(std::move(old)))) ASSERT_OK(s);
  const std::string live = ValueOf(memory_->start_episode(EpisodeSpec{"live", {}, {}, {}, {}}));
  std::atomic<bool> pruning{true};
  int64_t logged = 0;
  std::thread writer([&] {
    while (pruning.load() || logged < 50) {
      ASSERT_OK(memory_->log_step(live, Step("bash")));
      ++logged;
    }
  });
  const PruneResult r = ValueOf(memory_->prune(OlderThan(kMonth)));
  pruning = false;
  writer.join();
  EXPECT_EQ(r.episodes, static_cast<int64_t>(kOld));
  EXPECT_EQ(r.steps, static_cast<int64_t>(kOld * 3));
  EXPECT_EQ(Ids(), std::set<std::string>{live});
  EXPECT_EQ(static_cast<int64_t>(ValueOf(memory_->get_episode(live)).steps.size()), logged);
  const PruneMetrics m = memory_->prune_metrics();
  EXPECT_EQ(m.runs, 1u);
  EXPECT_EQ(m.episodes, kOld);
  EXPECT_EQ(m.steps, kOld * 3);
}

TEST_P(PruneTest, RetentionPrunesWhenTheMemoryOpensAndAgainEveryPeriod) {
  Fill();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<PruneResult>> runs;
  Options options;
  options.retention =
      RetentionOptions{kMonth, std::chrono::milliseconds(50), [&](const Result<PruneResult>& r) {
                         std::lock_guard lock(mu);
                         runs.push_back(r);
                         cv.notify_all();
                       }};
  Open(options);
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return runs.size() >= 3; }));
    ASSERT_OK(runs[0]);
    EXPECT_EQ(runs[0]->episodes, 4);
    ASSERT_OK(runs[1]);
    EXPECT_EQ(runs[1]->episodes, 0);
  }
  EXPECT_EQ(Ids(), std::set<std::string>{recent_});
  const PruneMetrics m = memory_->prune_metrics();
  EXPECT_GE(m.retention_runs, 3u);
  EXPECT_EQ(m.episodes, 4u);
  EXPECT_GT(m.retention_last_run, 0);
  ASSERT_OK(memory_->close());  // the retention thread ends with the Memory
}

TEST_P(PruneTest, RetentionOptionsOutOfRangeAreRefusedAtOpen) {
  Options options;
  options.retention = RetentionOptions{std::chrono::seconds(-5), std::chrono::hours(1), nullptr};
  auto m = Memory::open(stores_.url("other.db"), options);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            fmt::format("retention.older_than must be from 0 to {} seconds, got -5",
                        kMaxPruneAge.count()));
  options.retention = RetentionOptions{kMonth, std::chrono::milliseconds(0), nullptr};
  m = Memory::open(stores_.url("other.db"), options);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "retention.every must be above 0 ms, got 0 ms");
}

ENGRAM_ON_BOTH_STORES(PruneTest);

// A SQLite file engram creates gives the pages a prune frees back to the file system.
TEST(PruneSpaceTest, ANewSqliteFileShrinksAfterAPrune) {
  testing::TempDir dir;
  const std::string path = dir.file("space.db");
  auto memory = ValueOf(Memory::open("sqlite://" + path));
  std::vector<Episode> old;
  const std::string bulky(16 * 1024, 'x');
  for (size_t i = 0; i < 400; ++i) {
    Episode e =
        Old(i, "2024-05-01T00:00:00.000Z", fmt::format("task {}", i), "cli", OutcomeKind::kSuccess);
    for (auto& s : e.steps) s.observation = bulky;
    old.push_back(std::move(e));
  }
  for (const Status& s : ValueOf(memory->import_episodes(std::move(old)))) ASSERT_OK(s);
  ASSERT_OK(memory->flush());
  // What the store takes on disk: the file and its write-ahead log.
  auto on_disk = [&] {
    std::error_code ec;
    const auto wal = std::filesystem::file_size(path + "-wal", ec);
    return std::filesystem::file_size(path) + (ec ? 0 : wal);
  };
  const auto full = on_disk();
  const PruneResult r = ValueOf(memory->prune(OlderThan(kMonth)));
  EXPECT_EQ(r.episodes, 400);
  // About 19 MB of observations; most of it back to the file system, little left free.
  EXPECT_GT(r.bytes_released, 10 << 20);
  EXPECT_LT(r.bytes_free, 1 << 20);
  memory.reset();  // the last connection checkpoints the WAL into the file and removes it
  EXPECT_LT(on_disk(), full / 3) << "was " << full;
}

}  // namespace
}  // namespace engram
