// What one episode contributes to each kind of pattern, checked by hand.
#include "learn/patterns.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

ExecutionStep S(int64_t n, const char* tool, bool ok, int64_t ms = 10, int64_t tokens = 0,
                const char* observation = "") {
  ExecutionStep s;
  s.step_number = n;
  s.tool = tool;
  s.success = ok;
  s.latency_ms = ms;
  if (tokens) s.tokens = tokens;
  s.observation = observation;
  return s;
}

const PatternContribution* Find(const std::vector<PatternContribution>& all,
                                const std::string& key) {
  for (const auto& p : all) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

Episode Sample() {
  Episode e;
  e.context.domain = "cli";
  e.context.language = "rust";
  e.steps = {S(1, "git", true, 10), S(2, "cargo", false, 100, 0, "error[E0425] at src/a.rs:3"),
             S(3, "claude", true, 50, 700), S(4, "cargo", true, 90), S(5, "git", true, 20)};
  return e;
}

TEST(Patterns, IdsAreTheFnv1aHashOfTheKey) {
  // Ids are stored: they must not change from one build to the next.
  EXPECT_EQ(PatternId("tool_sequence:git > cargo"), "pe2f52ff5f7f4303d");
  EXPECT_EQ(PatternId(""), "pcbf29ce484222325");  // the FNV-1a offset basis
  const auto all = ExtractPatterns(Sample(), 1.0);
  for (const auto& c : all) EXPECT_EQ(c.id, PatternId(c.key));
}

TEST(Patterns, DescriptionsAreJsonObjectsWithTheirTextEscaped) {
  Episode e;
  e.steps = {S(1, "say \"hi\"", false), S(2, "tab\there", true)};
  int sequences = 0, decisions = 0;
  for (const auto& c : ExtractPatterns(e, 1.0)) {
    auto d = nlohmann::json::parse(c.description, nullptr, false);
    ASSERT_TRUE(d.is_object()) << c.description;
    if (c.type == PatternType::kToolSequence) {
      ++sequences;
      EXPECT_EQ(d["tools"], nlohmann::json::array({"say \"hi\"", "tab\there"}));
    }
    if (c.type == PatternType::kDecisionPoint) {
      ++decisions;
      EXPECT_EQ(d, (nlohmann::json{{"after_tool", "say \"hi\""}, {"after_success", false}}));
    }
  }
  // Both kinds were made, so the checks above ran.
  EXPECT_EQ(sequences, 1);
  EXPECT_EQ(decisions, 1);
}

TEST(Patterns, ToolSequencesAreContiguousNgramsOfTwoToFive) {
  const auto all = ExtractPatterns(Sample(), 1.0);
  const auto* p = Find(all, "tool_sequence:cargo > claude > cargo");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->occurrences, 1);
  EXPECT_EQ(p->latency_ms, 240);
  EXPECT_EQ(p->tokens, 700);
  EXPECT_EQ(nlohmann::json::parse(p->description)["tools"],
            nlohmann::json::array({"cargo", "claude", "cargo"}));
  EXPECT_NE(Find(all, "tool_sequence:git > cargo > claude > cargo > git"), nullptr);
  EXPECT_EQ(Find(all, "tool_sequence:git > claude"), nullptr);  // not contiguous
  int ngrams = 0;
  for (const auto& c : all) ngrams += c.type == PatternType::kToolSequence;
  EXPECT_EQ(ngrams, 4 + 3 + 2 + 1);  // 5 steps: 4 bigrams … 1 five-gram, all distinct
}

TEST(Patterns, RepeatedNgramsCountOccurrencesInOneContribution) {
  Episode e;
  e.steps = {S(1, "a", true), S(2, "b", true), S(3, "a", true), S(4, "b", true)};
  const auto all = ExtractPatterns(e, 0.5);
  const auto* p = Find(all, "tool_sequence:a > b");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->occurrences, 2);
  EXPECT_DOUBLE_EQ(p->success, 0.5);
}

TEST(Patterns, ErrorRecoveryKeysOnTheNormalisedSignature) {
  const auto all = ExtractPatterns(Sample(), 1.0);
  const auto* p = Find(all, "error_recovery:cargo|error[e<n>] at <path>|claude > cargo");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(nlohmann::json::parse(p->description)["recovery"],
            nlohmann::json::array({"claude", "cargo"}));
  EXPECT_EQ(nlohmann::json::parse(p->description)["example_error"], "error[E0425] at src/a.rs:3");
  EXPECT_EQ(p->latency_ms, 140);
}

TEST(Patterns, DecisionPointsCountEachBranch) {
  Episode e;
  e.steps = {S(1, "cargo", false), S(2, "claude", true), S(3, "cargo", false),
             S(4, "bash", false),  S(5, "cargo", false), S(6, "claude", true)};
  const auto all = ExtractPatterns(e, 0.0);
  const auto* p = Find(all, "decision_point:cargo failed");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->occurrences, 3);
  ASSERT_EQ(p->branches.size(), 2u);
  EXPECT_EQ(p->branches.at("claude"), (std::pair<int64_t, int64_t>{2, 2}));
  EXPECT_EQ(p->branches.at("bash"), (std::pair<int64_t, int64_t>{1, 0}));
}

TEST(Patterns, ContextPatternsNeedAContext) {
  const auto all = ExtractPatterns(Sample(), 1.0);
  const auto* p = Find(all, "context:cli|rust||cargo");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->occurrences, 2);
  EXPECT_EQ(nlohmann::json::parse(p->description)["tool"], "cargo");
  Episode bare = Sample();
  bare.context = {};
  for (const auto& c : ExtractPatterns(bare, 1.0)) EXPECT_NE(c.type, PatternType::kContext);
}

TEST(Patterns, AThousandStepEpisodeContributesEachPatternOnce) {
  Episode e;
  const char* tools[] = {"git", "cargo", "claude"};
  for (int i = 1; i <= 1000; ++i) e.steps.push_back(S(i, tools[i % 3], true));
  const auto all = ExtractPatterns(e, 1.0);  // its speed is measured by make bench
  // A cycle of three tools has 3 distinct n-grams for each n = 2..5, and 3 decision points.
  EXPECT_EQ(all.size(), 4u * 3u + 3u);
  const auto* p = Find(all, "tool_sequence:git > cargo");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->occurrences, 333);
}

TEST(Patterns, ToolListsReadAsPeopleReadThem) {
  EXPECT_EQ(JoinTools({{"tools", {"cargo", "claude", "cargo"}}}, "tools"),
            "cargo > claude > cargo");
  EXPECT_EQ(JoinTools({{"recovery", {"llm"}}}, "recovery"), "llm");
  EXPECT_EQ(JoinTools({{"tools", "cargo"}}, "tools"), "");
  EXPECT_EQ(JoinTools(nullptr, "tools"), "");
}

}  // namespace
}  // namespace engram
