// engram::migrate between real stores, every direction: what the source holds, the target holds
// after, field for field, and goes on learning from where the source was.
#include <fmt/format.h>

#include <filesystem>

#include "engram/engram.h"
#include "store_param.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::StoreKind;
using testing::TestStores;
using testing::ValueOf;

struct Direction {
  StoreKind from, to;
};

std::string DirectionName(const ::testing::TestParamInfo<Direction>& info) {
  auto name = [](StoreKind k) { return k == StoreKind::kSqlite ? "Sqlite" : "Postgres"; };
  return fmt::format("{}To{}", name(info.param.from), name(info.param.to));
}

ExecutionStep Step(std::string tool, bool success = true, std::string observation = "ok") {
  ExecutionStep s;
  s.tool = std::move(tool);
  s.action = "run";
  s.success = success;
  s.observation = std::move(observation);
  return s;
}

// What a store shows through the library: every episode whole, every pattern with its
// evidence, the statistics.
std::string Snapshot(Memory& m) {
  std::string out;
  EpisodeFilter f;
  f.limit = 10000;
  auto page = m.list_episodes(f);
  EXPECT_TRUE(page.ok());
  if (!page.ok()) return out;
  for (const auto& head : page->episodes) {
    auto e = m.get_episode(head.id);
    EXPECT_TRUE(e.ok());
    if (e.ok()) out += to_json(*e).dump() + "\n";
  }
  auto patterns = m.list_patterns(PatternFilter{});
  EXPECT_TRUE(patterns.ok());
  if (patterns.ok()) {
    for (const auto& p : *patterns) out += to_json(p).dump() + "\n";
  }
  for (const char* domain : {"web", "ops"}) {
    PatternFilter by_domain;
    by_domain.domain = domain;
    auto listed = m.list_patterns(by_domain);
    EXPECT_TRUE(listed.ok());
    if (listed.ok()) out += fmt::format("{}: {} patterns\n", domain, listed->size());
  }
  auto stats = m.stats(StatsFilter{});
  EXPECT_TRUE(stats.ok());
  if (stats.ok()) out += to_json(*stats).dump() + "\n";
  return out;
}

class MigrateTest : public ::testing::TestWithParam<Direction> {
 protected:
  void SetUp() override {
    ENGRAM_REQUIRE_STORE(from_);
    ENGRAM_REQUIRE_STORE(to_);
  }
  std::unique_ptr<Memory> Open(TestStores& stores, const std::string& name) {
    auto m = Memory::open(stores.url(name));
    EXPECT_TRUE(m.ok()) << m.status().message();
    return m.ok() ? std::move(*m) : nullptr;
  }

  TestStores from_{GetParam().from};
  TestStores to_{GetParam().to};
};

// Everything a store can hold: every field of an episode and a step, open and completed
// episodes, a deleted one (so that keys have a gap), decision points, error recoveries and
// patterns in two domains.
void Fill(Memory& m, std::string* open_id, std::string* done_id) {
  EpisodeSpec spec;
  spec.task = "Move the handlers to axum 0.7";
  spec.task_type = TaskType::kRefactoring;
  spec.context = {"web", "rust", "axum", Complexity::kComplex, {"ci", "flaky"}};
  spec.metadata = {{"agent", "claude"}, {"run", {{"n", 3}}}};
  auto done = m.start_episode(spec);
  ASSERT_OK(done);
  ExecutionStep a = Step("cargo", false, "error[E0432]: unresolved import `axum::Server`");
  a.timestamp = "2026-11-20T10:00:00.125Z";
  a.latency_ms = 8200;
  a.parameters = {{"jobs", 4}, {"features", {"full"}}};
  a.metadata = {{"host", "ci-3"}};
  ExecutionStep b = Step("claude");
  b.tokens = 1520;
  ASSERT_OK(m.log_steps(*done, {a, b, Step("cargo")}));
  ASSERT_OK(m.complete_episode(
      *done, Outcome{OutcomeKind::kPartialSuccess, "two of three", {"PR #12"}, {"a", "b"}, {"c"}}));
  *done_id = *done;

  for (int i = 0; i < 8; ++i) {
    EpisodeSpec deploy;
    deploy.task = fmt::format("Deploy release {} to staging", i);
    deploy.task_type = TaskType::kTesting;
    deploy.context.domain = i % 2 ? "ops" : "web";
    auto id = m.start_episode(deploy);
    ASSERT_OK(id);
    // After `git`, sometimes `make`, sometimes `docker`: a decision point with two branches.
    std::vector<ExecutionStep> steps = {Step("git"), Step(i % 3 ? "make" : "docker", i % 4 != 0),
                                        Step("kubectl", i % 3 != 0, "timeout after 30s")};
    if (i % 3 == 0) steps.push_back(Step("kubectl"));
    ASSERT_OK(m.log_steps(*id, steps));
    ASSERT_OK(m.complete_episode(
        *id, Outcome{i % 4 ? OutcomeKind::kSuccess : OutcomeKind::kFailure, "", {}, {}, {}}));
    if (i == 2) ASSERT_OK(m.delete_episode(*id));
  }
  auto open = m.start_episode(EpisodeSpec{"still open", TaskType::kOther, {}, {}, {}});
  ASSERT_OK(open);
  ASSERT_OK(m.log_step(*open, Step("git")));
  ASSERT_OK(m.name_episode(*open, "session:still-open"));
  ASSERT_OK(m.name_episode(*done, "otel.trace:0af7651916cd43dd8448eb211c80319c"));
  ASSERT_OK(m.name_episode(*done, "otel.conversation:c-1"));
  *open_id = *open;
}

TEST_P(MigrateTest, CopiesEveryEpisodeStepAndPatternAndTheCopyLearnsOn) {
  auto source = Open(from_, "a.db");
  ASSERT_TRUE(source);
  std::string open, done;
  ASSERT_NO_FATAL_FAILURE(Fill(*source, &open, &done));
  const std::string before = Snapshot(*source);

  std::vector<std::pair<int64_t, int64_t>> progress;
  MigrateOptions options;
  options.progress = [&](int64_t copied, int64_t total) { progress.emplace_back(copied, total); };
  auto report = migrate(from_.url("a.db"), to_.url("b.db"), options);
  ASSERT_OK(report);
  ASSERT_EQ(report->tables.size(), 6u);
  for (const auto& t : report->tables) {
    EXPECT_EQ(t.source, t.target) << t.table;
    EXPECT_GT(t.source, 0) << t.table;
  }
  EXPECT_EQ(report->tables[0].table, "episodes");
  EXPECT_EQ(report->tables[0].target, 9);  // 1 + 8 - 1 deleted + 1 open
  EXPECT_EQ(report->tables[1].table, "steps");
  EXPECT_EQ(report->tables[1].target, 28);  // 3, 8 x 3 + 3 retried, 3 deleted, 1 open
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), std::make_pair(int64_t{9}, int64_t{9}));

  auto target = Open(to_, "b.db");
  ASSERT_TRUE(target);
  EXPECT_EQ(Snapshot(*target), before);  // nothing lost, nothing changed
  EXPECT_EQ(report->tables[5].table, "episode_names");
  EXPECT_EQ(report->tables[5].target, 3);
  EXPECT_EQ(ValueOf(target->find_named_episode("session:still-open")).id, open);
  EXPECT_EQ(ValueOf(target->find_named_episode("otel.conversation:c-1")).id, done);

  // The copy goes on where the source was: the open episode takes its next step number, and
  // the same new episode learnt on both sides leaves both with the same patterns.
  ExecutionStep next = Step("git");
  next.timestamp = "2026-11-24T10:00:01Z";  // the same on both sides
  auto n = target->log_step(open, next);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 2);
  ASSERT_OK(source->log_step(open, next));
  for (Memory* m : {source.get(), target.get()}) {
    Episode e;
    e.id = "0190a000-0000-7000-8000-000000000001";
    e.task = "Deploy release 9 to staging";
    e.task_type = TaskType::kTesting;
    e.context.domain = "web";
    e.steps = {Step("git"), Step("make"), Step("kubectl")};
    for (auto& step : e.steps) step.timestamp = "2026-11-24T10:01:00Z";
    e.status = EpisodeStatus::kCompleted;
    e.outcome = Outcome{};
    e.started_at = "2026-11-24T10:00:00Z";
    e.ended_at = "2026-11-24T10:05:00Z";
    auto imported = m->import_episodes({e});
    ASSERT_OK(imported);
    ASSERT_OK((*imported)[0]);
  }
  EXPECT_EQ(Snapshot(*target), Snapshot(*source));
  // A completed copy is recalled.
  auto r = target->recall(RecallQuery{"axum handlers", {}, 3, 500, {}});
  ASSERT_OK(r);
  ASSERT_FALSE(r->episodes.empty());
  EXPECT_EQ(r->episodes[0].id, done);
}

TEST_P(MigrateTest, RefusesATargetThatHoldsEpisodesAndLeavesItAsItWas) {
  auto source = Open(from_, "a.db");
  ASSERT_TRUE(source);
  ASSERT_OK(source->start_episode(EpisodeSpec{"in the source", TaskType::kOther, {}, {}, {}}));
  auto target = Open(to_, "b.db");
  ASSERT_TRUE(target);
  ASSERT_OK(target->start_episode(EpisodeSpec{"already here", TaskType::kOther, {}, {}, {}}));
  const std::string before = Snapshot(*target);
  auto report = migrate(from_.url("a.db"), to_.url("b.db"));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(report.status().message().find(
                "already holds 1 episodes and 0 patterns; migrate copies into an empty store"),
            std::string::npos)
      << report.status().message();
  EXPECT_EQ(Snapshot(*target), before);
}

TEST_P(MigrateTest, ReportsASourceThatChangesDuringTheCopy) {
  auto source = Open(from_, "a.db");
  ASSERT_TRUE(source);
  std::vector<Episode> many;
  for (int i = 0; i < 600; ++i) {  // more than one transaction's worth
    Episode e;
    e.task = fmt::format("task {}", i);
    e.steps = {Step("git")};
    many.push_back(std::move(e));
  }
  ASSERT_OK(source->import_episodes(many));
  MigrateOptions options;
  bool written = false;
  options.progress = [&](int64_t, int64_t) {
    if (written) return;
    written = true;
    auto id = source->start_episode(EpisodeSpec{"arrives mid-copy", TaskType::kOther, {}, {}, {}});
    ASSERT_OK(id);
  };
  auto report = migrate(from_.url("a.db"), to_.url("b.db"), options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("changed during the copy (episodes: 600 before, 601 "
                                           "after); stop every writer of it"),
            std::string::npos)
      << report.status().message();
}

const Direction kDirections[] = {{StoreKind::kSqlite, StoreKind::kPostgres},
                                 {StoreKind::kPostgres, StoreKind::kSqlite},
                                 {StoreKind::kSqlite, StoreKind::kSqlite},
                                 {StoreKind::kPostgres, StoreKind::kPostgres}};
INSTANTIATE_TEST_SUITE_P(Stores, MigrateTest, ::testing::ValuesIn(kDirections), DirectionName);

TEST(Migrate, RejectsWhatCannotBeCopied) {
  testing::TempDir dir;
  const std::string a = dir.url("a.db"), b = dir.url("b.db");
  ASSERT_OK(Memory::open(a));

  auto same = migrate(a, a);
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.status().message(), "--from and --to name the same store: " + a);

  auto memory = migrate(a, "sqlite::memory:");
  ASSERT_FALSE(memory.ok());
  EXPECT_EQ(memory.status().message(),
            "--to sqlite::memory: is a database of this process alone; migrate copies between "
            "stored ones");

  const std::string missing = dir.url("missing.db");
  auto none = migrate(missing, b);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "b.db"));  // nothing created

  auto empty = migrate("", b);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "--from is empty");

  // Passwords stay out of messages, in URLs and in libpq's key=value strings.
  for (const std::string to :
       {"postgres://engram:s3cret@127.0.0.1:1/db?connect_timeout=2",
        "postgres://engram@127.0.0.1:1/db?password=s3cret&connect_timeout=2",
        "host=127.0.0.1 port=1 connect_timeout=2 password='s3 cret' dbname=db"}) {
    auto unreachable = migrate(a, to);
    ASSERT_FALSE(unreachable.ok());
    EXPECT_EQ(unreachable.status().code(), Status::Code::kIOError);
    EXPECT_EQ(unreachable.status().message().find("s3"), std::string::npos)
        << unreachable.status().message();
    EXPECT_NE(unreachable.status().message().find("***"), std::string::npos)
        << unreachable.status().message();
  }
}

}  // namespace
}  // namespace engram
