// The MCP session on a real SQLite file: protocol negotiation, every JSON-RPC error class, and
// every tool, including the ways an agent can call one wrongly.
#include "mcp/session.h"

#include <fmt/format.h>

#include "engram/engram.h"
#include "mcp/tools.h"
#include "test_util.h"

namespace engram::mcp {
namespace {

using nlohmann::json;
using testing::TempDir;

class McpSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Memory::open(dir_.url("mcp.db"));
    ASSERT_OK(m);
    memory_ = std::move(*m);
    session_ = std::make_unique<Session>(*memory_);
  }
  json Request(const std::string& method, json params = json::object()) {
    auto reply = session_->handle(
        json{{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}});
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(json());
  }
  json Initialize(const std::string& version) {
    return Request("initialize", {{"protocolVersion", version},
                                  {"capabilities", json::object()},
                                  {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
  }
  // A tools/call result (an error reply fails the test).
  json Call(const std::string& tool, json args) {
    json reply = Request("tools/call", {{"name", tool}, {"arguments", std::move(args)}});
    EXPECT_TRUE(reply.contains("result")) << reply.dump();
    return reply.value("result", json::object());
  }
  std::string ErrorText(const std::string& tool, json args) {
    json r = Call(tool, std::move(args));
    EXPECT_EQ(r.value("isError", false), true) << r.dump();
    return r["content"][0].value("text", "");
  }

  TempDir dir_;
  std::unique_ptr<Memory> memory_;
  std::unique_ptr<Session> session_;
  int id_ = 0;
};

TEST_F(McpSessionTest, NegotiatesEachVersionItSpeaksAndOffersTheNewestOtherwise) {
  for (const char* v : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}) {
    json r = Initialize(v);
    EXPECT_EQ(r["result"]["protocolVersion"], v);
    EXPECT_EQ(r["result"]["serverInfo"]["name"], "engram");
    EXPECT_TRUE(r["result"]["capabilities"].contains("tools"));
  }
  EXPECT_EQ(Initialize("1999-01-01")["result"]["protocolVersion"], "2025-11-25");
  EXPECT_FALSE(session_->handle(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}));
  EXPECT_TRUE(session_->initialized());
  EXPECT_EQ(Request("ping")["result"], json::object());
}

TEST_F(McpSessionTest, ListsEveryToolWithSchemasAsTheVersionAllows) {
  Initialize("2025-06-18");
  json tools = Request("tools/list")["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& t : tools) {
    names.push_back(t["name"]);
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t["name"];
    EXPECT_EQ(t["outputSchema"]["type"], "object") << t["name"];
    EXPECT_GT(t["description"].get<std::string>().size(), 40u) << t["name"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "start_episode", "log_step", "log_steps", "complete_episode", "get_episode",
                       "list_episodes", "recall", "suggest_next_step", "list_patterns", "stats"}));
  Initialize("2025-03-26");  // no structured output before 2025-06-18
  const json before = Request("tools/list");
  for (const auto& t : before["result"]["tools"]) EXPECT_FALSE(t.contains("outputSchema"));
  json r = Call("start_episode", {{"task", "t"}});
  EXPECT_FALSE(r.contains("structuredContent"));
  EXPECT_TRUE(json::parse(r["content"][0]["text"].get<std::string>()).contains("episode_id"));
}

TEST_F(McpSessionTest, JsonRpcErrorsHaveTheirCodes) {
  auto code = [](const std::optional<std::string>& reply) {
    return json::parse(*reply)["error"]["code"].get<int>();
  };
  EXPECT_EQ(code(session_->handle_text("{not json")), -32700);
  EXPECT_EQ(code(session_->handle_text(R"({"id": 1, "method": "ping"})")), -32600);  // no jsonrpc
  EXPECT_EQ(code(session_->handle_text(R"({"jsonrpc": "2.0", "id": 1, "method": 5})")), -32600);
  EXPECT_EQ(
      code(session_->handle_text(R"({"jsonrpc": "2.0", "id": 1, "method": "resources/list"})")),
      -32601);
  EXPECT_EQ(
      code(session_->handle_text(R"({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": 3})")),
      -32602);
  EXPECT_EQ(Request("tools/call", {{"name", "no_such_tool"}})["error"]["code"], -32602);
  EXPECT_EQ(Request("tools/call", {{"name", "stats"}, {"arguments", "x"}})["error"]["code"],
            -32602);
  // A batch outside 2025-03-26 is an invalid request; in it, each message is answered.
  EXPECT_EQ(code(session_->handle_text(R"([{"jsonrpc": "2.0", "id": 1, "method": "ping"}])")),
            -32600);
  Initialize("2025-03-26");
  auto batch = session_->handle(json::parse(
      R"([{"jsonrpc": "2.0", "id": 7, "method": "ping"},
          {"jsonrpc": "2.0", "method": "notifications/initialized"}])"));
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ((*batch)[0]["id"], 7);
  // A response sent to engram wants no reply.
  EXPECT_FALSE(session_->handle(json{{"jsonrpc", "2.0"}, {"id", 3}, {"result", json::object()}}));
}

TEST_F(McpSessionTest, AWholeEpisodeThroughTheTools) {
  Initialize("2025-11-25");
  json started = Call("start_episode", {{"task", "Fix the flaky upload test"},
                                        {"task_type", "debugging"},
                                        {"context", {{"domain", "web"}, {"language", "python"}}}});
  const std::string id = started["structuredContent"]["episode_id"];
  json one = Call("log_step", {{"episode_id", id},
                               {"tool", "pytest"},
                               {"action", "pytest tests/test_upload.py"},
                               {"success", false},
                               {"observation", "AssertionError: timeout after 5s"},
                               {"latency_ms", 5100}});
  EXPECT_EQ(one["structuredContent"]["step_number"], 1);
  json steps = json::array();
  for (int i = 0; i < 3; ++i) {
    steps.push_back({{"tool", i == 2 ? "pytest" : "edit"}, {"action", "step"}, {"latency_ms", 10}});
  }
  json burst = Call("log_steps", {{"episode_id", id}, {"steps", steps}});
  EXPECT_EQ(burst["structuredContent"]["step_numbers"], json::array({2, 3, 4}));
  json done =
      Call("complete_episode", {{"episode_id", id}, {"kind", "success"}, {"summary", "fixed"}});
  EXPECT_EQ(done["structuredContent"]["status"], "completed");
  EXPECT_TRUE(done["structuredContent"]["reward"].contains("total"));
  json shown = Call("get_episode", {{"episode_id", id}});
  EXPECT_EQ(shown["structuredContent"]["steps"].size(), 4u);
  json listed = Call("list_episodes", {{"status", "completed"}, {"limit", 10}});
  EXPECT_EQ(listed["structuredContent"]["episodes"].size(), 1u);
  json recalled = Call("recall", {{"task", "flaky upload test"}, {"context", {{"domain", "web"}}}});
  ASSERT_EQ(recalled["structuredContent"]["episodes"].size(), 1u);
  EXPECT_EQ(recalled["structuredContent"]["episodes"][0]["id"], id);
  json patterns = Call("list_patterns", {{"type", "error_recovery"}});
  EXPECT_EQ(patterns["structuredContent"]["patterns"].size(), 1u);
  json stats = Call("stats", {{"tool", "pytest"}});
  EXPECT_FALSE(stats["isError"]);
  EXPECT_EQ(ErrorText("complete_episode", {{"episode_id", id}, {"kind", "success"}}),
            fmt::format("episode {} is already completed", id));
}

TEST_F(McpSessionTest, BadArgumentsAreToolErrorsThatNameTheField) {
  Initialize("2025-06-18");
  EXPECT_EQ(ErrorText("log_step", {{"tool", "git"}}), "episode_id is missing");
  EXPECT_EQ(ErrorText("get_episode", {{"episode_id", 7}}), "episode_id must be a string, got 7");
  EXPECT_NE(ErrorText("get_episode", {{"episode_id", "abc"}}).find("is malformed"),
            std::string::npos);
  EXPECT_NE(ErrorText("get_episode", {{"episode_id", "0190a000-0000-7000-8000-000000000001"}})
                .find("not found"),
            std::string::npos);
  EXPECT_EQ(ErrorText("start_episode", {{"task", ""}}), "task is empty");
  EXPECT_EQ(ErrorText("start_episode", {{"task", "t"}, {"colour", "red"}}),
            "episode has an unknown field \"colour\" (known: task, task_type, context, metadata)");
  const std::string id = Call("start_episode", {{"task", "t"}})["structuredContent"]["episode_id"];
  EXPECT_EQ(ErrorText("log_step", {{"episode_id", id}, {"tool", "git"}, {"latency_ms", "fast"}}),
            "latency_ms must be an integer from 0 to 9007199254740991, got \"fast\"");
  EXPECT_EQ(ErrorText("log_steps", {{"episode_id", id}, {"steps", {{{"tool", ""}}}}}),
            "steps[0]: tool is empty");
  EXPECT_EQ(ErrorText("log_steps", {{"episode_id", id}}),
            "steps must be an array of steps, got null");
  EXPECT_EQ(ErrorText("complete_episode", {{"episode_id", id}, {"kind", "won"}}),
            "kind must be one of success, partial_success, failure, abstained, got \"won\"");
  EXPECT_EQ(ErrorText("list_episodes", {{"limit", 0}}), "limit must be between 1 and 10000, got 0");
  EXPECT_EQ(ErrorText("recall", {{"task", "t"}, {"k", 0}}), "k must be 1 to 100, got 0");
  EXPECT_EQ(ErrorText("suggest_next_step", {{"episode_id", id}, {"k", 21}}),
            "k must be 1 to 20, got 21");
  EXPECT_EQ(ErrorText("suggest_next_step", {{"episode_id", id}, {"k", "two"}}),
            "k must be an integer from 1 to 20, got \"two\"");
  EXPECT_EQ(ErrorText("suggest_next_step", {{"episode_id", id}, {"limit", 2}}).substr(0, 26),
            "suggest has an unknown fie");
  EXPECT_EQ(ErrorText("suggest_next_step", {{"episode_id", "abc"}}).substr(0, 27),
            "episode id \"abc\" is malform");
  EXPECT_EQ(
      ErrorText("suggest_next_step", {{"episode_id", "0190a000-0000-7000-8000-00000000000f"}}),
      "episode 0190a000-0000-7000-8000-00000000000f not found");
  EXPECT_EQ(ErrorText("list_patterns", {{"min_success", "high"}}),
            "min_success must be a number from 0 to 1, got \"high\"");
  EXPECT_EQ(ErrorText("stats", {{"since", "yesterday"}}).substr(0, 5), "since");
}

}  // namespace
}  // namespace engram::mcp
