// Recall's scorers and the playbook, on hand-made hits with hand-worked values.
#include "learn/recall.h"

#include <gtest/gtest.h>

#include "core/timestamp.h"

namespace engram {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;

const system_clock::time_point kNow = *ParseTimestamp("now", "2026-11-24T12:00:00Z");

SearchHit Hit(int64_t key, double relevance, std::optional<std::string> domain, OutcomeKind kind,
              double reward, std::string ended_at = "2026-11-24T12:00:00.000Z") {
  SearchHit h;
  h.key = key;
  h.relevance = relevance;
  h.episode.id = "episode-" + std::to_string(key);
  h.episode.task = "task " + std::to_string(key);
  h.episode.context.domain = std::move(domain);
  h.episode.outcome = Outcome{kind, "", {}, {}, {}};
  h.episode.reward = {{"total", reward}};
  h.episode.ended_at = std::move(ended_at);
  return h;
}

using Words = std::vector<std::string>;

TEST(Recall, TheQueryIsTheTasksDistinctUncommonWords) {
  EXPECT_EQ(QueryWords("Fix the failing integration_test in src/main.rs, then fix it!"),
            (Words{"fix", "failing", "integration", "test", "src", "main", "rs"}));
  EXPECT_EQ(QueryWords("Übersetze die Datei"), (Words{"Übersetze", "die", "datei"}));
  EXPECT_EQ(QueryWords("the of a to \"\" ' *"), Words{});  // recall falls back to recency
  std::string many;
  for (int i = 0; i < 40; ++i) many += "word" + std::to_string(i) + " ";
  EXPECT_EQ(QueryWords(many).size(), 32u);
}

TEST(Recall, ContextMatchIsTheShareOfTheQuerysContextMatched) {
  Context q;
  q.domain = "web";
  q.language = "rust";
  q.tags = {"ci", "flaky"};
  Context e;
  e.domain = "web";
  e.language = "go";
  e.tags = {"ci"};
  EXPECT_DOUBLE_EQ(ContextMatch(q, e), (1 + 0 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(ContextMatch(q, q), 1);
  EXPECT_DOUBLE_EQ(ContextMatch(Context{}, e), 0);  // no context asked: no signal
  Context framework_only;
  framework_only.framework = "axum";
  EXPECT_DOUBLE_EQ(ContextMatch(framework_only, e), 0);
}

TEST(Recall, RecencyHalvesEveryThirtyDays) {
  EXPECT_DOUBLE_EQ(Recency("2026-11-24T12:00:00Z", kNow), 1);
  EXPECT_NEAR(Recency("2026-10-25T12:00:00Z", kNow), 0.5, 1e-12);
  EXPECT_NEAR(Recency("2026-09-25T12:00:00Z", kNow), 0.25, 1e-12);
  EXPECT_DOUBLE_EQ(Recency("2027-01-01T00:00:00Z", kNow), 1);  // a clock ahead of ours
  EXPECT_DOUBLE_EQ(Recency("garbage", kNow), 0);
}

TEST(Recall, OutcomeValueIsTheRewardElseTheOutcomesBase) {
  EXPECT_DOUBLE_EQ(OutcomeValue(Hit(1, 1, {}, OutcomeKind::kSuccess, 0.8).episode), 0.8);
  Episode e;
  e.outcome = Outcome{OutcomeKind::kPartialSuccess, "", {}, {}, {}};
  EXPECT_DOUBLE_EQ(OutcomeValue(e), 0.5);
  e.outcome->completed = {"a", "b"};
  e.outcome->failed = {"c", "d"};
  EXPECT_DOUBLE_EQ(OutcomeValue(e), 0.5);  // the share completed, as the reward counts it
  e.outcome->failed = {"c", "d", "e", "f", "g", "h"};
  EXPECT_DOUBLE_EQ(OutcomeValue(e), 0.25);
  e.reward = {{"total", "high"}};  // not a number: the outcome decides
  EXPECT_DOUBLE_EQ(OutcomeValue(e), 0.25);
  e.outcome->kind = OutcomeKind::kAbstained;
  EXPECT_DOUBLE_EQ(OutcomeValue(e), 0.1);
  e.outcome->kind = OutcomeKind::kFailure;
  EXPECT_DOUBLE_EQ(OutcomeValue(e), 0);
}

TEST(Recall, WithoutContextOutcomeAndRecencyCannotLiftAWeakerTextMatch) {
  // A failure that matches the task best, and a fresh success that matches it at 0.7.
  std::vector<SearchHit> hits = {
      Hit(1, 5.0, "web", OutcomeKind::kFailure, 0.0, "2026-08-01T12:00:00.000Z"),
      Hit(2, 3.5, "web", OutcomeKind::kSuccess, 1.0, "2026-11-24T12:00:00.000Z"),
  };
  RecallQuery q;
  q.task = "anything";
  auto scored = ScoreHits(hits, q, kNow);
  ASSERT_EQ(scored.size(), 2u);
  // Added whole, the success would win: 0.42 + 0.1 + 0.1 = 0.62 against 0.6 + 0.1 × 0.5^(115/30)
  // = 0.607. In proportion to the text match to the fourth power it gets
  // 0.42 + 0.1 × 0.2401 + 0.1 × 0.2401 = 0.46802.
  EXPECT_EQ(scored[0].hit->key, 1);
  EXPECT_NEAR(scored[1].score, 0.46802, 1e-9);
}

TEST(Recall, TheScoreIsTheWeightedSumOfItsSignals) {
  std::vector<SearchHit> hits = {
      Hit(1, 4.0, "web", OutcomeKind::kSuccess, 0.9, "2026-11-24T12:00:00.000Z"),
      Hit(2, 3.0, "cli", OutcomeKind::kFailure, 0.0, "2026-10-25T12:00:00.000Z"),
      Hit(3, 0.2, "web", OutcomeKind::kSuccess, 1.0),  // 0.05 of the best: left out
  };
  RecallQuery q;
  q.task = "anything";
  q.context.domain = "cli";
  auto scored = ScoreHits(hits, q, kNow);
  ASSERT_EQ(scored.size(), 2u);
  // Outcome and recency count in proportion to the text match to the fourth power.
  // Hit 1: text 1 × 0.6, context 0 × 0.2, outcome 0.9 × 0.1 × 1, recency 1 × 0.1 × 1 = 0.79.
  // Hit 2: text 0.75 × 0.6, context 1 × 0.2, outcome 0, recency 0.5 × 0.1 × 0.75⁴ = 0.66582.
  EXPECT_EQ(scored[0].hit->key, 1);
  EXPECT_NEAR(scored[0].score, 0.79, 1e-9);
  EXPECT_NEAR(scored[0].why.at("text"), 0.6, 1e-9);
  EXPECT_NEAR(scored[0].why.at("outcome"), 0.09, 1e-9);
  EXPECT_EQ(scored[1].hit->key, 2);
  EXPECT_NEAR(scored[1].score, 0.6658203125, 1e-9);
  EXPECT_NEAR(scored[1].why.at("text"), 0.45, 1e-9);
  EXPECT_NEAR(scored[1].why.at("context"), 0.2, 1e-9);
  EXPECT_NEAR(scored[1].why.at("recency"), 0.0158203125, 1e-9);
  double sum = 0;
  for (const auto& [signal, part] : scored[1].why) sum += part;
  EXPECT_NEAR(sum, scored[1].score, 1e-12);  // the reasons add up to the score

  // Context weighed more, the failure in the right domain comes first.
  q.weights.context = 0.5;
  scored = ScoreHits(hits, q, kNow);
  EXPECT_EQ(scored[0].hit->key, 2);
  // Text alone is plain BM25 order.
  q.weights = {1, 0, 0, 0};
  scored = ScoreHits(hits, q, kNow);
  EXPECT_EQ(scored[0].hit->key, 1);
  EXPECT_DOUBLE_EQ(scored[1].score, 0.75);
}

TEST(Recall, WithoutTextEveryHitIsScoredOnTheOtherSignals) {
  std::vector<SearchHit> hits = {Hit(1, 0, {}, OutcomeKind::kSuccess, 1.0),
                                 Hit(2, 0, {}, OutcomeKind::kFailure, 0.0)};
  auto scored = ScoreHits(hits, RecallQuery{"the", {}, 5, 500, {}}, kNow);
  ASSERT_EQ(scored.size(), 2u);
  EXPECT_DOUBLE_EQ(scored[0].why.at("text"), 0);
  EXPECT_NEAR(scored[0].score, 0.2, 1e-12);
  EXPECT_NEAR(scored[1].score, 0.1, 1e-12);
}

TEST(Recall, AFailureIsAWarningAndTeachesWhatWentWrong) {
  SearchHit failed = Hit(7, 1, {}, OutcomeKind::kFailure, 0);
  failed.episode.reflection = {
      {"worked", {{{"text", "`git` succeeded in all 2 calls"}, {"steps", {1, 2}}}}},
      {"improve", {{{"text", "`psql` failed 3 times (steps 3, 4, 5)"}, {"steps", {3, 4, 5}}}}}};
  std::vector<SearchHit> hits = {failed};
  auto scored = ScoreHits(hits, RecallQuery{"x", {}, 5, 500, {}}, kNow);
  RecalledEpisode r = ToRecalled(scored[0]);
  EXPECT_TRUE(r.warning);
  EXPECT_EQ(r.lessons, std::vector<std::string>{"`psql` failed 3 times (steps 3, 4, 5)"});
  EXPECT_DOUBLE_EQ(*r.reward, 0);
}

Pattern P(std::string id, PatternType type, nlohmann::json description, int64_t support) {
  Pattern p;
  p.id = std::move(id);
  p.type = type;
  p.description = std::move(description);
  p.support = support;
  return p;
}

TEST(Recall, PatternsRankBySuccessHereAndHowOftenTheyAreSeenHere) {
  std::vector<SearchHit> hits = {Hit(1, 3, {}, OutcomeKind::kSuccess, 1.0),
                                 Hit(2, 2, {}, OutcomeKind::kSuccess, 0.8),
                                 Hit(3, 1, {}, OutcomeKind::kFailure, 0.0)};
  auto sources = ScoreHits(hits, RecallQuery{"x", {}, 5, 500, {}}, kNow);
  const nlohmann::json abc = {{"tools", {"a", "b", "c"}}};
  const nlohmann::json ab = {{"tools", {"a", "b"}}};
  const nlohmann::json bc = {{"tools", {"b", "c"}}};
  std::vector<PatternHit> patterns = {
      // in 1 and 2: success here 0.9, rank 0.9 × 2/3 = 0.6
      {P("abc", PatternType::kToolSequence, abc, 5), {1, 2}},
      // inside abc and seen as often: says nothing new
      {P("ab", PatternType::kToolSequence, ab, 9), {1, 2}},
      // in all three: success here 0.6, rank 0.6 × 3/4 = 0.45
      {P("bc", PatternType::kToolSequence, bc, 50), {1, 2, 3}},
      // in 1 only: 1 × 1/2 = 0.5
      {P("recovery", PatternType::kErrorRecovery, {{"recovery", {"b"}}}, 2), {1}},
      // evidence outside the sources: not here
      {P("elsewhere", PatternType::kContext, {{"tool", "z"}}, 99), {42}},
  };
  auto ranked = RankPatterns(patterns, sources);
  ASSERT_EQ(ranked.size(), 3u);
  EXPECT_EQ(ranked[0].pattern.id, "abc");
  EXPECT_EQ(ranked[0].seen_in, 2);
  EXPECT_NEAR(ranked[0].success_here, 0.9, 1e-12);
  EXPECT_EQ(ranked[1].pattern.id, "recovery");
  EXPECT_EQ(ranked[2].pattern.id, "bc");
  EXPECT_NEAR(ranked[2].success_here, 0.6, 1e-12);
}

TEST(Recall, TokensAreEstimatedAtFourBytesEach) {
  EXPECT_EQ(EstimateTokens(""), 0);
  EXPECT_EQ(EstimateTokens("abcd"), 1);
  EXPECT_EQ(EstimateTokens("abcde"), 2);
}

std::vector<RecalledEpisode> PlaybookEpisodes() {
  RecalledEpisode ok;
  ok.task = "Fix the flaky download test";
  ok.outcome = Outcome{OutcomeKind::kSuccess, "permit released in a guard", {}, {}, {}};
  ok.reward = 0.96;
  ok.lessons = {"`cargo test` failed at step 1 and succeeded at step 4 after `claude fix`",
                "`git` succeeded in all 2 calls"};
  RecalledEpisode bad;
  bad.task = "Fix the download test by retrying";
  bad.outcome = Outcome{OutcomeKind::kFailure, "", {}, {}, {}};
  bad.reward = 0;
  bad.warning = true;
  bad.lessons = {"`cargo` failed 3 times (steps 1, 2, 3)"};
  return {ok, bad};
}

std::vector<RecalledPattern> PlaybookPatterns() {
  RecalledPattern seq{
      P("s", PatternType::kToolSequence, {{"tools", {"cargo", "claude", "cargo"}}}, 4), 2, 0.5};
  RecalledPattern fix{P("r", PatternType::kErrorRecovery,
                        {{"error_tool", "cargo"},
                         {"error_signature", "timed out after <n>s"},
                         {"recovery", {"claude", "cargo"}}},
                        3),
                      1, 0.96};
  return {seq, fix};
}

TEST(Recall, ThePlaybookSaysWhatWorkedThePitfallsAndTheSequence) {
  const std::string playbook = WritePlaybook(PlaybookEpisodes(), PlaybookPatterns(), 1000);
  EXPECT_EQ(playbook,
            "From 2 similar past episode(s): 1 succeeded, 1 failed.\n"
            "Recommended tool sequence: cargo > claude > cargo (in 2 of them, 50% success).\n"
            "What worked:\n"
            "- \"Fix the flaky download test\" (success, reward 0.96: permit released in a "
            "guard): `cargo test` failed at step 1 and succeeded at step 4 after `claude fix`\n"
            "Pitfalls and fixes:\n"
            "- cargo failing with \"timed out after <n>s\": recovered by claude > cargo (1 "
            "episode(s), 96% success).\n"
            "- Failed before: \"Fix the download test by retrying\" (failure, reward 0.00): "
            "`cargo` failed 3 times (steps 1, 2, 3)\n");
}

TEST(Recall, ThePlaybookNeverExceedsItsBudget) {
  const auto episodes = PlaybookEpisodes();
  const auto patterns = PlaybookPatterns();
  const std::string full = WritePlaybook(episodes, patterns, 100000);
  int64_t previous = 0;
  for (int64_t budget = 0; budget <= EstimateTokens(full) + 5; ++budget) {
    const std::string p = WritePlaybook(episodes, patterns, budget);
    EXPECT_LE(EstimateTokens(p), budget);
    EXPECT_GE(EstimateTokens(p), previous);  // more budget never says less
    previous = EstimateTokens(p);
  }
  EXPECT_EQ(WritePlaybook(episodes, patterns, 0), "");
  // The summary line first, then the recommended sequence: the most useful lines survive.
  const std::string small = WritePlaybook(episodes, patterns, 40);
  EXPECT_EQ(small,
            "From 2 similar past episode(s): 1 succeeded, 1 failed.\n"
            "Recommended tool sequence: cargo > claude > cargo (in 2 of them, 50% success).\n");
  EXPECT_EQ(WritePlaybook({}, patterns, 1000), "");
}

TEST(Recall, SearchTextCoversReflectionAndStepsWithinItsCap) {
  nlohmann::json reflection = {{"worked", {{{"text", "alpha"}, {"steps", {1}}}}},
                               {"improve", {{{"text", "beta"}, {"steps", {2}}}}}};
  EXPECT_EQ(ReflectionText(reflection), "beta alpha");  // nlohmann orders object keys
  std::vector<ExecutionStep> steps(1000);
  for (auto& s : steps) {
    s.tool = "cargo";
    s.action = "test";
    s.observation = std::string(1000, 'x');
  }
  const StepTexts text = StepsText(steps);
  EXPECT_LE(text.calls.size(), 16u * 1024);
  EXPECT_LE(text.observations.size(), 16u * 1024);
  EXPECT_EQ(text.calls.substr(0, 11), "cargo test\n");
  EXPECT_EQ(text.observations.find(std::string(301, 'x')), std::string::npos);  // 300 bytes each
  EXPECT_EQ(text.user, "");
}

TEST(Recall, SearchTextKeepsEachFieldApart) {
  std::vector<ExecutionStep> steps(4);
  steps[0].tool = "llm";
  steps[0].action = "call get_user";
  steps[0].observation = "Let me look you up.";
  steps[1].tool = "get_user";
  steps[1].action = R"({"id":"mia_li_3668"})";
  steps[1].observation = R"({"name":"Mia"})";
  steps[2].tool = "user";
  steps[2].action = "reply";
  steps[2].observation = "No, the other flight";
  steps[3].tool = "user";
  steps[3].observation = "";  // nothing said, nothing indexed
  const StepTexts text = StepsText(steps);
  EXPECT_EQ(text.user, "No, the other flight");
  EXPECT_EQ(text.calls, R"(get_user {"id":"mia_li_3668"})");  // turns are not calls
  EXPECT_EQ(text.observations, "Let me look you up.\n{\"name\":\"Mia\"}");
}

}  // namespace
}  // namespace engram
