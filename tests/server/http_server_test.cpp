// engram serve's HTTP/JSON API and MCP over Streamable HTTP, over real HTTP on loopback, on
// both stores.
#include "server/http_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <thread>

#include "engram/engram.h"
#include "otlp/decode.h"
#include "otlp/gzip_test_util.h"
#include "server/serving.h"
#include "store/postgres/db.h"
#include "store/sqlite/db.h"
#include "store_param.h"
#include "test_util.h"

namespace engram::server {
namespace {

using nlohmann::json;
using testing::StoreKind;
using testing::TempDir;

class HttpServerTest : public testing::OnEachStore {
 protected:
  void Start(ServeOptions options = {}) {
    ASSERT_OK(serving_.Start(stores_.url("http.db"), options));
    memory_ = serving_.memory();
    server_ = serving_.server();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_connection_timeout(2);
    client_->set_read_timeout(10);
  }
  // Status and parsed body of a request.
  std::pair<int, json> Send(const std::string& method, const std::string& path,
                            const std::string& body = "", httplib::Headers headers = {}) {
    httplib::Result r = method == "GET" ? client_->Get(path, headers)
                        : method == "DELETE"
                            ? client_->Delete(path, headers)
                            : client_->Post(path, headers, body, "application/json");
    EXPECT_TRUE(r) << method << " " << path << ": " << httplib::to_string(r.error());
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  std::string NewEpisode() {
    auto [status, e] = Send("POST", "/v1/episodes",
                            R"({"task": "Fix the upload test", "context": {"domain": "web"}})");
    EXPECT_EQ(status, 201);
    return e.value("id", "");
  }

  testing::Serving serving_;
  Memory* memory_ = nullptr;
  HttpServer* server_ = nullptr;
  std::unique_ptr<httplib::Client> client_;
};

TEST_P(HttpServerTest, AnEpisodeFromStartToRecall) {
  Start();
  EXPECT_EQ(Send("GET", "/healthz").second["status"], "ok");
  const std::string id = NewEpisode();
  auto [one, first] =
      Send("POST", "/v1/episodes/" + id + "/steps",
           R"({"tool": "pytest", "success": false, "observation": "Error: timeout"})");
  EXPECT_EQ(one, 201);
  EXPECT_EQ(first["step_numbers"], json::array({1}));
  auto [many, more] = Send("POST", "/v1/episodes/" + id + "/steps",
                           R"([{"tool": "edit"}, {"tool": "pytest", "latency_ms": 900}])");
  EXPECT_EQ(many, 201);
  EXPECT_EQ(more["step_numbers"], json::array({2, 3}));
  // Acknowledged means durable: the store has them without a flush.
  EXPECT_EQ(memory_->get_episode(id)->steps.size(), 3u);
  auto [done, completed] = Send("POST", "/v1/episodes/" + id + "/complete",
                                R"({"kind": "success", "summary": "fixed"})");
  EXPECT_EQ(done, 200);
  EXPECT_EQ(completed["status"], "completed");
  auto [got, shown] = Send("GET", "/v1/episodes/" + id);
  EXPECT_EQ(got, 200);
  EXPECT_EQ(shown["steps"].size(), 3u);
  auto [listed, page] = Send("GET", "/v1/episodes?status=completed&limit=5");
  EXPECT_EQ(listed, 200);
  EXPECT_EQ(page["episodes"].size(), 1u);
  auto [recalled, recall] = Send("POST", "/v1/recall", R"({"task": "upload test", "k": 3})");
  EXPECT_EQ(recalled, 200);
  ASSERT_EQ(recall["episodes"].size(), 1u);
  EXPECT_EQ(recall["episodes"][0]["id"], id);
  auto [p, patterns] = Send("GET", "/v1/patterns?type=error_recovery&min_success=0.5");
  EXPECT_EQ(p, 200);
  EXPECT_EQ(patterns["patterns"].size(), 1u);
  auto [st, stats] = Send("GET", "/v1/stats?tool=pytest");
  EXPECT_EQ(st, 200);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("engram_steps_ingested_total 3"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("engram_http_requests_total{route=\"/v1/episodes/{id}/"
                               "steps\",method=\"POST\",status=\"201\"} 2"),
            std::string::npos);
  // The writer's side: the three steps committed, each commit counted in the histogram.
  auto value = [&](const std::string& name) {
    const size_t at = metrics->body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(metrics->body.substr(at + name.size() + 2));
  };
  EXPECT_EQ(value("engram_steps_committed_total"), 3);
  EXPECT_EQ(value("engram_steps_failed_total"), 0);
  EXPECT_EQ(value("engram_steps_queued"), 0);
  const double commits = value("engram_commit_duration_seconds_count");
  EXPECT_GE(commits, 1);
  EXPECT_LE(commits, 2);
  EXPECT_EQ(value("engram_commit_duration_seconds_bucket{le=\"+Inf\"}"), commits);
  EXPECT_GT(value("engram_commit_duration_seconds_sum"), 0);
  // Suggestions for a new episode at the same task: after a failed pytest, what followed it.
  const std::string next = NewEpisode();
  ASSERT_EQ(Send("POST", "/v1/episodes/" + next + "/steps",
                 R"({"tool": "pytest", "success": false, "observation": "Error: timeout"})")
                .first,
            201);
  auto [suggested, suggestions] = Send("GET", "/v1/episodes/" + next + "/suggest?k=2");
  EXPECT_EQ(suggested, 200);
  ASSERT_FALSE(suggestions["suggestions"].empty()) << suggestions.dump();
  EXPECT_LE(suggestions["suggestions"].size(), 2u);
  const json& best = suggestions["suggestions"][0];
  EXPECT_EQ(best["tool"], "edit");
  EXPECT_EQ(best["support"], 1);
  for (const char* field : {"score", "success_rate", "example_action", "why"}) {
    EXPECT_TRUE(best.contains(field)) << field;
  }
  ASSERT_EQ(Send("DELETE", "/v1/episodes/" + next).first, 204);
  auto [deleted, none] = Send("DELETE", "/v1/episodes/" + id);
  EXPECT_EQ(deleted, 204);
  EXPECT_EQ(Send("GET", "/v1/episodes/" + id).first, 404);
}

TEST_P(HttpServerTest, ErrorsAreJsonWithTheRightStatus) {
  ServeOptions o;
  o.limits.max_body_bytes = 1024;
  Start(o);
  const std::string id = NewEpisode();
  auto error = [&](const std::string& method, const std::string& path, const std::string& body) {
    auto [status, j] = Send(method, path, body);
    EXPECT_TRUE(j.contains("error")) << path << " " << j.dump();
    return std::pair{status, j["error"].value("message", "")};
  };
  auto [bad, why] = error("POST", "/v1/episodes", "{nope");
  EXPECT_EQ(bad, 400);
  EXPECT_EQ(why.rfind("the request body is not valid JSON: parse error at line 1", 0), 0u) << why;
  EXPECT_EQ(error("POST", "/v1/episodes", R"({"task": 5})"),
            (std::pair{422, std::string("task must be a string, got 5")}));
  EXPECT_EQ(error("POST", "/v1/episodes/" + id + "/steps", R"({"tool": "git", "colour": 1})").first,
            422);
  EXPECT_EQ(error("POST", "/v1/episodes/" + id + "/steps", "[]"),
            (std::pair{422, std::string("the array of steps is empty")}));
  EXPECT_EQ(error("POST", "/v1/episodes/" + id + "/steps", R"(["x"])").first, 422);
  // One invalid step in an array: the error names it and none of the array is written.
  EXPECT_EQ(error("POST", "/v1/episodes/" + id + "/steps", R"([{"tool": "a"}, {"tool": ""}])"),
            (std::pair{422, std::string("steps[1]: tool is empty")}));
  EXPECT_EQ(memory_->get_episode(id)->steps.size(), 0u);
  auto [utf8, utf8_why] = error("POST", "/v1/episodes/" + id + "/steps", "{\"tool\": \"\xff\"}");
  EXPECT_EQ(utf8, 400);
  EXPECT_NE(utf8_why.find("UTF-8"), std::string::npos) << utf8_why;
  EXPECT_EQ(error("GET", "/v1/episodes/0190a000-0000-7000-8000-000000000001", "").first, 404);
  EXPECT_EQ(error("GET", "/v1/episodes/abc", "").first, 422);
  EXPECT_EQ(error("GET", "/v1/no/such/route", "").first, 404);
  EXPECT_EQ(error("GET", "/v1/episodes?limit=0", "").first, 422);
  EXPECT_EQ(error("GET", "/v1/episodes/" + id + "/suggest?k=0", ""),
            (std::pair{422, std::string("k must be 1 to 20, got 0")}));
  EXPECT_EQ(error("GET", "/v1/episodes/" + id + "/suggest?k=many", ""),
            (std::pair{422, std::string("k must be an integer, got \"many\"")}));
  EXPECT_EQ(error("GET", "/v1/episodes/" + id + "/suggest?colour=1", "").first, 422);
  EXPECT_EQ(error("GET", "/v1/episodes/0190a000-0000-7000-8000-000000000001/suggest", "").first,
            404);
  EXPECT_EQ(error("GET", "/v1/episodes/abc/suggest", "").first, 422);
  EXPECT_EQ(error("GET", "/v1/patterns?min_success=high", ""),
            (std::pair{422, std::string("min_success must be a number, got \"high\"")}));
  EXPECT_EQ(error("POST", "/v1/episodes", std::string(2000, ' ')).first, 413);
  ASSERT_EQ(Send("POST", "/v1/episodes/" + id + "/complete", R"({"kind": "failure"})").first, 200);
  EXPECT_EQ(error("POST", "/v1/episodes/" + id + "/complete", R"({"kind": "failure"})").first, 409);
  EXPECT_EQ(error("POST", "/v1/episodes/" + id + "/steps", R"({"tool": "git"})").first, 409);
}

TEST_P(HttpServerTest, HostileBodiesAreRefusedByTheirReason) {
  ServeOptions o;
  Start(o);
  const std::string id = NewEpisode();
  const std::string steps = "/v1/episodes/" + id + "/steps";
  auto message = [&](const std::string& path, const std::string& body) {
    auto [status, j] = Send("POST", path, body);
    return std::pair{status, j["error"].value("message", "")};
  };
  // 70,000 levels of nesting in a step's parameters, and in an MCP message's id.
  const std::string deep(70'000, '[');
  const std::string too_deep =
      "the request body is nested deeper than 64 levels (objects and arrays together), the limit";
  EXPECT_EQ(message(steps, R"({"tool": "x", "parameters": {"a": )" + deep),
            (std::pair{400, too_deep}));
  auto [mcp, reply] = Send("POST", "/mcp", R"({"jsonrpc": "2.0", "id": )" + deep);
  EXPECT_EQ(mcp, 400);
  EXPECT_EQ(reply["error"]["code"], -32700);
  // 64 levels are read.
  const std::string nested = std::string(62, '[') + std::string(62, ']');
  EXPECT_EQ(Send("POST", steps, R"({"tool": "x", "parameters": {"a": )" + nested + "}}").first,
            201);
  // A number beyond a double's range is a 400 naming the field, never the JSON library's text.
  EXPECT_EQ(message(steps, R"({"tool": "x", "latency_ms": 1e400})"),
            (std::pair{400, std::string("the request body is out of range at latency_ms: the "
                                        "number 1e400 is beyond ±1.7976931348623157e+308")}));
  EXPECT_EQ(message(steps, R"({"tool": "x", "tokens": 9007199254740992})"),
            (std::pair{422, std::string("steps[0]: tokens must be an integer from 0 to "
                                        "9007199254740991 or "
                                        "null, got 9007199254740992")}));
  EXPECT_EQ(memory_->get_episode(id)->steps.size(), 1u);  // the 64-level one alone
}

TEST_P(HttpServerTest, ReadyzAsksTheStoreHealthzDoesNot) {
  Start();
  EXPECT_EQ(Send("GET", "/readyz").first, 200);
  EXPECT_EQ(Send("GET", "/readyz").second["status"], "ok");
  // The store's tables gone, as a database restored empty or a wrong schema would leave it.
  const std::string url = stores_.url("http.db");
  if (stores_.kind() == StoreKind::kSqlite) {
    auto db = sqlite::Connection::Open(url.substr(std::string("sqlite://").size()),
                                       /*create=*/false, std::chrono::seconds(5));
    ASSERT_OK(db);
    ASSERT_OK((*db)->exec("DROP TABLE episodes"));
  } else {
    auto db = pg::Connection::Open(url);
    ASSERT_OK(db);
    ASSERT_OK((*db)->exec("DROP SCHEMA engram CASCADE"));
  }
  auto [status, body] = Send("GET", "/readyz");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["error"]["code"], "unavailable");
  EXPECT_EQ(body["error"]["message"].get<std::string>().rfind("the store: ", 0), 0u) << body;
  EXPECT_EQ(Send("GET", "/healthz").first, 200);
}

// OTLP/HTTP on the same port: protobuf answered in protobuf, JSON in JSON, gzip taken; a body
// that does not decode is 400 and another type 415, both with OTLP's Status body.
TEST_P(HttpServerTest, OtlpExportsAreAnsweredInTheirOwnEncoding) {
  Start();
  otlp::collector::ExportTraceServiceRequest request;
  otlp::trace::Span& span = *request.add_resource_spans()->add_scope_spans()->add_spans();
  span.set_trace_id(std::string(16, '\x11'));
  span.set_span_id(std::string(8, '\x22'));
  span.set_name("execute_tool read_file");
  span.set_start_time_unix_nano(1764680000000000000u);
  span.set_end_time_unix_nano(1764680000005000000u);
  for (const auto& [k, v] : {std::pair{"gen_ai.operation.name", "execute_tool"},
                             std::pair{"gen_ai.tool.name", "read_file"}}) {
    auto* a = span.add_attributes();
    a->set_key(k);
    a->mutable_value()->set_string_value(v);
  }
  auto proto = client_->Post("/v1/traces", request.SerializeAsString(), "application/x-protobuf");
  ASSERT_TRUE(proto);
  EXPECT_EQ(proto->status, 200);
  EXPECT_EQ(proto->get_header_value("Content-Type"), "application/x-protobuf");
  otlp::collector::ExportTraceServiceResponse answer;
  EXPECT_TRUE(answer.ParseFromString(proto->body));
  EXPECT_FALSE(answer.has_partial_success());
  // The same span again, as JSON and gzip-encoded: stored once.
  const std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{
      "traceId":"11111111111111111111111111111111","spanId":"2222222222222222",
      "name":"execute_tool read_file","startTimeUnixNano":"1764680000000000000",
      "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}}]}]}]}]})";
  httplib::Headers gzip = {{"Content-Encoding", "gzip"}};
  auto json_answer = client_->Post("/v1/traces", gzip, otlp_test::Gzip(body), "application/json");
  ASSERT_TRUE(json_answer);
  EXPECT_EQ(json_answer->status, 200);
  EXPECT_EQ(json_answer->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json_answer->body, "{}");
  auto [listed, page] = Send("GET", "/v1/episodes");
  ASSERT_EQ(page["episodes"].size(), 1u);
  EXPECT_EQ(page["episodes"][0]["task"], "execute_tool read_file");
  auto [shown, episode] =
      Send("GET", "/v1/episodes/" + page["episodes"][0]["id"].get<std::string>());
  EXPECT_EQ(episode["steps"].size(), 1u);
  // Refusals.
  auto bad = client_->Post("/v1/traces", "\x0a\xff\xff", "application/x-protobuf");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->get_header_value("Content-Type"), "application/x-protobuf");
  auto bad_json = client_->Post("/v1/traces", "[1]", "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_EQ(json::parse(bad_json->body)["code"], 3);
  auto text = client_->Post("/v1/traces", "spans", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 415);
  EXPECT_EQ(json::parse(text->body)["message"],
            "an OTLP export is application/x-protobuf or application/json, got Content-Type "
            "\"text/plain\"");
  auto brotli = client_->Post("/v1/traces", {{"Content-Encoding", "br"}}, "{}", "application/json");
  ASSERT_TRUE(brotli);
  EXPECT_EQ(brotli->status, 415);
}

TEST_P(HttpServerTest, ATokenGuardsEveryRouteButHealthz) {
  ServeOptions o;
  o.token = "s3cret";
  Start(o);
  EXPECT_EQ(Send("GET", "/healthz").first, 200);
  EXPECT_EQ(Send("GET", "/readyz").first, 200);
  auto [status, body] = Send("GET", "/v1/episodes");
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body["error"]["code"], "unauthorized");
  EXPECT_EQ(Send("GET", "/v1/episodes", "", {{"Authorization", "Bearer wrong!"}}).first, 401);
  EXPECT_EQ(Send("GET", "/metrics", "", {{"Authorization", "Bearer s3cret"}}).first, 200);
  EXPECT_EQ(Send("GET", "/v1/episodes", "", {{"Authorization", "Bearer s3cret"}}).first, 200);
  // The scheme in any case; the token exactly, whatever the length of the guess.
  EXPECT_EQ(Send("GET", "/v1/episodes", "", {{"Authorization", "bEaReR s3cret"}}).first, 200);
  EXPECT_EQ(Send("GET", "/v1/episodes", "", {{"Authorization", "Bearer S3cret"}}).first, 401);
  EXPECT_EQ(Send("GET", "/v1/episodes", "", {{"Authorization", "Bearer s3cre"}}).first, 401);
  EXPECT_EQ(Send("GET", "/v1/episodes", "", {{"Authorization", "Bearer s3crett"}}).first, 401);
  EXPECT_EQ(Send("GET", "/v1/episodes", "", {{"Authorization", "Bearers3cret"}}).first, 401);
}

// What the dashboard reads: totals in lists, lists by id and outcome, an episode's head and its
// steps by page, the patterns of one episode, the timeline and latency ranges of the statistics.
TEST_P(HttpServerTest, TheDashboardsReadsArePartOfTheApi) {
  Start();
  const std::string a = NewEpisode(), b = NewEpisode();
  std::string steps = "[";
  for (int i = 1; i <= 25; ++i) {
    steps += fmt::format(R"({}{{"tool": "t{}", "latency_ms": {}, "tokens": 10, "success": {}}})",
                         i > 1 ? "," : "", i % 3, i * 40, i % 5 == 0 ? "false" : "true");
  }
  ASSERT_EQ(Send("POST", "/v1/episodes/" + a + "/steps", steps + "]").first, 201);
  ASSERT_EQ(Send("POST", "/v1/episodes/" + a + "/complete", R"({"kind": "failure"})").first, 200);

  auto [listed, list] = Send("GET", "/v1/episodes?ids=" + a + "," + b);
  ASSERT_EQ(listed, 200);
  ASSERT_EQ(list["episodes"].size(), 2u);
  EXPECT_EQ(list["episodes"][0]["id"], b);  // newest first
  EXPECT_EQ(list["episodes"][1]["totals"],
            json({{"steps", 25}, {"failed_steps", 5}, {"tokens", 250}}));
  EXPECT_EQ(list["episodes"][0]["totals"]["steps"], 0);
  auto [failed, failures] = Send("GET", "/v1/episodes?outcome=failure");
  EXPECT_EQ(failed, 200);
  ASSERT_EQ(failures["episodes"].size(), 1u);
  EXPECT_EQ(failures["episodes"][0]["id"], a);
  EXPECT_EQ(Send("GET", "/v1/episodes?outcome=success").second["episodes"].size(), 0u);
  EXPECT_EQ(Send("GET", "/v1/episodes?outcome=won").first, 422);
  EXPECT_EQ(Send("GET", "/v1/episodes?ids=" + a + ",nope").first, 422);
  EXPECT_EQ(Send("GET", "/v1/episodes?ids=,").first, 422);
  EXPECT_EQ(Send("GET", "/v1/episodes/" + a + "?step=false").second["error"]["message"],
            "unknown query parameter \"step\" (known: steps)");

  auto [head, h] = Send("GET", "/v1/episodes/" + a + "?steps=false");
  EXPECT_EQ(head, 200);
  EXPECT_FALSE(h.contains("steps"));
  EXPECT_EQ(h["totals"]["steps"], 25);
  EXPECT_EQ(Send("GET", "/v1/episodes/" + a + "?steps=no").first, 422);
  EXPECT_EQ(Send("GET", "/v1/episodes/01a23a4c-7ef2-70ad-aa59-d381849f3201?steps=false").first,
            404);

  std::vector<int64_t> numbers;
  for (std::string after = "0"; !after.empty();) {
    auto [status, page] = Send("GET", "/v1/episodes/" + a + "/steps?limit=10&after=" + after);
    ASSERT_EQ(status, 200);
    for (const auto& step : page["steps"]) numbers.push_back(step["step_number"]);
    after = page["next_after"].is_null() ? "" : page["next_after"].dump();
  }
  ASSERT_EQ(numbers.size(), 25u);
  EXPECT_EQ(numbers.front(), 1);
  EXPECT_EQ(numbers.back(), 25);
  EXPECT_EQ(Send("GET", "/v1/episodes/" + a + "/steps?after=20").second["steps"].size(), 5u);
  EXPECT_EQ(Send("GET", "/v1/episodes/" + a + "/steps?limit=0").first, 422);
  EXPECT_EQ(Send("GET", "/v1/episodes/" + a + "/steps?limit=10001").first, 422);
  EXPECT_EQ(Send("GET", "/v1/episodes/" + a + "/steps?after=-1").first, 422);
  EXPECT_EQ(Send("GET", "/v1/episodes/01a23a4c-7ef2-70ad-aa59-d381849f3201/steps").first, 404);

  auto [shown, patterns] = Send("GET", "/v1/patterns?episode=" + a);
  EXPECT_EQ(shown, 200);
  EXPECT_FALSE(patterns["patterns"].empty());
  for (const auto& p : patterns["patterns"]) {  // each as the list has it, evidence included
    EXPECT_EQ(p["evidence"], json::array({a})) << p.dump();
  }
  EXPECT_EQ(Send("GET", "/v1/patterns?episode=" + a + "&min_support=2").second["patterns"].size(),
            0u);
  EXPECT_TRUE(Send("GET", "/v1/patterns?episode=" + b).second["patterns"].empty());
  EXPECT_EQ(Send("GET", "/v1/patterns?episode=" + a + "&domain=web").first, 422);

  auto [counted, stats] = Send("GET", "/v1/stats?bucket=day");
  EXPECT_EQ(counted, 200);
  EXPECT_EQ(stats["bucket"], "day");
  ASSERT_EQ(stats["timeline"].size(), 1u);
  EXPECT_EQ(stats["timeline"][0]["steps"], 25);
  EXPECT_EQ(stats["timeline"][0]["failed_steps"], 5);
  EXPECT_EQ(stats["timeline"][0]["episodes"], 2);
  EXPECT_EQ(stats["timeline"][0]["outcomes"], json({{"failure", 1}}));
  EXPECT_TRUE(stats["timeline"][0]["start"].get<std::string>().ends_with("T00:00:00Z"));
  EXPECT_EQ(Send("GET", "/v1/stats").second["bucket"], "minute");  // data within minutes
  EXPECT_EQ(Send("GET", "/v1/stats?bucket=week").first, 422);
  int64_t calls = 0;
  for (const auto& tool : stats["tools"]) {
    ASSERT_EQ(tool["latency_histogram"].size(), stats["latency_bounds_ms"].size() + 1);
    for (const auto& n : tool["latency_histogram"]) calls += n.get<int64_t>();
  }
  EXPECT_EQ(calls, 25);
}

// The dashboard's page and assets need no token (they hold no data); the API behind them does.
TEST_P(HttpServerTest, TheDashboardIsServedFromTheBinary) {
  ServeOptions o;
  o.token = "s3cret";
  Start(o);
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("/assets/app.js"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"),
            std::string::npos);
  for (const char* asset : {"/assets/app.js", "/assets/style.css", "/assets/chart.min.js"}) {
    auto r = client_->Get(asset);
    ASSERT_TRUE(r) << asset;
    EXPECT_EQ(r->status, 200) << asset;
    EXPECT_GT(r->body.size(), 1000u) << asset;
    const std::string etag = r->get_header_value("ETag");
    auto again = client_->Get(asset, {{"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304) << asset;
  }
  EXPECT_NE(client_->Get("/assets/chart.min.js")->body.find("Chart.js v3"), std::string::npos);
  EXPECT_EQ(Send("GET", "/assets/nothing.js").first, 404);
  EXPECT_EQ(Send("GET", "/assets/index.html").first, 404);
  EXPECT_EQ(Send("GET", "/v1/stats").first, 401);
}

TEST(HttpServer, ListeningBeyondLoopbackNeedsAToken) {
  TempDir dir;
  auto m = Memory::open(dir.url("t.db"));
  ASSERT_OK(m);
  ServeOptions o;
  o.host = "0.0.0.0";
  o.port = 0;
  HttpServer server(**m, o);
  Status s = server.bind();
  EXPECT_TRUE(s.IsFailedPrecondition());
  EXPECT_NE(s.message().find("needs a bearer token"), std::string::npos) << s.message();
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_FALSE(IsLoopback("10.0.0.1"));
}

TEST(HttpServer, ASecondServerOnAPortInUseFailsToStart) {
  TempDir dir;
  auto m = Memory::open(dir.url("t.db"));
  ASSERT_OK(m);
  ServeOptions o;
  o.port = 0;
  HttpServer first(**m, o);
  ASSERT_OK(first.bind());
  o.port = first.port();
  HttpServer second(**m, o);
  Status s = second.bind();
  EXPECT_TRUE(s.IsIOError()) << s.message();
  EXPECT_NE(s.message().find("cannot listen on 127.0.0.1:" + std::to_string(o.port)),
            std::string::npos)
      << s.message();
}

TEST_P(HttpServerTest, McpOverStreamableHttpKeepsSessions) {
  Start();
  auto init = client_->Post(
      "/mcp", {{"Accept", "application/json, text/event-stream"}},
      R"({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})",
      "application/json");
  ASSERT_TRUE(init);
  EXPECT_EQ(init->status, 200);
  const std::string session = init->get_header_value("Mcp-Session-Id");
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(json::parse(init->body)["result"]["protocolVersion"], "2025-06-18");
  httplib::Headers h = {{"Mcp-Session-Id", session}};
  auto note =
      client_->Post("/mcp", h, R"({"jsonrpc": "2.0", "method": "notifications/initialized"})",
                    "application/json");
  ASSERT_TRUE(note);
  EXPECT_EQ(note->status, 202);
  auto call = client_->Post(
      "/mcp", h,
      R"({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "start_episode", "arguments": {"task": "t"}}})",
      "application/json");
  ASSERT_TRUE(call);
  EXPECT_EQ(json::parse(call->body)["result"]["isError"], false);
  EXPECT_EQ(Send("POST", "/mcp", R"({"jsonrpc": "2.0", "id": 3, "method": "ping"})").first, 400);
  EXPECT_EQ(Send("POST", "/mcp", R"({"jsonrpc": "2.0", "id": 3, "method": "ping"})",
                 {{"Mcp-Session-Id", "nope"}})
                .first,
            404);
  EXPECT_EQ(Send("POST", "/mcp", "{bad", h).second["error"]["code"], -32700);
  // The version header, when sent, must name a version the server speaks.
  auto with_version = [&](const std::string& v) {
    return Send("POST", "/mcp", R"({"jsonrpc": "2.0", "id": 5, "method": "ping"})",
                {{"Mcp-Session-Id", session}, {"MCP-Protocol-Version", v}});
  };
  EXPECT_EQ(with_version("2025-06-18").first, 200);
  auto [refused, why] = with_version("2099-01-01");
  EXPECT_EQ(refused, 400);
  EXPECT_NE(why["error"]["message"].get<std::string>().find(
                "MCP-Protocol-Version \"2099-01-01\" is not supported"),
            std::string::npos)
      << why;
  EXPECT_EQ(Send("GET", "/mcp").first, 405);
  EXPECT_EQ(Send("DELETE", "/mcp", "", h).first, 200);
  EXPECT_EQ(Send("POST", "/mcp", R"({"jsonrpc": "2.0", "id": 4, "method": "ping"})", h).first, 404);
}

ENGRAM_ON_BOTH_STORES(HttpServerTest);

}  // namespace
}  // namespace engram::server
