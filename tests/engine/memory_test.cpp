// The Memory API end to end, on a real SQLite file and on a real PostgreSQL database: the
// lifecycle of an episode and every bad-input case of docs/design.md section 3 at the library
// boundary.
#include <fmt/format.h>

#include <numeric>

#include "engram/engram.h"
#include "store_param.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::ValueOf;

class MemoryTest : public testing::OnEachStore {
 protected:
  void SetUp() override {
    ENGRAM_REQUIRE_STORE(stores_);
    Reopen();
  }
  void Reopen(Options options = {}) {
    memory_.reset();
    auto m = Memory::open(stores_.url("m.db"), options);
    ASSERT_OK(m);
    memory_ = std::move(*m);
  }
  std::string Start(std::string task = "fix the build", EpisodeSpec spec = {}) {
    spec.task = std::move(task);
    auto id = memory_->start_episode(spec);
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? *id : "";
  }
  static ExecutionStep Step(std::string tool, bool success = true) {
    ExecutionStep s;
    s.tool = std::move(tool);
    s.action = "run";
    s.success = success;
    return s;
  }

  // A completed episode to import, its id numbered `n`.
  static Episode Completed(size_t n, std::vector<ExecutionStep> steps, std::string domain = "cli") {
    Episode e;
    e.id = fmt::format("0190a000-0000-7000-8000-{:012}", n);
    e.task = "build it";
    e.context.domain = std::move(domain);
    e.steps = std::move(steps);
    e.status = EpisodeStatus::kCompleted;
    e.outcome = Outcome{};
    return e;
  }

  std::unique_ptr<Memory> memory_;
};

TEST_P(MemoryTest, RecordsAnEpisodeAndReadsItBack) {
  EpisodeSpec spec;
  spec.task_type = TaskType::kDebugging;
  spec.context.domain = "cli";
  spec.context.language = "rust";
  spec.context.complexity = Complexity::kModerate;
  spec.context.tags = {"flaky", "ci"};
  spec.metadata = {{"agent", "claude"}};
  const std::string id = Start("fix the flaky test", spec);
  ExecutionStep s = Step("cargo", false);
  s.action = "test --test integration_test";
  s.latency_ms = 8200;
  s.observation = "1 failed";
  s.parameters = {{"jobs", 2}};
  s.metadata = {{"host", "ci-3"}};
  EXPECT_EQ(ValueOf(memory_->log_step(id, s)), 1);
  ExecutionStep g = Step("claude");
  g.tokens = 1234;
  EXPECT_EQ(ValueOf(memory_->log_step(id, g)), 2);

  auto e = memory_->get_episode(id);
  ASSERT_OK(e);
  EXPECT_EQ(e->task, "fix the flaky test");
  EXPECT_EQ(e->task_type, TaskType::kDebugging);
  EXPECT_EQ(e->context.tags, (std::vector<std::string>{"flaky", "ci"}));
  EXPECT_EQ(e->status, EpisodeStatus::kOpen);
  EXPECT_EQ(e->metadata["agent"], "claude");
  ASSERT_EQ(e->steps.size(), 2u);
  EXPECT_EQ(e->steps[0].observation, "1 failed");
  EXPECT_EQ(e->steps[0].parameters["jobs"], 2);
  EXPECT_EQ(e->steps[0].metadata.at("host"), "ci-3");
  EXPECT_FALSE(e->steps[0].success);
  EXPECT_FALSE(e->steps[0].tokens.has_value());
  EXPECT_EQ(e->steps[1].tokens, 1234);
  EXPECT_EQ(e->steps[1].timestamp.size(), 24u);  // 2026-11-24T15:47:00.123Z
}

TEST_P(MemoryTest, ANameFindsItsEpisodeAgain) {
  EpisodeSpec spec;
  spec.task = "answer the user";
  auto first = memory_->start_named_episode("otel.trace:5b8efff7", spec);
  ASSERT_OK(first);
  EXPECT_TRUE(first->started);
  auto again = memory_->start_named_episode("otel.trace:5b8efff7", spec);
  ASSERT_OK(again);
  EXPECT_FALSE(again->started);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(ValueOf(memory_->find_named_episode("otel.trace:5b8efff7")).id, first->id);
  // Steps go to it as to any episode; finding it says how many it has, and its status.
  ExecutionStep s;
  s.tool = "get_weather";
  ASSERT_OK(memory_->log_step(first->id, s));
  ASSERT_OK(memory_->log_step(first->id, s));
  NamedEpisode found = ValueOf(memory_->find_named_episode("otel.trace:5b8efff7"));
  EXPECT_FALSE(found.started);
  EXPECT_EQ(found.steps, 2);
  EXPECT_EQ(found.status, EpisodeStatus::kOpen);
  EXPECT_EQ(found.task, "answer the user");
  EXPECT_EQ(ValueOf(memory_->start_named_episode("otel.trace:5b8efff7", spec)).steps, 2);
  // A second name for the same episode; a name for another one is refused.
  ASSERT_OK(memory_->name_episode(first->id, "otel.conversation:c-1"));
  ASSERT_OK(memory_->name_episode(first->id, "otel.conversation:c-1"));  // again: no change
  EXPECT_EQ(ValueOf(memory_->find_named_episode("otel.conversation:c-1")).id, first->id);
  const std::string other = Start("another task");
  Status taken = memory_->name_episode(other, "otel.conversation:c-1");
  EXPECT_TRUE(taken.IsAlreadyExists()) << taken.message();
  EXPECT_EQ(taken.message(),
            fmt::format("the name \"otel.conversation:c-1\" names another episode, {}", first->id));
  // Unknown names and episodes, bad names.
  EXPECT_TRUE(memory_->find_named_episode("nobody").status().IsNotFound());
  EXPECT_TRUE(memory_->name_episode("0190a000-0000-7000-8000-000000000009", "x").IsNotFound());
  EXPECT_EQ(memory_->start_named_episode("", spec).status().message(), "name is empty");
  EXPECT_EQ(memory_->find_named_episode(std::string(513, 'n')).status().message(),
            "name is 513 bytes, limit 512 bytes");
  // Deleting the episode frees its names.
  ASSERT_OK(memory_->delete_episode(first->id));
  EXPECT_TRUE(memory_->find_named_episode("otel.trace:5b8efff7").status().IsNotFound());
  auto fresh = memory_->start_named_episode("otel.trace:5b8efff7", spec);
  ASSERT_OK(fresh);
  EXPECT_TRUE(fresh->started);
  EXPECT_NE(fresh->id, first->id);
  // Names outlive the Memory that made them.
  Reopen();
  EXPECT_EQ(ValueOf(memory_->find_named_episode("otel.trace:5b8efff7")).id, fresh->id);
}

TEST_P(MemoryTest, AnOpenEpisodeCanBeAmendedAndACompletedOneCannot) {
  EpisodeSpec spec;
  spec.task = "invoke_agent travel";
  spec.context.tags = {"agents"};
  spec.metadata = {{"otel.trace_id", "5b8e"}};
  spec.started_at = "2026-11-24T16:47:00.5+01:00";
  const std::string id = ValueOf(memory_->start_episode(spec));
  EXPECT_EQ(ValueOf(memory_->get_episode(id)).started_at, "2026-11-24T15:47:00.500Z");

  EpisodeAmendment a;
  a.task = "Book a flight to Paris";
  a.started_at = "2026-11-24T15:46:59Z";
  a.domain = "travel-agent";
  a.tags = {"travel", "agents"};
  a.metadata = {{"gen_ai.conversation.id", "conv-1"}};
  ASSERT_OK(memory_->amend_episode(id, a));
  // An amendment of one field (what is unset stays).
  auto amend = [&](auto set) {
    EpisodeAmendment one;
    set(one);
    return memory_->amend_episode(id, one);
  };
  ASSERT_OK(amend([](auto& one) { one.metadata = {{"gen_ai.agent.name", "t"}}; }));
  Episode e = ValueOf(memory_->get_episode(id));
  EXPECT_EQ(e.task, "Book a flight to Paris");
  EXPECT_EQ(e.started_at, "2026-11-24T15:46:59.000Z");
  EXPECT_EQ(e.context.domain, "travel-agent");
  EXPECT_EQ(e.context.tags, (std::vector<std::string>{"agents", "travel"}));
  EXPECT_EQ(e.metadata, (nlohmann::json{{"otel.trace_id", "5b8e"},
                                        {"gen_ai.conversation.id", "conv-1"},
                                        {"gen_ai.agent.name", "t"}}));
  EpisodeFilter by_tag;
  by_tag.tag = "travel";
  ASSERT_EQ(ValueOf(memory_->list_episodes(by_tag)).episodes.size(), 1u);

  // Refusals name the field and the value, and change nothing.
  EXPECT_EQ(amend([](auto& one) { one.task = ""; }).message(), "task is empty");
  EXPECT_EQ(
      amend([](auto& one) { one.started_at = "yesterday"; }).message(),
      "started_at must be an RFC 3339 timestamp like 2026-11-24T15:47:00.123Z, got \"yesterday\"");
  const Status big = amend([](auto& one) {
    one.metadata = {{"blob", std::string(Limits{}.max_parameters_bytes - 40, 'x')}};
  });
  EXPECT_TRUE(big.IsInvalidArgument()) << big.message();
  EXPECT_NE(big.message().find("metadata would be"), std::string::npos) << big.message();
  EXPECT_EQ(ValueOf(memory_->get_episode(id)).metadata.size(), 3u);

  // Completed at the time the caller knows; not before the start.
  auto ending = [](std::string at) {
    CompletionOptions options;
    options.ended_at = std::move(at);
    return options;
  };
  const Status early =
      memory_->complete_episode(id, Outcome{}, ending("2026-11-24T15:40:00Z")).status();
  EXPECT_EQ(early.message(),
            "ended_at 2026-11-24T15:40:00.000Z is before the episode's started_at "
            "2026-11-24T15:46:59.000Z");
  e = ValueOf(memory_->complete_episode(id, Outcome{}, ending("2026-11-24T15:47:04.200Z")));
  EXPECT_EQ(e.ended_at, "2026-11-24T15:47:04.200Z");

  const Status refused = amend([](auto& one) { one.task = "something else"; });
  EXPECT_TRUE(refused.IsFailedPrecondition()) << refused.message();
  EXPECT_EQ(ValueOf(memory_->get_episode(id)).task, "Book a flight to Paris");
  EXPECT_TRUE(memory_->amend_episode("0190a000-0000-7000-8000-000000000009", a).IsNotFound());
}

TEST_P(MemoryTest, StepsThatArrivedOutOfOrderAreNumberedByTimeWhenAsked) {
  const std::string id = Start();
  // Arrival order c, a, d, b; times a < b < c = d (c before d: they keep their order).
  for (const auto& [tool, at] :
       std::vector<std::pair<std::string, std::string>>{{"c", "2026-11-24T15:47:03Z"},
                                                        {"a", "2026-11-24T15:47:01Z"},
                                                        {"d", "2026-11-24T15:47:03Z"},
                                                        {"b", "2026-11-24T15:47:02Z"}}) {
    ExecutionStep step = Step(tool);
    step.timestamp = at;
    ASSERT_OK(memory_->log_step(id, step));
  }
  CompletionOptions options;
  options.order_steps_by_time = true;
  const Episode e = ValueOf(memory_->complete_episode(id, Outcome{}, options));
  std::string tools;
  for (const auto& step : e.steps) tools += fmt::format("{}{} ", step.step_number, step.tool);
  EXPECT_EQ(tools, "1a 2b 3c 4d ");
  EXPECT_EQ(ValueOf(memory_->get_episode(id)).steps.back().tool, "d");
  // Without the option, arrival order stays.
  const std::string kept = Start();
  for (const auto& tool : {"z", "y"}) {
    ExecutionStep step = Step(tool);
    step.timestamp = tool == std::string("z") ? "2026-11-24T15:47:05Z" : "2026-11-24T15:47:04Z";
    ASSERT_OK(memory_->log_step(kept, step));
  }
  EXPECT_EQ(ValueOf(memory_->complete_episode(kept, Outcome{})).steps.front().tool, "z");
}

TEST_P(MemoryTest, CompletingStoresTheOutcomeAndEndsTheEpisode) {
  const std::string id = Start();
  ASSERT_OK(memory_->log_step_async(id, Step("git")));  // flushed by complete
  Outcome o{OutcomeKind::kPartialSuccess, "half done", {"a.rs"}, {"parse"}, {"emit"}};
  auto e = memory_->complete_episode(id, o);
  ASSERT_OK(e);
  EXPECT_EQ(e->status, EpisodeStatus::kCompleted);
  ASSERT_TRUE(e->ended_at.has_value());
  ASSERT_TRUE(e->outcome.has_value());
  EXPECT_EQ(e->outcome->failed, std::vector<std::string>{"emit"});
  EXPECT_EQ(e->steps.size(), 1u);

  auto again = memory_->complete_episode(id, o);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsFailedPrecondition());
  EXPECT_EQ(again.status().message(), "episode " + id + " is already completed");

  auto late = memory_->log_step(id, Step("git"));
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(late.status().IsFailedPrecondition());
  EXPECT_EQ(late.status().message(), "episode " + id + " is completed: it accepts no more steps");
}

TEST_P(MemoryTest, CompletingScoresAndReflectsAndComparesWithSimilarEpisodes) {
  EpisodeSpec spec;
  spec.task_type = TaskType::kDebugging;
  spec.context.domain = "cli";
  const std::string first = Start("fix it", spec);
  ASSERT_OK(memory_->log_steps(first, {Step("cargo", false), Step("claude"), Step("cargo")}));
  auto e = memory_->complete_episode(first, Outcome{});
  ASSERT_OK(e);
  EXPECT_DOUBLE_EQ(e->reward["outcome_base"].get<double>(), 1.0);
  EXPECT_EQ(e->reward["recovered_errors"], 1);
  EXPECT_TRUE(e->reward["efficiency"].is_null());  // nothing to compare with yet
  EXPECT_EQ(e->reflection["worked"][0]["steps"], nlohmann::json::array({1, 2, 3}));

  // The next debugging episode in the same domain is compared with the first.
  const std::string second = Start("fix it again", spec);
  ASSERT_OK(memory_->log_steps(second, {Step("cargo"), Step("cargo"), Step("cargo"), Step("cargo"),
                                        Step("cargo"), Step("cargo")}));
  auto e2 = memory_->complete_episode(second, Outcome{});
  ASSERT_OK(e2);
  EXPECT_EQ(e2->reward["similar_episodes"], 1);
  ASSERT_TRUE(e2->reward["efficiency"].is_number());
  EXPECT_LE(e2->reward["efficiency"].get<double>(), 0.75 + 1e-9);  // 6 steps where 3 did
  // Another domain has no history.
  EpisodeSpec web = spec;
  web.context.domain = "web";
  auto e3 = memory_->complete_episode(Start("web", web), Outcome{});
  EXPECT_EQ(e3->reward["similar_episodes"], 0);
  // Reward and reflection survive reopening.
  Reopen();
  EXPECT_EQ(memory_->get_episode(first)->reflection, e->reflection);
}

TEST_P(MemoryTest, PatternsMergeAcrossEpisodesOneRowEach) {
  EpisodeSpec spec;
  spec.context.domain = "cli";
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(Start("build it", spec));
    ASSERT_OK(memory_->log_steps(
        ids.back(), {Step("git"), Step("cargo", false), Step("claude"), Step("cargo")}));
    Outcome o;
    o.kind = i == 2 ? OutcomeKind::kFailure : OutcomeKind::kSuccess;
    ASSERT_OK(memory_->complete_episode(ids.back(), o));
  }
  PatternFilter f;
  f.type = PatternType::kToolSequence;
  auto patterns = memory_->list_patterns(f);
  ASSERT_OK(patterns);
  const Pattern* seq = nullptr;
  for (const auto& p : *patterns) {
    if (p.description["tools"] == nlohmann::json::array({"cargo", "claude", "cargo"})) seq = &p;
  }
  ASSERT_NE(seq, nullptr);
  EXPECT_EQ(seq->support, 3);
  EXPECT_NEAR(seq->success_rate, 2.0 / 3.0, 1e-9);
  EXPECT_EQ(seq->evidence, (std::vector<std::string>{ids[2], ids[1], ids[0]}));
  int same = 0;
  for (const auto& p : *patterns) same += p.description == seq->description;
  EXPECT_EQ(same, 1);  // one row, not one per episode

  auto shown = memory_->get_pattern(seq->id);
  ASSERT_OK(shown);
  EXPECT_EQ(shown->support, 3);
  EXPECT_TRUE(memory_->get_pattern("p0000000000000000").status().IsNotFound());

  f = {};
  f.type = PatternType::kDecisionPoint;
  f.min_support = 3;
  auto decisions = memory_->list_patterns(f);
  ASSERT_OK(decisions);
  bool found = false;
  for (const auto& p : *decisions) {
    if (p.description["after_tool"] == "cargo" && p.description["after_success"] == false) {
      found = true;
      EXPECT_EQ(p.branches["claude"]["taken"], 3);
      EXPECT_EQ(p.branches["claude"]["succeeded"], 3);
    }
  }
  EXPECT_TRUE(found);
  f = {};
  f.min_success = 0.6;  // every pattern here comes from 2 successes in 3 episodes
  auto good = memory_->list_patterns(f);
  ASSERT_OK(good);
  EXPECT_FALSE(good->empty());
  for (const auto& p : *good) EXPECT_GE(p.success_rate, 0.6);
  f.min_success = 0.7;
  EXPECT_TRUE(memory_->list_patterns(f)->empty());
  f.domain = "web";
  EXPECT_TRUE(memory_->list_patterns(f)->empty());
  f = {};
  f.min_support = 0;
  EXPECT_EQ(memory_->list_patterns(f).status().message(), "min_support must be at least 1, got 0");
  f.min_support = 1;
  f.min_success = 1.5;
  EXPECT_EQ(memory_->list_patterns(f).status().message(),
            "min_success must be between 0 and 1, got 1.5");
}

TEST_P(MemoryTest, PatternEvidenceKeepsTheNewestEpisodesAndForgetsDeletedOnes) {
  // 120 completed episodes in two imports; the last one in domain web, the others in cli.
  std::vector<std::string> ids;
  for (int batch = 0; batch < 2; ++batch) {
    std::vector<Episode> episodes;
    for (int i = 0; i < 60; ++i) {
      episodes.push_back(Completed(ids.size(), {Step("git"), Step("cargo")},
                                   batch == 1 && i == 59 ? "web" : "cli"));
      ids.push_back(episodes.back().id);
    }
    auto results = memory_->import_episodes(episodes);
    ASSERT_OK(results);
    for (const auto& r : *results) ASSERT_OK(r);
  }
  PatternFilter f;
  f.type = PatternType::kToolSequence;
  auto seq = memory_->list_patterns(f);
  ASSERT_OK(seq);
  ASSERT_EQ(seq->size(), 1u);
  const Pattern p = seq->front();
  EXPECT_EQ(p.support, 120);
  ASSERT_EQ(p.evidence.size(), 100u);
  const std::vector<std::string> newest(ids.rbegin(), ids.rbegin() + 100);
  EXPECT_EQ(p.evidence, newest);

  f.domain = "web";
  ASSERT_EQ(memory_->list_patterns(f)->size(), 1u);
  ASSERT_OK(memory_->delete_episode(ids.back()));
  EXPECT_TRUE(memory_->list_patterns(f)->empty());  // no web episode shows it any more
  f.domain = "cli";
  EXPECT_EQ(memory_->list_patterns(f)->size(), 1u);
  auto after = memory_->get_pattern(p.id);
  ASSERT_OK(after);
  EXPECT_EQ(after->support, 120);  // what was learnt from the deleted episode stays
  EXPECT_EQ(after->evidence, std::vector<std::string>(newest.begin() + 1, newest.end()));
}

TEST_P(MemoryTest, ImportScoresEachTransactionAgainstTheEpisodesStoredBeforeIt) {
  // 600 similar episodes in one call: the first transaction (512) has no history, the rest
  // is compared with the 50 most recent of those.
  std::vector<Episode> episodes;
  for (size_t i = 0; i < 600; ++i) episodes.push_back(Completed(i, {Step("cargo")}));
  auto results = memory_->import_episodes(episodes);
  ASSERT_OK(results);
  for (const auto& r : *results) ASSERT_OK(r);
  for (int i : {0, 511, 512, 599}) {
    auto e = memory_->get_episode(episodes[static_cast<size_t>(i)].id);
    ASSERT_OK(e);
    EXPECT_EQ(e->reward["similar_episodes"], i < 512 ? 0 : 50) << i;
    EXPECT_EQ(e->reward["efficiency"].is_null(), i < 512) << i;
  }
}

TEST_P(MemoryTest, StatsCountEveryAcceptedStepWithExactPercentiles) {
  EpisodeSpec spec;
  spec.context.domain = "cli";
  const std::string id = Start("measure", spec);
  for (int i = 1; i <= 100; ++i) {
    ExecutionStep s = Step("cargo", i % 4 != 0);
    s.latency_ms = i;  // 1 … 100 ms
    s.tokens = 2;
    ASSERT_OK(memory_->log_step_async(id, s));  // not waited on: stats must still see them
  }
  ASSERT_OK(memory_->log_step(Start("other"), Step("git")));
  auto st = memory_->stats({});
  ASSERT_OK(st);
  EXPECT_EQ(st->steps, 101);
  ASSERT_EQ(st->tools.size(), 2u);
  const ToolStats& cargo = st->tools[0];
  EXPECT_EQ(cargo.tool, "cargo");
  EXPECT_EQ(cargo.calls, 100);
  EXPECT_DOUBLE_EQ(cargo.success_rate, 0.75);
  EXPECT_EQ(cargo.latency_p50_ms, 50);
  EXPECT_EQ(cargo.latency_p95_ms, 95);
  EXPECT_EQ(cargo.latency_p99_ms, 99);
  EXPECT_EQ(cargo.latency_max_ms, 100);
  EXPECT_EQ(cargo.tokens_total, 200);
  EXPECT_DOUBLE_EQ(cargo.tokens_mean, 2.0);
  ASSERT_EQ(st->slowest_steps.size(), 10u);
  EXPECT_EQ(st->slowest_steps[0].latency_ms, 100);
  EXPECT_EQ(st->slowest_steps[9].latency_ms, 91);
  EXPECT_EQ(st->episodes_by_status["open"], 2);

  StatsFilter f;
  f.domain = "cli";
  EXPECT_EQ(memory_->stats(f)->steps, 100);
  f = {};
  f.tool = "git";
  EXPECT_EQ(memory_->stats(f)->steps, 1);
  f = {};
  f.since = "2200-01-01";
  EXPECT_EQ(memory_->stats(f)->steps, 0);
  f.since = "soon";
  EXPECT_TRUE(memory_->stats(f).status().IsInvalidArgument());
}

// The timeline: steps by when they ran, episodes (and their outcomes) by when they started, in
// the finest span that covers the data in at most kMaxTimelinePoints points, or the one asked.
TEST_P(MemoryTest, StatsTimelineSpansTheDataInMinutesHoursOrDays) {
  auto at = [&](size_t n, const char* started, std::vector<const char*> times, OutcomeKind kind) {
    std::vector<ExecutionStep> steps;
    for (const char* t : times) {
      steps.push_back(Step("bash", steps.size() % 2 == 0));
      steps.back().timestamp = t;
      steps.back().tokens = 5;
    }
    Episode e = Completed(n, std::move(steps));
    e.started_at = started;
    e.outcome->kind = kind;
    return e;
  };
  auto imported = memory_->import_episodes({
      at(1, "2026-03-01T10:00:00.000Z", {"2026-03-01T10:00:05.000Z", "2026-03-01T10:00:40.000Z"},
         OutcomeKind::kSuccess),
      at(2, "2026-03-01T10:02:00.000Z", {"2026-03-01T10:02:30.000Z"}, OutcomeKind::kFailure),
      at(3, "2026-03-01T11:59:00.000Z", {"2026-03-01T11:59:59.999Z"}, OutcomeKind::kSuccess),
  });
  ASSERT_OK(imported);
  for (const auto& r : *imported) ASSERT_OK(r);
  auto st = memory_->stats({});
  ASSERT_OK(st);
  EXPECT_EQ(st->bucket, TimeBucket::kMinute);  // two hours: minutes
  ASSERT_EQ(st->timeline.size(), 3u);          // empty minutes left out
  EXPECT_EQ(st->timeline[0].start, "2026-03-01T10:00:00Z");
  EXPECT_EQ(st->timeline[0].steps, 2);
  EXPECT_EQ(st->timeline[0].failed_steps, 1);
  EXPECT_EQ(st->timeline[0].tokens, 10);
  EXPECT_EQ(st->timeline[0].episodes, 1);
  EXPECT_EQ(st->timeline[1].start, "2026-03-01T10:02:00Z");
  EXPECT_EQ(st->timeline[1].outcomes, (std::map<std::string, int64_t>{{"failure", 1}}));
  EXPECT_EQ(st->timeline[2].start, "2026-03-01T11:59:00Z");

  StatsFilter f;
  f.bucket = TimeBucket::kHour;
  st = memory_->stats(f);
  ASSERT_OK(st);
  ASSERT_EQ(st->timeline.size(), 2u);
  EXPECT_EQ(st->timeline[0].start, "2026-03-01T10:00:00Z");
  EXPECT_EQ(st->timeline[0].steps, 3);
  EXPECT_EQ(st->timeline[0].episodes, 2);
  EXPECT_EQ(st->timeline[0].outcomes,
            (std::map<std::string, int64_t>{{"failure", 1}, {"success", 1}}));
  EXPECT_EQ(st->timeline[1].start, "2026-03-01T11:00:00Z");

  // Four days more: hours; a year more: days.
  ASSERT_OK(memory_->import_episodes(
      {at(4, "2026-03-05T09:00:00.000Z", {"2026-03-05T09:30:00.000Z"}, OutcomeKind::kSuccess)}));
  st = memory_->stats({});
  ASSERT_OK(st);
  EXPECT_EQ(st->bucket, TimeBucket::kHour);
  EXPECT_EQ(st->timeline.size(), 3u);
  EXPECT_EQ(st->timeline.back().start, "2026-03-05T09:00:00Z");
  ASSERT_OK(memory_->import_episodes(
      {at(5, "2027-03-01T00:00:00.000Z", {"2027-03-01T00:00:01.000Z"}, OutcomeKind::kSuccess)}));
  st = memory_->stats({});
  ASSERT_OK(st);
  EXPECT_EQ(st->bucket, TimeBucket::kDay);
  ASSERT_EQ(st->timeline.size(), 3u);
  EXPECT_EQ(st->timeline[0].start, "2026-03-01T00:00:00Z");
  EXPECT_EQ(st->timeline[0].steps, 4);
  EXPECT_EQ(st->timeline[0].episodes, 3);
  int64_t steps = 0;
  for (const auto& b : st->timeline) steps += b.steps;
  EXPECT_EQ(steps, st->steps);
}

// Pages of steps read the accepted steps not yet committed too, as get_episode does.
TEST_P(MemoryTest, StepPagesIncludeTheStepsNotYetCommitted) {
  const std::string id = Start();
  for (int i = 0; i < 45; ++i) ASSERT_OK(memory_->log_step_async(id, Step("cargo", i % 7 != 0)));
  std::vector<int64_t> numbers;
  for (int64_t after = 0;;) {
    auto page = memory_->list_steps(id, StepRange{after, 10});
    ASSERT_OK(page);
    for (const auto& s : page->steps) numbers.push_back(s.step_number);
    if (!page->next_after) break;
    after = *page->next_after;
  }
  std::vector<int64_t> expected(45);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(numbers, expected);
  EXPECT_TRUE(memory_->list_steps(id, StepRange{45, 10})->steps.empty());
  EXPECT_EQ(memory_->list_steps(id, StepRange{0, 0}).status().message(),
            "limit must be between 1 and 10000, got 0");
  EXPECT_TRUE(memory_->list_steps(id, StepRange{-1, 10}).status().IsInvalidArgument());
  EXPECT_TRUE(
      memory_->list_steps("0190a000-0000-7000-8000-000000000999", {}).status().IsNotFound());

  // The totals a list gives, once committed.
  ASSERT_OK(memory_->flush());
  EpisodeFilter f;
  f.ids = {id};
  auto listed = memory_->list_episodes(f);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->episodes.size(), 1u);
  ASSERT_TRUE(listed->episodes[0].totals.has_value());
  EXPECT_EQ(listed->episodes[0].totals->steps, 45);
  EXPECT_EQ(listed->episodes[0].totals->failed_steps, 7);
  f.ids.assign(kMaxListIds + 1, id);
  EXPECT_TRUE(memory_->list_episodes(f).status().IsInvalidArgument());
}

TEST_P(MemoryTest, AnEpisodeWithNoStepsMayComplete) {
  const std::string id = Start();
  auto e =
      memory_->complete_episode(id, Outcome{OutcomeKind::kAbstained, "not my job", {}, {}, {}});
  ASSERT_OK(e);
  EXPECT_TRUE(e->steps.empty());
}

TEST_P(MemoryTest, CompletedStateSurvivesReopening) {
  const std::string id = Start();
  ASSERT_OK(memory_->complete_episode(id, Outcome{}));
  Reopen();
  auto r = memory_->log_step(id, Step("git"));
  EXPECT_TRUE(r.status().IsFailedPrecondition()) << r.status().message();
}

TEST_P(MemoryTest, UnknownAndMalformedIdsAreRejected) {
  auto unknown = memory_->log_step("0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f", Step("git"));
  EXPECT_TRUE(unknown.status().IsNotFound());
  EXPECT_EQ(unknown.status().message(), "episode 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f not found");
  auto malformed = memory_->log_step("not-an-id", Step("git"));
  EXPECT_TRUE(malformed.status().IsInvalidArgument());
  EXPECT_NE(malformed.status().message().find("episode id \"not-an-id\" is malformed"),
            std::string::npos);
  EXPECT_TRUE(memory_->get_episode("nope").status().IsInvalidArgument());
  EXPECT_TRUE(memory_->get_episode("0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f").status().IsNotFound());
  EXPECT_TRUE(memory_->complete_episode("x", Outcome{}).status().IsInvalidArgument());
  EXPECT_TRUE(memory_->delete_episode("0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f").IsNotFound());
}

TEST_P(MemoryTest, IdsAreCaseInsensitive) {
  const std::string id = Start();
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  ASSERT_OK(memory_->log_step(upper, Step("git")));
  EXPECT_EQ(memory_->get_episode(upper)->steps.size(), 1u);
}

TEST_P(MemoryTest, RejectedStepsLeaveNothingBehind) {
  const std::string id = Start();
  ExecutionStep big = Step("cat");
  big.observation = std::string(70000, 'x');
  auto r = memory_->log_step(id, big);
  EXPECT_EQ(r.status().message(), "observation is 70000 bytes, limit 65536 bytes");
  ExecutionStep empty = Step("");
  EXPECT_EQ(memory_->log_step(id, empty).status().message(), "tool is empty");
  // The next good step is number 1: the rejected ones took no number.
  EXPECT_EQ(ValueOf(memory_->log_step(id, Step("git"))), 1);
  EXPECT_EQ(memory_->get_episode(id)->steps.size(), 1u);
}

TEST_P(MemoryTest, LogStepsIsAllOrNothing) {
  const std::string id = Start();
  std::vector<ExecutionStep> steps = {Step("a"), Step("b"), Step(""), Step("d")};
  auto r = memory_->log_steps(id, steps);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "steps[2]: tool is empty");
  EXPECT_TRUE(memory_->get_episode(id)->steps.empty());
  steps[2].tool = "c";
  auto ok = memory_->log_steps(id, steps);
  ASSERT_OK(ok);
  EXPECT_EQ(*ok, (std::vector<int64_t>{1, 2, 3, 4}));
}

TEST_P(MemoryTest, TheStepLimitPerEpisodeIsInclusive) {
  Options o;
  o.limits.max_steps_per_episode = 3;
  Reopen(o);
  const std::string id = Start();
  ASSERT_OK(memory_->log_steps(id, {Step("a"), Step("b")}));
  auto over = memory_->log_steps(id, {Step("c"), Step("d")});
  ASSERT_FALSE(over.ok());
  EXPECT_TRUE(over.status().IsResourceExhausted());
  EXPECT_EQ(over.status().message(),
            "episode " + id + " has 2 steps, limit 3 steps: 2 more do not fit");
  EXPECT_EQ(ValueOf(memory_->log_step(id, Step("c"))), 3);  // exactly the limit is accepted
  EXPECT_TRUE(memory_->log_step(id, Step("d")).status().IsResourceExhausted());
  EXPECT_EQ(memory_->get_episode(id)->steps.size(), 3u);
}

TEST_P(MemoryTest, ListFiltersAndPages) {
  EpisodeSpec web;
  web.task_type = TaskType::kCodeGeneration;
  web.context.domain = "web";
  web.context.tags = {"frontend"};
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Start("web " + std::to_string(i), web));
  for (int i = 0; i < 3; ++i) ids.push_back(Start("other " + std::to_string(i)));
  ASSERT_OK(memory_->complete_episode(ids[0], Outcome{}));

  EpisodeFilter all;
  auto page = memory_->list_episodes(all);
  ASSERT_OK(page);
  ASSERT_EQ(page->episodes.size(), 8u);
  EXPECT_EQ(page->episodes.front().id, ids.back());  // newest first
  EXPECT_FALSE(page->next_cursor.has_value());

  EpisodeFilter f;
  f.domain = "web";
  EXPECT_EQ(memory_->list_episodes(f)->episodes.size(), 5u);
  f = {};
  f.tag = "frontend";
  f.status = EpisodeStatus::kOpen;
  EXPECT_EQ(memory_->list_episodes(f)->episodes.size(), 4u);
  f = {};
  f.task_type = TaskType::kOther;
  EXPECT_EQ(memory_->list_episodes(f)->episodes.size(), 3u);
  f = {};
  f.since = "2000-01-01T00:00:00Z";
  f.until = "2000-01-02T00:00:00Z";
  EXPECT_EQ(memory_->list_episodes(f)->episodes.size(), 0u);
  f.since = "2000-01-01";  // a bare date is midnight UTC
  f.until.reset();
  EXPECT_EQ(memory_->list_episodes(f)->episodes.size(), 8u);
  f.since.reset();
  f.until = "2000-01-01";
  EXPECT_EQ(memory_->list_episodes(f)->episodes.size(), 0u);

  // Pages of 3 walk every episode exactly once.
  EpisodeFilter paged;
  paged.limit = 3;
  std::vector<std::string> seen;
  for (;;) {
    auto p = memory_->list_episodes(paged);
    ASSERT_OK(p);
    for (const auto& e : p->episodes) seen.push_back(e.id);
    if (!p->next_cursor) break;
    paged.cursor = *p->next_cursor;
  }
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));
}

TEST_P(MemoryTest, ListRejectsBadFilters) {
  EpisodeFilter f;
  f.limit = 0;
  EXPECT_EQ(memory_->list_episodes(f).status().message(),
            "limit must be between 1 and 10000, got 0");
  f.limit = 10001;
  EXPECT_FALSE(memory_->list_episodes(f).ok());
  f.limit = 10000;
  EXPECT_TRUE(memory_->list_episodes(f).ok());
  f.since = "last week";
  EXPECT_NE(memory_->list_episodes(f).status().message().find("since must be an RFC 3339"),
            std::string::npos);
  f.since.reset();
  f.cursor = "garbage";
  EXPECT_NE(memory_->list_episodes(f).status().message().find("cursor"), std::string::npos);
}

TEST_P(MemoryTest, DeleteRemovesTheEpisodeAndItsSteps) {
  const std::string id = Start();
  ASSERT_OK(memory_->log_steps(id, {Step("a"), Step("b")}));
  ASSERT_OK(memory_->delete_episode(id));
  EXPECT_TRUE(memory_->get_episode(id).status().IsNotFound());
  EXPECT_TRUE(memory_->log_step(id, Step("c")).status().IsNotFound());
  EXPECT_TRUE(memory_->delete_episode(id).IsNotFound());
}

TEST_P(MemoryTest, RecallFindsPastAttemptsAndSaysWhy) {
  auto record = [&](std::string task, std::optional<std::string> domain, OutcomeKind kind,
                    std::vector<ExecutionStep> steps) {
    EpisodeSpec spec;
    spec.context.domain = std::move(domain);
    const std::string id = Start(std::move(task), spec);
    EXPECT_TRUE(memory_->log_steps(id, std::move(steps)).ok());
    EXPECT_TRUE(memory_->complete_episode(id, Outcome{kind, "", {}, {}, {}}).ok());
    return id;
  };
  ExecutionStep timeout = Step("cargo", false);
  timeout.observation = "test downloads::parallel timed out after 30s";
  const std::string fixed = record("Fix the flaky download test", "networking",
                                   OutcomeKind::kSuccess, {timeout, Step("claude"), Step("cargo")});
  const std::string failed = record("Fix the flaky download test with retries", "networking",
                                    OutcomeKind::kFailure, {timeout, Step("cargo", false)});
  const std::string other =
      record("Write the changelog for 2.0", "docs", OutcomeKind::kSuccess, {Step("git")});
  const std::string open = Start("Fix the flaky download test, open");

  RecallQuery q;
  q.task = "flaky download test";
  q.context.domain = "networking";
  auto r = memory_->recall(q);
  ASSERT_OK(r);
  ASSERT_EQ(r->episodes.size(),
            2u);  // the changelog shares no word; open episodes are not recalled
  EXPECT_EQ(r->episodes[0].id, fixed);
  EXPECT_FALSE(r->episodes[0].warning);
  EXPECT_EQ(r->episodes[1].id, failed);
  EXPECT_TRUE(r->episodes[1].warning);  // recalled too, as a warning
  for (const auto& e : r->episodes) {
    double sum = 0;
    for (const auto& [signal, part] : e.why) sum += part;
    EXPECT_NEAR(sum, e.score, 1e-9);
    EXPECT_NEAR(e.why.at("context"), 0.2, 1e-9);
  }
  EXPECT_NE(r->playbook.find("Pitfalls and fixes:"), std::string::npos) << r->playbook;
  EXPECT_NE(r->playbook.find("recovered by claude > cargo"), std::string::npos) << r->playbook;
  EXPECT_LE(r->playbook_tokens, q.token_budget);
  ASSERT_FALSE(r->patterns.empty());
  for (const auto& p : r->patterns) {
    EXPECT_GE(p.seen_in, 1);
    EXPECT_FALSE(p.pattern.evidence.empty());
  }

  // Step text counts: the error message finds both attempts.
  q.task = "timed out";
  q.context = {};
  r = memory_->recall(q);
  ASSERT_OK(r);
  EXPECT_EQ(r->episodes.size(), 2u);

  q.k = 1;
  q.task = "changelog";
  r = memory_->recall(q);
  ASSERT_OK(r);
  ASSERT_EQ(r->episodes.size(), 1u);
  EXPECT_EQ(r->episodes[0].id, other);

  // A deleted episode is no longer recalled.
  ASSERT_OK(memory_->delete_episode(other));
  r = memory_->recall(q);
  ASSERT_OK(r);
  EXPECT_TRUE(r->episodes.empty());
  EXPECT_EQ(r->playbook, "");
}

TEST_P(MemoryTest, RecallLooksPastWordsCommonToMostEpisodes) {
  auto record = [&](const std::string& task) {
    const std::string id = Start(task);
    EXPECT_TRUE(memory_->log_step(id, Step("pytest")).ok());
    EXPECT_TRUE(memory_->complete_episode(id, Outcome{}).ok());
    return id;
  };
  const std::string rotation = record("Rotate the signing keys and test them");
  for (int i = 0; i < 30; ++i) record("Run the test suite, attempt " + std::to_string(i));
  RecallQuery q;
  q.task = "rotating keys tests";  // other forms of the words: the index stems them alike
  q.k = 1;
  auto r = memory_->recall(q);
  ASSERT_OK(r);
  ASSERT_EQ(r->episodes.size(), 1u);
  EXPECT_EQ(r->episodes[0].id, rotation);
}

TEST_P(MemoryTest, ExportedEpisodesImportWithEveryFieldKept) {
  EpisodeSpec spec;
  spec.task_type = TaskType::kRefactoring;
  spec.context = {"web", "rust", "axum", Complexity::kComplex, {"ci", "flaky"}};
  spec.metadata = {{"agent", "claude"}, {"run", {{"n", 3}}}};
  const std::string done = Start("Move the handlers to axum 0.7", spec);
  ExecutionStep a = Step("cargo", false);
  a.timestamp = "2026-11-20T10:00:00.125Z";
  a.action = "build";
  a.latency_ms = 8200;
  a.observation = "error[E0432]: unresolved import `axum::Server`";
  a.parameters = {{"jobs", 4}, {"features", {"full"}}};
  a.metadata = {{"host", "ci-3"}};
  ExecutionStep b = Step("claude");
  b.tokens = 1520;
  b.observation = "use tokio::net::TcpListener";
  ASSERT_OK(memory_->log_steps(done, {a, b, Step("cargo")}));
  ASSERT_OK(memory_->complete_episode(
      done, Outcome{OutcomeKind::kPartialSuccess, "two of three", {"PR #12"}, {"a", "b"}, {"c"}}));
  const std::string open = Start("still open", spec);
  ASSERT_OK(memory_->log_step(open, Step("git")));

  std::vector<Episode> exported;
  std::vector<std::string> documents;
  for (const auto& id : {done, open}) {
    auto e = memory_->get_episode(id);
    ASSERT_OK(e);
    documents.push_back(to_json(*e).dump());
    auto back = episode_from_json(nlohmann::json::parse(documents.back()));
    ASSERT_OK(back);
    exported.push_back(std::move(*back));
  }
  auto other = Memory::open(stores_.url("other.db"));
  ASSERT_OK(other);
  auto results = (*other)->import_episodes(exported);
  ASSERT_OK(results);
  ASSERT_EQ(results->size(), 2u);
  EXPECT_TRUE((*results)[0].ok()) << (*results)[0].message();
  EXPECT_TRUE((*results)[1].ok()) << (*results)[1].message();
  for (size_t i = 0; i < 2; ++i) {
    auto e = (*other)->get_episode(i == 0 ? done : open);
    ASSERT_OK(e);
    EXPECT_EQ(to_json(*e).dump(), documents[i]);  // nothing lost, nothing changed
  }
  // Imported episodes live on: the open one takes steps, the completed one is recalled and
  // its patterns are merged.
  auto n = (*other)->log_step(open, Step("git"));
  ASSERT_OK(n);
  EXPECT_EQ(*n, 2);
  auto r = (*other)->recall(RecallQuery{"axum handlers", {}, 5, 500, {}});
  ASSERT_OK(r);
  ASSERT_EQ(r->episodes.size(), 1u);
  EXPECT_EQ(r->episodes[0].id, done);
  auto patterns = (*other)->list_patterns(PatternFilter{});
  ASSERT_OK(patterns);
  EXPECT_FALSE(patterns->empty());

  // Again: the ids are taken, so both are skipped and nothing changes.
  results = (*other)->import_episodes(exported);
  ASSERT_OK(results);
  EXPECT_EQ((*results)[0].code(), Status::Code::kAlreadyExists);
  EXPECT_EQ((*results)[0].message(), "episode " + done + " already exists");
  EXPECT_EQ((*results)[1].code(), Status::Code::kAlreadyExists);
}

TEST_P(MemoryTest, ImportRejectsBadEpisodesAndKeepsTheGoodOnes) {
  auto make = [](std::string task) {
    Episode e;
    e.task = std::move(task);
    ExecutionStep s;
    s.tool = "git";
    e.steps.push_back(s);
    return e;
  };
  std::vector<Episode> batch;
  batch.push_back(make("good"));
  batch.push_back(make(""));
  Episode gap = make("gap");
  gap.steps.push_back(gap.steps[0]);
  gap.steps[0].step_number = 1;
  gap.steps[1].step_number = 3;
  batch.push_back(gap);
  Episode no_outcome = make("completed without outcome");
  no_outcome.status = EpisodeStatus::kCompleted;
  batch.push_back(no_outcome);
  Episode bad_id = make("bad id");
  bad_id.id = "abc";
  batch.push_back(bad_id);
  Episode bad_step = make("bad step");
  bad_step.steps[0].tool = "";
  batch.push_back(bad_step);
  auto results = memory_->import_episodes(batch);
  ASSERT_OK(results);
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_EQ((*results)[1].message(), "task is empty");
  EXPECT_EQ((*results)[2].message(), "steps[1]: step_number is 3, expected 2");
  EXPECT_EQ((*results)[3].message(), "a completed episode needs an outcome");
  EXPECT_NE((*results)[4].message().find("episode id \"abc\" is malformed"), std::string::npos);
  EXPECT_EQ((*results)[5].message(), "steps[0]: tool is empty");
  auto page = memory_->list_episodes(EpisodeFilter{});
  ASSERT_OK(page);
  ASSERT_EQ(page->episodes.size(), 1u);
  EXPECT_EQ(page->episodes[0].task, "good");
}

TEST_P(MemoryTest, RecallRejectsBadQueries) {
  RecallQuery q;
  EXPECT_EQ(memory_->recall(q).status().message(), "task is empty");
  q.task = "x";
  q.k = 0;
  EXPECT_EQ(memory_->recall(q).status().message(), "k must be 1 to 100, got 0");
  q.k = 101;
  EXPECT_EQ(memory_->recall(q).status().message(), "k must be 1 to 100, got 101");
  q.k = 5;
  q.token_budget = -1;
  EXPECT_EQ(memory_->recall(q).status().message(), "token_budget must be 0 to 100000, got -1");
  q.token_budget = 100000;
  EXPECT_TRUE(memory_->recall(q).ok());
  q.weights.recency = -0.5;
  EXPECT_EQ(memory_->recall(q).status().message(),
            "weights.recency must be a number >= 0, got -0.5");
  q.weights.recency = 0.1;
  q.task = std::string(70000, 'x');
  EXPECT_NE(memory_->recall(q).status().message().find("task is 70000 bytes, limit 65536 bytes"),
            std::string::npos);
  q.task = "bad \xff byte";
  EXPECT_NE(memory_->recall(q).status().message().find("task is not valid UTF-8"),
            std::string::npos)
      << memory_->recall(q).status().message();
}

TEST_P(MemoryTest, ClosedMemoryRefusesCalls) {
  const std::string id = Start();
  ASSERT_OK(memory_->close());
  ASSERT_OK(memory_->close());  // idempotent
  auto r = memory_->log_step(id, Step("a"));
  EXPECT_EQ(r.status().code(), Status::Code::kAborted);
  EXPECT_EQ(r.status().message(), "memory is closed");
}

ENGRAM_ON_BOTH_STORES(MemoryTest);

}  // namespace
}  // namespace engram
