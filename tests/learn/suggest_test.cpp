// Next-step suggestions from hand-made past episodes where the right answer is plain.
#include "learn/suggest.h"

#include <gtest/gtest.h>

#include "learn/patterns.h"
#include "test_util.h"

namespace engram {
namespace {

StepBrief Call(const char* tool, bool success = true, const char* action = "") {
  return StepBrief{tool, action, success};
}

SimilarRun Past(double similarity, double outcome, std::vector<StepBrief> steps) {
  return SimilarRun{similarity, outcome, "Deploy the web service", std::move(steps)};
}

std::vector<std::string> Tools(const std::vector<Suggestion>& s) {
  return testing::Each(s, &Suggestion::tool);
}

TEST(Suggest, WhatTheSimilarEpisodesDidAfterTheSameCallComesFirst) {
  // Every similar episode builds, then tests, then deploys; one of them lints after building.
  std::vector<SimilarRun> similar = {
      Past(1.0, 1.0,
           {Call("cargo", true, "build"), Call("llm"), Call("pytest", true, "-q"),
            Call("deploy", true, "prod")}),
      Past(0.9, 1.0, {Call("cargo", true, "build"), Call("pytest", true, "-x"), Call("deploy")}),
      Past(0.8, 0.0, {Call("cargo", true, "build"), Call("ruff"), Call("deploy")}),
  };
  RunSoFar run;
  run.steps = {Call("cargo", true, "build --release"), Call("user")};
  const auto got = SuggestNext(run, similar, {}, 3);
  ASSERT_EQ(Tools(got), (std::vector<std::string>{"pytest", "ruff"}));  // turns never
  EXPECT_EQ(got[0].support, 2);
  EXPECT_DOUBLE_EQ(got[0].success_rate, 1.0);
  EXPECT_EQ(got[0].example_action, "-q");  // from the most similar episode
  EXPECT_NE(got[0].why.find("pytest followed cargo in 2 of the 3 most similar past episodes"),
            std::string::npos)
      << got[0].why;
  EXPECT_GT(got[0].score, got[1].score);
  EXPECT_LE(got[0].score, 1.0);
  EXPECT_EQ(got[1].support, 1);
  EXPECT_DOUBLE_EQ(got[1].success_rate, 0.0);

  // At the start, the first call of the similar episodes.
  EXPECT_EQ(Tools(SuggestNext(RunSoFar{}, similar, {}, 1)), std::vector<std::string>{"cargo"});
  // k caps the list; nothing known, nothing suggested.
  EXPECT_EQ(SuggestNext(run, similar, {}, 1).size(), 1u);
  EXPECT_TRUE(SuggestNext(run, {}, {}, 5).empty());
}

TEST(Suggest, AfterAFailureTheUsualRecoveryIsSuggested) {
  // After a successful build the similar episodes test; after a failed one they clean first.
  std::vector<SimilarRun> similar = {
      Past(1.0, 1.0, {Call("cargo", true, "build"), Call("pytest")}),
      Past(0.9, 1.0, {Call("cargo", true, "build"), Call("pytest")}),
      Past(0.8, 1.0,
           {Call("cargo", false, "build"), Call("cargo-clean", true, "clean"),
            Call("cargo", true, "build"), Call("pytest")}),
  };
  Pattern recovery;
  recovery.type = PatternType::kErrorRecovery;
  recovery.support = 7;
  recovery.success_rate = 0.9;
  recovery.description = {{"error_tool", "cargo"},
                          {"error_signature", "error: linker <q> not found"},
                          {"recovery", {"llm", "cargo-clean", "cargo"}}};
  RunSoFar run;
  run.steps = {Call("cargo", false, "build")};
  run.last_error_signature = "error: linker <q> not found";
  const auto got = SuggestNext(run, similar, {recovery}, 3);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].tool, "cargo-clean");
  EXPECT_NE(got[0].why.find("recovered by llm > cargo-clean > cargo in 7 episode(s)"),
            std::string::npos)
      << got[0].why;

  // The same history after a success: testing comes first.
  run.steps = {Call("cargo", true, "build")};
  run.last_error_signature.clear();
  EXPECT_EQ(SuggestNext(run, similar, {recovery}, 1)[0].tool, "pytest");
}

TEST(Suggest, TheLearntDecisionPointSpeaksWhenNoSimilarEpisodeDoes) {
  Pattern decision;
  decision.type = PatternType::kDecisionPoint;
  decision.description = {{"after_tool", "git"}, {"after_success", true}};
  decision.branches = {{"llm", {{"taken", 50}, {"success_rate", 1.0}}},
                       {"gh", {{"taken", 4}, {"success_rate", 0.75}}},
                       {"make", {{"taken", 1}, {"success_rate", 0.0}}}};
  RunSoFar run;
  run.steps = {Call("git", true, "push")};
  const auto got = SuggestNext(run, {}, {decision}, 5);
  ASSERT_EQ(Tools(got), (std::vector<std::string>{"gh", "make"}));
  EXPECT_EQ(got[0].support, 4);
  EXPECT_DOUBLE_EQ(got[0].success_rate, 0.75);
  EXPECT_EQ(got[0].why, "after git succeeded, gh was the next call 4 time(s)");
}

}  // namespace
}  // namespace engram
