// The reflection rules on hand-made episodes; every item cites the steps it comes from.
#include "learn/reflection.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace engram {
namespace {

ExecutionStep S(int64_t n, const char* tool, const char* action, bool ok, int64_t ms = 100,
                std::optional<int64_t> tokens = {}, const char* observation = "") {
  ExecutionStep s;
  s.step_number = n;
  s.tool = tool;
  s.action = action;
  s.success = ok;
  s.latency_ms = ms;
  s.tokens = tokens;
  s.observation = observation;
  return s;
}

std::vector<std::string> Texts(const std::vector<ReflectionItem>& items) {
  return testing::Each(items, &ReflectionItem::text);
}

TEST(Reflection, TheFixThatFollowedAFailure) {
  std::vector<ExecutionStep> steps = {
      S(1, "cargo", "build", false, 100, {}, "error[E0425] at src/a.rs:1"),
      S(2, "claude", "fix the import", true, 100, 300),
      S(3, "cargo", "build", true),
  };
  Reflection r = Reflect(steps, Outcome{});
  ASSERT_FALSE(r.worked.empty());
  EXPECT_EQ(r.worked[0].text,
            "`cargo build` failed at step 1 and succeeded at step 3 after `claude fix the import`");
  EXPECT_EQ(r.worked[0].steps, (std::vector<int64_t>{1, 2, 3}));
}

TEST(Reflection, RepeatedFailuresAndTheSameErrorTwice) {
  std::vector<ExecutionStep> steps = {
      S(1, "pytest", "tests/", false, 100, {}, "AssertionError: expected 3 got 4 (tests/a.py:10)"),
      S(2, "edit", "a.py", true),
      S(3, "pytest", "tests/", false, 100, {}, "AssertionError: expected 5 got 6 (tests/a.py:12)"),
  };
  Reflection r = Reflect(steps, Outcome{OutcomeKind::kFailure, "", {}, {}, {}});
  const auto improve = Texts(r.improve);
  EXPECT_EQ(improve[0], "`pytest` failed 2 times (steps 1, 3)");
  EXPECT_EQ(improve[1],
            "the same error occurred 2 times (steps 1, 3): assertionerror: expected <n> got <n> "
            "(<path>)");
  EXPECT_EQ(r.improve[1].steps, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(improve.back(), "the episode ended on a failure: `pytest tests/` at step 3");
}

TEST(Reflection, BottleneckAndTokens) {
  std::vector<ExecutionStep> steps = {
      S(1, "claude", "plan", true, 2000, 6000),
      S(2, "cargo", "test", true, 9000),
      S(3, "claude", "write", true, 1000, 3000),
  };
  Reflection r = Reflect(steps, Outcome{});
  const auto improve = Texts(r.improve);
  ASSERT_EQ(improve.size(), 2u);
  EXPECT_EQ(improve[0], "step 2 (`cargo test`) took 9000 ms, 75% of the time spent in steps");
  EXPECT_EQ(r.improve[0].steps, std::vector<int64_t>{2});
  EXPECT_EQ(improve[1], "high token use: 9000 tokens in all; the largest at step 1 (6000 tokens)");
  EXPECT_EQ(r.improve[1].steps, (std::vector<int64_t>{1, 3}));
}

TEST(Reflection, WhatWorkedAndInsights) {
  std::vector<ExecutionStep> steps = {S(1, "git", "status", true), S(2, "git", "diff", true),
                                      S(3, "npm", "test", false)};
  Outcome partial{OutcomeKind::kPartialSuccess, "", {}, {"lint"}, {"tests"}};
  Reflection r = Reflect(steps, partial);
  EXPECT_EQ(Texts(r.worked), std::vector<std::string>{"`git` succeeded in all 2 calls"});
  EXPECT_EQ(Texts(r.insights),
            (std::vector<std::string>{"1 of 3 steps failed, 0 recovered; outcome partial_success",
                                      "`git` was the most used tool: 2 of 3 steps, 200 ms",
                                      "left undone: tests"}));
}

TEST(Reflection, ConversationTurnsAreNotToolsThatWorked) {
  std::vector<ExecutionStep> steps = {
      S(1, "llm", "call get_user", true), S(2, "get_user", "{}", true),
      S(3, "user", "reply", true),        S(4, "llm", "reply", true),
      S(5, "user", "reply", true),        S(6, "get_user", "{}", true),
  };
  Reflection r = Reflect(steps, Outcome{});
  EXPECT_EQ(Texts(r.worked), std::vector<std::string>{"`get_user` succeeded in all 2 calls"});
}

TEST(Reflection, IsDeterministicAndHandlesNoSteps) {
  Reflection empty = Reflect({}, Outcome{});
  EXPECT_EQ(Texts(empty.insights),
            std::vector<std::string>{"completed as success without any step"});
  std::vector<ExecutionStep> steps = {S(1, "b", "x", false), S(2, "a", "y", false),
                                      S(3, "b", "x", true), S(4, "a", "y", true)};
  EXPECT_EQ(ToJson(Reflect(steps, Outcome{})).dump(), ToJson(Reflect(steps, Outcome{})).dump());
}

}  // namespace
}  // namespace engram
