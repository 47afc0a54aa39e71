// Claude Code's hook events and session transcripts as steps: the summaries of tool inputs, the
// texts of responses, failures, the outcome rule, and the sample transcript field by field.
#include "core/claude_code.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace engram::claude_code {
namespace {

using nlohmann::json;
using testing::ValueOf;

TEST(ClaudeCode, AToolCallIsSummedUpInOneLine) {
  EXPECT_EQ(InputSummary("Bash", {{"command", "cargo test"}, {"description", "Run tests"}}),
            "cargo test");
  EXPECT_EQ(InputSummary("Bash", {{"command", "cat <<EOF > a\nx\nEOF"}}), "cat <<EOF > a …");
  EXPECT_EQ(InputSummary("Read", {{"file_path", "/src/main.rs"}, {"limit", 20}}), "/src/main.rs");
  EXPECT_EQ(InputSummary("Grep", {{"pattern", "fn main"}, {"path", "src"}}), "fn main in src");
  EXPECT_EQ(InputSummary("Glob", {{"pattern", "**/*.rs"}}), "**/*.rs");
  EXPECT_EQ(InputSummary("WebFetch", {{"url", "https://example.com"}, {"prompt", "sum up"}}),
            "https://example.com");
  EXPECT_EQ(InputSummary("TodoWrite", {{"todos", json::array({1, 2, 3})}}), "3 todo(s)");
  EXPECT_EQ(InputSummary("mcp__github__create_issue", {{"title", "Bug"}}), R"({"title":"Bug"})");
  EXPECT_EQ(InputSummary("Anything", nullptr), "Anything");
}

TEST(ClaudeCode, AResponseIsReadAsText) {
  EXPECT_EQ(ResponseText("done"), "done");
  EXPECT_EQ(ResponseText({{"stdout", "ok"}, {"stderr", "warn"}, {"interrupted", false}}),
            "ok\nwarn");
  EXPECT_EQ(ResponseText({{"stdout", ""}, {"stderr", "boom"}}), "boom");
  EXPECT_EQ(ResponseText({{"type", "text"}, {"file", {{"filePath", "/a"}, {"content", "fn a"}}}}),
            "fn a");
  EXPECT_EQ(ResponseText(json::array({{{"type", "text"}, {"text", "PR #7"}}, {{"type", "image"}}})),
            "PR #7\n[image]");
  EXPECT_EQ(ResponseText({{"filePath", "/a"}}), R"({"filePath":"/a"})");
}

TEST(ClaudeCode, AResponseThatReportsAnErrorFails) {
  EXPECT_TRUE(ResponseFailed({{"is_error", true}}));
  EXPECT_TRUE(ResponseFailed({{"interrupted", true}, {"stdout", ""}}));
  EXPECT_TRUE(ResponseFailed({{"exitCode", 2}}));
  EXPECT_TRUE(ResponseFailed({{"success", false}}));
  EXPECT_TRUE(ResponseFailed({{"error", "no such file"}}));
  EXPECT_TRUE(ResponseFailed("Error: file not found"));
  EXPECT_FALSE(ResponseFailed({{"stdout", "ok"}, {"interrupted", false}}));
  EXPECT_FALSE(ResponseFailed({{"error", nullptr}, {"exitCode", 0}}));
  EXPECT_FALSE(ResponseFailed("all good"));
}

TEST(ClaudeCode, HookEventsAreReadAndBadOnesNamed) {
  auto event = ValueOf(ReadHookEvent({{"session_id", "s"},
                                      {"hook_event_name", "PostToolUseFailure"},
                                      {"tool_name", "Bash"},
                                      {"tool_use_id", "toolu_1"},
                                      {"tool_input", {{"command", "make"}}},
                                      {"error", "exit 2"},
                                      {"is_interrupt", true},
                                      {"agent_type", "reviewer"}}));
  const ExecutionStep s = ToolStep(event, Limits{});
  EXPECT_EQ(s.tool, "Bash");
  EXPECT_EQ(s.action, "make");
  EXPECT_EQ(s.parameters, json({{"command", "make"}}));
  EXPECT_FALSE(s.success);
  EXPECT_EQ(s.observation, "exit 2");
  EXPECT_EQ(
      s.metadata,
      json({{"interrupted", "true"}, {"tool_use_id", "toolu_1"}, {"agent_type", "reviewer"}}));
  auto why = [](const json& j) { return ReadHookEvent(j).status().message(); };
  EXPECT_EQ(why(json::array()), "a hook event must be a JSON object");
  EXPECT_EQ(why({{"session_id", "s"}}), "hook_event_name is missing");
  EXPECT_EQ(why({{"hook_event_name", "Stop"}, {"session_id", ""}}), "session_id is empty");
  EXPECT_EQ(why({{"hook_event_name", "Stop"}, {"session_id", 7}}),
            "session_id must be a string, got 7");
  EXPECT_EQ(why({{"hook_event_name", "PostToolUse"}, {"session_id", "s"}}), "tool_name is missing");
}

TEST(ClaudeCode, LongAndUnstorableTextsAreMadeFit) {
  HookEvent e;
  e.name = "PostToolUse";
  e.tool_name = std::string(200, 'm');
  e.tool_input = {{"command", std::string("a\0b", 3)}};
  e.tool_response = std::string(70000, 'x');
  const ExecutionStep s = ToolStep(e, Limits{});
  EXPECT_EQ(s.tool.size(), 128u);
  EXPECT_EQ(s.action,
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(s.observation.size(), 64u * 1024);
  EXPECT_EQ(s.metadata["truncated"], "tool was 200 bytes; observation was 70000 bytes");
}

TEST(ClaudeCode, ASessionFailsWhenItsLastToolCallFailed) {
  ExecutionStep ok, bad, user;
  ok.tool = bad.tool = "Bash";
  bad.success = false;
  user.tool = "user";
  const Outcome good = SessionOutcome({bad, ok, user}, "logout");
  EXPECT_EQ(good.kind, OutcomeKind::kSuccess);
  EXPECT_EQ(good.summary, "session ended (logout); 2 tool call(s), 1 failed");
  const Outcome failed = SessionOutcome({ok, bad, user}, "");
  EXPECT_EQ(failed.kind, OutcomeKind::kFailure);
  EXPECT_EQ(failed.summary, "session ended; 2 tool call(s), 1 failed, the last one among them");
  EXPECT_EQ(SessionOutcome({}, "clear").kind, OutcomeKind::kSuccess);
}

TEST(ClaudeCode, TheSampleTranscriptFieldByField) {
  std::ifstream in(std::string(ENGRAM_TEST_DATA) + "/data/claude-code/sample_session.jsonl");
  TranscriptReader reader{Limits{}};
  std::string line;
  while (std::getline(in, line)) ASSERT_OK(reader.Add(json::parse(line)));
  const Episode e = ValueOf(reader.Finish());
  EXPECT_EQ(e.task, "Create a hello world function");
  EXPECT_EQ(e.started_at, "2025-12-24T10:00:00.000Z");
  EXPECT_EQ(e.metadata["session_id"], "test-session-id");
  EXPECT_EQ(e.metadata["cwd"], "/project");
  EXPECT_EQ(e.metadata["git_branch"], "main");
  EXPECT_EQ(e.metadata["summary"], "Test session for JSONL parsing");
  ASSERT_GE(e.steps.size(), 4u);
  EXPECT_EQ(e.steps[0].tool, "llm");
  EXPECT_EQ(e.steps[0].observation, "I'll create that function for you.");
  EXPECT_EQ(e.steps[0].latency_ms, 5000);  // from the prompt to the answer
  EXPECT_EQ(e.steps[1].tool, "Write");
  EXPECT_EQ(e.steps[1].action, "/project/hello.py");
  EXPECT_EQ(e.steps[1].observation, "File written successfully");
  EXPECT_EQ(e.steps[1].latency_ms, 5000);  // tool_use to tool_result
  EXPECT_TRUE(e.steps[1].success);
  EXPECT_EQ(e.steps[1].metadata["tool_use_id"], "toolu_001");
  EXPECT_EQ(e.steps[3].tool, "Bash");
  EXPECT_EQ(e.steps[3].action, "git add . && git commit -m 'Add hello function'");
  EXPECT_EQ(e.status, EpisodeStatus::kCompleted);
}

TEST(ClaudeCode, ATranscriptsModelTurnsToolPairsAndSidechains) {
  TranscriptReader reader{Limits{}};
  auto add = [&](const json& line) { return reader.Add(line); };
  const json usage = {{"input_tokens", 10},
                      {"cache_read_input_tokens", 1000},
                      {"cache_creation_input_tokens", 5},
                      {"output_tokens", 20}};
  ASSERT_OK(add({{"type", "user"},
                 {"timestamp", "2026-01-01T00:00:00Z"},
                 {"message", {{"role", "user"}, {"content", "Fix the build"}}}}));
  // One model turn over two lines (text, then a tool use): one llm step, tokens counted once.
  for (const json& block :
       {json{{"type", "text"}, {"text", "Looking."}}, json{{"type", "tool_use"},
                                                           {"id", "t1"},
                                                           {"name", "Bash"},
                                                           {"input", {{"command", "make"}}}}}) {
    ASSERT_OK(add({{"type", "assistant"},
                   {"timestamp", "2026-01-01T00:00:02Z"},
                   {"message",
                    {{"id", "msg_1"},
                     {"model", "claude-sonnet-4-5"},
                     {"content", json::array({block})},
                     {"usage", usage}}}}));
  }
  ASSERT_OK(add({{"type", "user"},
                 {"timestamp", "2026-01-01T00:00:05Z"},
                 {"message",
                  {{"content",
                    {{{"type", "tool_result"},
                      {"tool_use_id", "t1"},
                      {"content", {{{"type", "text"}, {"text", "make: *** Error 2"}}}},
                      {"is_error", true}}}}}}}));
  ASSERT_OK(add(
      {{"type", "user"}, {"isSidechain", true}, {"message", {{"content", "Review the diff"}}}}));
  ASSERT_OK(add({{"type", "assistant"},
                 {"message",
                  {{"id", "msg_2"},
                   {"content",
                    {{{"type", "tool_use"},
                      {"id", "t2"},
                      {"name", "Read"},
                      {"input", {{"file_path", "/a"}}}}}}}}}));
  EXPECT_EQ(add({{"type", "user"},
                 {"message", {{"content", {{{"type", "tool_result"}, {"tool_use_id", "t9"}}}}}}})
                .message(),
            "message.content[0]: a tool_result for unknown tool_use_id \"t9\"");
  EXPECT_EQ(add({{"type", "assistant"}}).message(), "a \"assistant\" line needs a message object");
  EXPECT_EQ(add(json::array()).message(), "a transcript line must be a JSON object");
  const Episode e = ValueOf(reader.Finish());
  ASSERT_EQ(e.steps.size(), 5u);
  EXPECT_EQ(e.steps[0].tool, "llm");
  EXPECT_EQ(e.steps[0].action, "claude-sonnet-4-5");
  EXPECT_EQ(e.steps[0].tokens, 1035);
  EXPECT_EQ(e.steps[0].observation, "Looking.");
  EXPECT_EQ(e.steps[1].tool, "Bash");
  EXPECT_FALSE(e.steps[1].success);
  EXPECT_EQ(e.steps[1].observation, "make: *** Error 2");
  EXPECT_EQ(e.steps[1].latency_ms, 3000);
  EXPECT_EQ(e.steps[2].tool, "user");
  EXPECT_EQ(e.steps[2].metadata["sidechain"], "true");
  EXPECT_EQ(e.steps[4].tool, "Read");
  EXPECT_EQ(e.steps[4].metadata["reply"], "missing");  // no result: a failed step
  EXPECT_EQ(e.outcome->kind, OutcomeKind::kFailure);
  EXPECT_EQ(e.ended_at, "2026-01-01T00:00:05.000Z");
  TranscriptReader empty{Limits{}};
  EXPECT_EQ(empty.Finish().status().message(), "the transcript has no user text (no task)");
}

}  // namespace
}  // namespace engram::claude_code
