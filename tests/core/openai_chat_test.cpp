// OpenAI chat transcripts read as episodes: pairing replies with calls, errors, outcomes.
#include "core/openai_chat.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

using nlohmann::json;

json Call(const char* id, const char* name, const char* args) {
  return {{"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", args}}}};
}

TEST(OpenAiChat, ToolCallsPairWithTheLatestUnansweredCallOfTheirId) {
  json conversation = {
      {"messages",
       {{{"role", "system"}, {"content", "You book travel."}},
        {{"role", "user"}, {"content", "Book Paris to Oslo on May 3"}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls", {Call("call_1", "search", R"({"to":"OSL"})")}}},
        {{"role", "assistant"},
         {"content", "checking the price too"},
         {"tool_calls", {Call("call_1", "price", "{}")}}},  // the id reused before a reply
        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "189 EUR"}},
        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "Error: no such date"}},
        {{"role", "user"}, {"content", "thanks"}},
        {{"role", "assistant"}, {"content", "Booked."}}}},
      {"reward", 0.5},
      {"metadata", {{"source", "unit"}}}};
  auto e = EpisodeFromOpenAiChat(conversation, Limits{});
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->task, "Book Paris to Oslo on May 3");
  EXPECT_EQ(e->metadata, (json{{"source", "unit"}, {"system_prompt", "You book travel."}}));
  ASSERT_EQ(e->steps.size(), 6u);
  EXPECT_EQ(e->steps[0].tool, "llm");
  EXPECT_EQ(e->steps[0].action, "call search");
  EXPECT_EQ(e->steps[1].tool, "search");
  EXPECT_EQ(e->steps[1].action, R"({"to":"OSL"})");
  EXPECT_EQ(e->steps[1].parameters, (json{{"to", "OSL"}}));
  // The first reply went to the latest unanswered call_1 (price), the second to search.
  EXPECT_EQ(e->steps[3].tool, "price");
  EXPECT_EQ(e->steps[3].observation, "189 EUR");
  EXPECT_TRUE(e->steps[3].success);
  EXPECT_EQ(e->steps[1].observation, "Error: no such date");
  EXPECT_FALSE(e->steps[1].success);
  EXPECT_EQ(e->steps[2].observation, "checking the price too");
  EXPECT_EQ(e->steps[4].tool, "user");
  EXPECT_EQ(e->steps[4].action, "reply");
  EXPECT_EQ(e->steps[4].observation, "thanks");
  EXPECT_TRUE(e->steps[4].success);
  EXPECT_EQ(e->steps[5].tool, "llm");
  EXPECT_EQ(e->steps[5].action, "reply");
  EXPECT_EQ(e->status, EpisodeStatus::kCompleted);
  EXPECT_EQ(e->outcome->kind, OutcomeKind::kPartialSuccess);
}

TEST(OpenAiChat, ABareListStaysOpenAndAnUnansweredCallIsAFailedStep) {
  json conversation = json::array(
      {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "weather in Oslo?"}}}}},
       {{"role", "assistant"}, {"content", ""}, {"tool_calls", {Call("c", "weather", "{}")}}}});
  auto e = EpisodeFromOpenAiChat(conversation, Limits{});
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->task, "weather in Oslo?");
  EXPECT_EQ(e->status, EpisodeStatus::kOpen);
  ASSERT_EQ(e->steps.size(), 2u);
  EXPECT_FALSE(e->steps[1].success);
  EXPECT_EQ(e->steps[1].metadata.at("reply"), "missing");
}

TEST(OpenAiChat, RewardAndOutcomeSetTheOutcome) {
  auto with = [](json extra) {
    json c = {{"messages", {{{"role", "user"}, {"content", "t"}}}}};
    c.update(extra);
    return EpisodeFromOpenAiChat(c, Limits{});
  };
  EXPECT_EQ(with({{"reward", 1}})->outcome->kind, OutcomeKind::kSuccess);
  EXPECT_EQ(with({{"reward", 0}})->outcome->kind, OutcomeKind::kFailure);
  EXPECT_EQ(with({{"reward", 0.3}})->outcome->kind, OutcomeKind::kPartialSuccess);
  EXPECT_EQ(with({{"outcome", {{"kind", "abstained"}, {"summary", "no"}}}})->outcome->kind,
            OutcomeKind::kAbstained);
  EXPECT_EQ(with({{"reward", 1.5}}).status().message(),
            "reward must be a number from 0 to 1, got 1.5");
  EXPECT_EQ(with({{"reward", "high"}}).status().message(),
            "reward must be a number from 0 to 1, got \"high\"");
  EXPECT_NE(with({{"outcome", {{"kind", "won"}}}}).status().message().find("outcome: "),
            std::string::npos);
  EXPECT_EQ(with({{"metadata", {{"n", 1}}}}).status().message(),
            "metadata.n must be a string, got 1");
}

TEST(OpenAiChat, BadConversationsSayWhereTheProblemIs) {
  auto bad = [](json c) { return EpisodeFromOpenAiChat(c, Limits{}).status().message(); };
  EXPECT_EQ(bad(json::array({{{"role", "assistant"}, {"content", "hi"}}})),
            "the conversation has no user message");
  EXPECT_EQ(bad(json::array({{{"role", "user"}, {"content", "x"}},
                             {{"role", "tool"}, {"tool_call_id", "nope"}, {"content", "y"}}})),
            "messages[1]: tool reply to unknown tool_call_id \"nope\"");
  EXPECT_EQ(bad(json::array({{{"role", "user"}, {"content", "x"}}, {{"role", "robot"}}})),
            "messages[1].role must be system, developer, user, assistant or tool, got \"robot\"");
  EXPECT_EQ(bad(json::array({{{"role", "user"}, {"content", 5}}})),
            "messages[0].content must be a string, a list of parts or null");
  EXPECT_EQ(bad(json{{"id", 1}}), "conversation has no messages");
  EXPECT_EQ(bad(42), "a conversation must be a list of messages or an object with \"messages\"");
}

TEST(OpenAiChat, OversizedTextIsCutToTheLimitAndMarked) {
  Limits limits;
  limits.max_observation_bytes = 10;
  json conversation = json::array(
      {{{"role", "user"}, {"content", "t"}},
       {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", {Call("c", "cat", "{}")}}},
       {{"role", "tool"}, {"tool_call_id", "c"}, {"content", "0123456789abcdef"}}});
  auto e = EpisodeFromOpenAiChat(conversation, limits);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->steps[1].observation, "0123456789");
  EXPECT_EQ(e->steps[1].metadata.at("truncated"), "observation was 16 bytes");
}

TEST(OpenAiChat, EveryUserTurnAfterTheFirstIsAStepInItsPlace) {
  json conversation = json::array({{{"role", "user"}, {"content", "Change my flight"}},
                                   {{"role", "assistant"}, {"content", "Your user id?"}},
                                   {{"role", "user"}, {"content", "mia_li_3668"}},
                                   {{"role", "assistant"}, {"content", "Which reservation?"}},
                                   {{"role", "user"}, {"content", "No, the other flight"}},
                                   {{"role", "user"}, {"content", ""}}});
  auto e = EpisodeFromOpenAiChat(conversation, Limits{});
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->task, "Change my flight");
  std::vector<std::string> seen;
  for (const auto& s : e->steps) seen.push_back(s.tool + ": " + s.observation);
  EXPECT_EQ(seen, (std::vector<std::string>{"llm: Your user id?", "user: mia_li_3668",
                                            "llm: Which reservation?", "user: No, the other flight",
                                            "user: "}));
  EXPECT_TRUE(e->metadata.empty());  // no system message, no system_prompt
}

TEST(OpenAiChat, SystemMessagesAreKeptAsTheSystemPrompt) {
  Limits limits;
  limits.max_observation_bytes = 12;
  json conversation = json::array({{{"role", "system"}, {"content", "Be brief."}},
                                   {{"role", "developer"}, {"content", "Use tools."}},
                                   {{"role", "user"}, {"content", "go"}},
                                   {{"role", "user"}, {"content", "a reply of 19 bytes"}}});
  auto e = EpisodeFromOpenAiChat(conversation, limits);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->metadata.at("system_prompt"), "Be brief.\n\nU");
  EXPECT_EQ(e->metadata.at("truncated"), "system_prompt was 21 bytes");
  EXPECT_EQ(e->steps.at(0).observation, "a reply of 1");
  EXPECT_EQ(e->steps.at(0).metadata.at("truncated"), "observation was 19 bytes");

  json noted = {{"messages", conversation}, {"metadata", {{"truncated", "by the exporter"}}}};
  EXPECT_EQ(EpisodeFromOpenAiChat(noted, limits)->metadata.at("truncated"),
            "by the exporter; system_prompt was 21 bytes");

  json clash = {{"messages", conversation}, {"metadata", {{"system_prompt", "mine"}}}};
  EXPECT_EQ(EpisodeFromOpenAiChat(clash, Limits{}).status().message(),
            "metadata.system_prompt is set, and the conversation has a system message of its own");
}

TEST(OpenAiChat, RepliesThatReadAsErrors) {
  for (const char* error :
       {"Error: not found", "  exception raised", "Traceback (most recent call last):\n ...",
        "FAILED tests/a.py", "fatal: not a git repository", "request failed. error: 500",
        R"({"error": {"message": "rate limited"}})", R"({"is_error": true, "content": "x"})"}) {
    EXPECT_TRUE(ReadsAsError(error)) << error;
  }
  for (const char* fine : {"0 errors, 3 warnings", "[{\"flight\": \"SK832\"}]", "",
                           R"({"error": null, "ok": true})", "terror: a thriller"}) {
    EXPECT_FALSE(ReadsAsError(fine)) << fine;
  }
}

}  // namespace
}  // namespace engram
