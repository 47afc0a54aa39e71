// SWE-agent trajectories read as episodes: the 22 real ones in tests/data/swe-agent all import,
// two are checked field by field, and broken ones are refused naming the field.
#include "core/swe_agent.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/validation.h"
#include "test_util.h"

namespace engram {
namespace {

using nlohmann::json;
using testing::ValueOf;
namespace fs = std::filesystem;

const fs::path kData = fs::path(ENGRAM_TEST_DATA) / "data" / "swe-agent";

json Load(const std::string& name) {
  std::ifstream in(kData / name);
  return json::parse(in);
}

TEST(SweAgent, EveryRealTrajectoryImports) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kData)) {
    if (entry.path().extension() != ".traj") continue;
    ++files;
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path());
    auto e = EpisodeFromSweAgent(json::parse(in), Limits{});
    ASSERT_TRUE(e.ok()) << e.status().message();
    EXPECT_FALSE(e->task.empty());
    EXPECT_EQ(e->task.find("DEMONSTRATION"), std::string::npos);  // never the demonstration
    EXPECT_FALSE(e->steps.empty());
    for (const ExecutionStep& s : e->steps) {
      EXPECT_TRUE(PrepareStep(s, Limits{}, std::chrono::system_clock::now()).ok()) << s.tool;
    }
  }
  EXPECT_EQ(files, 22);
}

TEST(SweAgent, ASweBenchTrajectoryFieldByField) {
  auto e = ValueOf(EpisodeFromSweAgent(
      Load("gpt4__swe-bench-dev-easy_first_only__default__t-0.00__p-0.95__c-3.00__install-1__"
           "pydicom__pydicom-1458.traj"),
      Limits{}));
  // The issue, without the template around it.
  EXPECT_EQ(e.task.rfind("Pixel Representation attribute should be optional for pixel data "
                         "handler\n**Describe the bug**",
                         0),
            0u);
  EXPECT_EQ(e.task.find("INSTRUCTIONS"), std::string::npos);
  ASSERT_EQ(e.steps.size(), 12u);
  EXPECT_EQ(e.steps[0].tool, "create");
  EXPECT_EQ(e.steps[0].action, "create reproduce_bug.py");
  EXPECT_EQ(e.steps[0].observation.rfind("[File: /pydicom__pydicom/reproduce_bug.py", 0), 0u);
  EXPECT_EQ(e.steps[0].metadata["thought"].get_ref<const std::string&>().rfind(
                "First, I'll create a new Python script", 0),
            0u);
  EXPECT_EQ(e.steps[2].tool, "python");
  EXPECT_FALSE(e.steps[2].success);  // a traceback
  EXPECT_EQ(e.steps[11].tool, "submit");
  EXPECT_EQ(e.metadata["exit_status"], "submitted");
  EXPECT_EQ(e.metadata["model_stats.tokens_sent"], "122612");
  EXPECT_EQ(e.metadata["model_stats.tokens_received"], "1369");
  EXPECT_EQ(e.metadata["model_stats.instance_cost"], "1.26719");
  EXPECT_EQ(e.metadata["model_stats.api_calls"], "12");
  EXPECT_EQ(
      e.metadata["submission"].get_ref<const std::string&>().rfind("\ndiff --git a/pydicom/", 0),
      0u);
  EXPECT_EQ(e.status, EpisodeStatus::kCompleted);
  EXPECT_EQ(e.outcome->kind, OutcomeKind::kSuccess);
  EXPECT_EQ(e.context.tags, std::vector<std::string>{"swe-agent"});
}

TEST(SweAgent, AHistoryWithoutTrajectoryTakesItsStepsFromTheHistory) {
  auto e = ValueOf(EpisodeFromSweAgent(Load("function_calling_simple.traj"), Limits{}));
  EXPECT_EQ(e.task.rfind("SyntaxError: invalid syntax\nI'm running `missing_colon.py`", 0), 0u);
  ASSERT_EQ(e.steps.size(), 5u);
  EXPECT_EQ(e.steps[0].tool, "find_file");
  EXPECT_EQ(e.steps[0].action, "find_file missing_colon.py");
  EXPECT_EQ(e.steps[0].observation.rfind("Found 1 matches for \"missing_colon.py\"", 0), 0u);
  EXPECT_EQ(e.steps[3].action, "python tests/missing_colon.py");
  EXPECT_EQ(e.steps[3].observation.rfind("8.2\n", 0), 0u);
  EXPECT_EQ(e.steps[4].tool, "submit");
  EXPECT_EQ(e.status, EpisodeStatus::kOpen);  // no exit status: no outcome to learn from
}

TEST(SweAgent, TheExitStatusDecidesTheOutcome) {
  auto with = [](json info) {
    json t = {{"history", {{{"role", "user"}, {"content", "ISSUE:\nfix it\nINSTRUCTIONS: go"}}}},
              {"trajectory", {{{"action", "ls -la\n"}, {"observation", "a b"}}}},
              {"info", std::move(info)}};
    return ValueOf(EpisodeFromSweAgent(t, Limits{}));
  };
  EXPECT_EQ(with({{"exit_status", "submitted"}, {"submission", "diff"}}).outcome->kind,
            OutcomeKind::kSuccess);
  EXPECT_EQ(with({{"exit_status", "submitted (exit_cost)"}, {"submission", "diff"}}).outcome->kind,
            OutcomeKind::kPartialSuccess);
  EXPECT_EQ(with({{"exit_status", "submitted"}}).outcome->kind, OutcomeKind::kFailure);
  EXPECT_EQ(with({{"exit_status", "exit_format"}}).outcome->kind, OutcomeKind::kFailure);
  const Episode e = with(json::object());
  EXPECT_EQ(e.task, "fix it");
  EXPECT_EQ(e.steps[0].tool, "ls");
  EXPECT_EQ(e.steps[0].action, "ls -la");
}

TEST(SweAgent, BrokenTrajectoriesAreRefusedNamingTheField) {
  auto why = [](const json& t) { return EpisodeFromSweAgent(t, Limits{}).status().message(); };
  const json user = {{"role", "user"}, {"content", "ISSUE: x"}};
  EXPECT_EQ(why(json::array()), "a trajectory must be a JSON object");
  EXPECT_EQ(why({{"history", json::array()}}), "the history has no user message with the task");
  EXPECT_EQ(why({{"history", {user}}, {"trajectory", {{{"action", 7}}}}}),
            "trajectory[0].action must be a string");
  EXPECT_EQ(why({{"history", {user}}, {"trajectory", {{{"action", " "}}}}}),
            "trajectory[0].action is empty");
  EXPECT_EQ(why({{"history", {user}}, {"trajectory", "x"}}), "trajectory must be a list");
  EXPECT_EQ(why({{"history", {user}}, {"info", {{"exit_status", 3}}}}),
            "info.exit_status must be a string");
  // Flags and roles of another type are read as absent, not thrown on.
  const json odd = {{"role", "user"}, {"is_demo", "yes"}, {"content", "ISSUE: y"}};
  auto e = EpisodeFromSweAgent(
      {{"history", {{{"role", 3}}, odd, {{"role", "assistant"}, {"action", "ls"}}}}}, Limits{});
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->task, "y");
  EXPECT_EQ(e->steps.size(), 1u);
}

}  // namespace
}  // namespace engram
