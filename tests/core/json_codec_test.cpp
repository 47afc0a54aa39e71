#include <gtest/gtest.h>

#include "engram/json.h"

namespace engram {
namespace {

using nlohmann::json;

TEST(JsonCodec, EpisodeDocumentHasEveryField) {
  Episode e;
  e.id = "0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f";
  e.task = "t";
  e.started_at = "2026-11-24T15:47:00.123Z";
  ExecutionStep s;
  s.step_number = 1;
  s.tool = "git";
  e.steps.push_back(s);
  json j = to_json(e);
  for (const char* field : {"id", "task", "task_type", "context", "status", "started_at",
                            "ended_at", "steps", "outcome", "reward", "reflection", "metadata"}) {
    EXPECT_TRUE(j.contains(field)) << field;
  }
  EXPECT_TRUE(j["outcome"].is_null());
  EXPECT_TRUE(j["context"]["tags"].is_array());
  EXPECT_TRUE(j["context"]["domain"].is_null());
  const json& step = j["steps"][0];
  EXPECT_TRUE(step["tokens"].is_null());
  EXPECT_EQ(step["parameters"], json::object());
  EXPECT_EQ(step["metadata"], json::object());
  EXPECT_FALSE(to_json(e, false).contains("steps"));
}

TEST(JsonCodec, StepRoundTrips) {
  ExecutionStep s;
  s.step_number = 3;
  s.timestamp = "2026-11-24T15:47:00.123Z";
  s.tool = "cargo";
  s.action = "test";
  s.latency_ms = 1200;
  s.tokens = 55;
  s.success = false;
  s.observation = "1 failed";
  s.parameters = {{"jobs", 4}};
  s.metadata = {{"host", "ci"}};
  auto back = step_from_json(to_json(s));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(to_json(*back).dump(), to_json([&] {
                                     ExecutionStep c = s;
                                     c.step_number =
                                         0;  // engram assigns numbers; a read step has none
                                     return c;
                                   }())
                                       .dump());
}

TEST(JsonCodec, StepReaderNamesTheFieldOfEveryTypeError) {
  auto err = [](const char* text) {
    auto r = step_from_json(json::parse(text));
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  EXPECT_EQ(err(R"({"tool":"x","latency_ms":"fast"})"),
            "latency_ms must be an integer from 0 to 9007199254740991, got \"fast\"");
  EXPECT_EQ(err(R"({"tool":"x","latency_ms":1.5})"),
            "latency_ms must be an integer from 0 to 9007199254740991, got 1.5");
  EXPECT_EQ(err(R"({"tool":"x","tokens":"many"})"),
            "tokens must be an integer from 0 to 9007199254740991 or null, got \"many\"");
  EXPECT_EQ(err(R"({"tool":7})"), "tool must be a string, got 7");
  EXPECT_EQ(err(R"({"tool":"x","success":"yes"})"), "success must be true or false, got \"yes\"");
  EXPECT_EQ(err(R"({"tool":"x","metadata":{"a":1}})"), "metadata[\"a\"] must be a string, got 1");
  EXPECT_EQ(err(R"([1])"), "step must be a JSON object, got [1]");
  EXPECT_EQ(err(R"({"tool":"x","latency":5})"),
            "step has an unknown field \"latency\" (known: step_number, timestamp, tool, action, "
            "latency_ms, tokens, success, observation, parameters, metadata)");
  EXPECT_EQ(err(R"({"tool":"x","tokens":null,"step_number":99})"), "accepted");
}

TEST(JsonCodec, EnumsParseByName) {
  EXPECT_EQ(*parse_task_type("debugging"), TaskType::kDebugging);
  EXPECT_EQ(parse_task_type("fixing").status().message(),
            "task_type must be one of code_generation, debugging, refactoring, testing, analysis, "
            "documentation, other, got \"fixing\"");
  EXPECT_EQ(*parse_outcome_kind("partial_success"), OutcomeKind::kPartialSuccess);
  EXPECT_FALSE(parse_complexity("hard").ok());
}

TEST(JsonCodec, OutcomeRequiresAKind) {
  EXPECT_EQ(outcome_from_json(json::parse(R"({"summary":"x"})")).status().message(),
            "outcome.kind is missing");
  auto o = outcome_from_json(json::parse(
      R"({"kind":"partial_success","summary":"half","completed":["a"],"failed":["b"]})"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->completed, std::vector<std::string>{"a"});
  EXPECT_EQ(to_json(*o)["failed"], json::array({"b"}));
}

}  // namespace
}  // namespace engram
