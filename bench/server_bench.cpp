// Ingest through engram's agent interfaces, each the real `engram` process a client would
// talk to: MCP over stdio (one client, log_steps bursts of 50) and the HTTP API (8 keep-alive
// connections, batches of 50 and single steps). Every reply is checked; a step counts once
// its reply, sent after the commit, has arrived.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>

#include "bench_common.h"
#include "otlp/decode.h"

#include <google/protobuf/stubs/strutil.h>
#include <google/protobuf/util/json_util.h>

namespace engram::bench {
namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& what) {
  fmt::print(stderr, "bench: {}\n", what);
  std::exit(1);
}

// A child process with its stdin and stdout on pipes; stderr is the bench's.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) Fail("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    in_ = in[1];
    out_ = fdopen(out[0], "r");
  }
  ~Child() {
    CloseInput();
    if (out_) fclose(out_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void Write(const std::string& text) {
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = write(in_, text.data() + done, text.size() - done);
      if (n <= 0) Fail("the child stopped reading");
      done += static_cast<size_t>(n);
    }
  }
  std::string ReadLine() {
    char* line = nullptr;
    size_t cap = 0;
    const ssize_t n = getline(&line, &cap, out_);
    std::string s = n > 0 ? std::string(line, static_cast<size_t>(n)) : std::string();
    free(line);
    if (s.empty()) Fail("the child closed its output");
    return s;
  }
  void CloseInput() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  // Signals the child (when sig is not 0) and waits: true when it exited with status 0.
  bool Stop(int sig) {
    if (sig != 0) kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  FILE* out_ = nullptr;
};

// `n` steps as the JSON array a client sends, numbered from `first` in their text.
std::string StepsJson(int64_t first, int n) {
  json steps = json::array();
  for (int64_t i = first; i < first + n; ++i) steps.push_back(StepAsSent(i));
  return steps.dump();
}

RequestFigures Summarise(int64_t steps, double seconds, std::vector<double> latencies_ms) {
  RequestFigures f;
  f.steps_per_s = static_cast<double>(steps) / seconds;
  f.requests = static_cast<int64_t>(latencies_ms.size());
  f.p50_ms = Percentile(latencies_ms, 0.50);
  f.p99_ms = Percentile(latencies_ms, 0.99);
  return f;
}

RequestFigures McpStdio(const char* cli, const std::string& url, int64_t steps) {
  constexpr int kBurst = 50;
  Child mcp({cli, "--db", url, "mcp"});
  auto call = [&](int64_t id, const std::string& method, const std::string& params) {
    mcp.Write(fmt::format(R"({{"jsonrpc":"2.0","id":{},"method":"{}","params":{}}})", id, method,
                          params) +
              "\n");
    json reply = json::parse(mcp.ReadLine());
    if (!reply.contains("result") || reply["result"].value("isError", false)) {
      Fail("MCP " + method + ": " + reply.dump().substr(0, 300));
    }
    return reply["result"];
  };
  call(
      1, "initialize",
      R"({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}})");
  mcp.Write(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
            "\n");
  const std::string id =
      call(2, "tools/call",
           R"({"name":"start_episode","arguments":{"task":"bench"}})")["structuredContent"]
                                                                      ["episode_id"];
  std::vector<std::string> bursts;
  for (int b = 0; b < 20; ++b) bursts.push_back(StepsJson(int64_t{b} * kBurst, kBurst));

  std::vector<double> latencies;
  Stopwatch total;
  int64_t logged = 0;
  for (int64_t r = 0; logged < steps; ++r, logged += kBurst) {
    const std::string params =
        fmt::format(R"({{"name":"log_steps","arguments":{{"episode_id":"{}","steps":{}}}}})", id,
                    bursts[r % bursts.size()]);
    Stopwatch watch;
    const json result = call(r + 3, "tools/call", params);
    latencies.push_back(watch.seconds() * 1000);
    const auto& numbers = result["structuredContent"]["step_numbers"];
    if (numbers.size() != kBurst || numbers.back() != logged + kBurst) {
      Fail("MCP log_steps answered " + numbers.dump().substr(0, 200));
    }
  }
  const double seconds = total.seconds();
  mcp.CloseInput();
  if (!mcp.Stop(0)) Fail("engram mcp did not exit cleanly");
  return Summarise(logged, seconds, std::move(latencies));
}

// Posts `requests` bodies over `connections` keep-alive connections, request r to
// path(r) with body r % bodies.size(); `accepted` checks each reply, which counts `per_request`
// steps.
template <typename Path, typename Accepted>
RequestFigures Ingest(int port, const Path& path, const std::vector<std::string>& bodies,
                      const char* content_type, int per_request, int64_t requests, int connections,
                      const Accepted& accepted) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  Stopwatch total;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // as browsers, Node.js and libcurl clients do
      client.set_read_timeout(60, 0);
      for (int64_t r = t; r < requests; r += connections) {
        const std::string to = path(r);
        Stopwatch watch;
        auto res = client.Post(to, bodies[r % bodies.size()], content_type);
        latencies[t].push_back(watch.seconds() * 1000);
        if (!res) Fail("POST " + to + ": " + httplib::to_string(res.error()));
        if (!accepted(*res)) {
          Fail(fmt::format("POST {}: {} {}", to, res->status, res->body.substr(0, 300)));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = total.seconds();
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  return Summarise(requests * per_request, seconds, std::move(all));
}

// Steps posted to the HTTP API, request r to episode r % ids.size(); each reply must carry
// `per_request` step numbers.
RequestFigures HttpIngest(int port, const std::vector<std::string>& ids,
                          const std::vector<std::string>& bodies, int per_request, int64_t requests,
                          int connections) {
  return Ingest(
      port, [&](int64_t r) { return "/v1/episodes/" + ids[r % ids.size()] + "/steps"; }, bodies,
      "application/json", per_request, requests, connections,
      [&](const httplib::Response& res) {
        return res.status == 201 &&
               json::parse(res.body)["step_numbers"].size() == static_cast<size_t>(per_request);
      });
}

// An export of `spans` execute_tool spans of trace `trace`, as an agent's batch processor
// sends them, in both encodings.
std::pair<std::string, std::string> OtlpExport(uint64_t trace, int spans) {
  otlp::collector::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* service = rs->mutable_resource()->add_attributes();
  service->set_key("service.name");
  service->mutable_value()->set_string_value("bench-agent");
  auto* scope = rs->add_scope_spans();
  std::string trace_id(16, '\0');
  for (int i = 0; i < 8; ++i) trace_id[15 - i] = static_cast<char>((trace >> (8 * i)) & 0xff);
  trace_id[0] = '\x0b';
  const uint64_t t0 = 1764680000000000000u + trace * 1000000000u;
  for (int s = 0; s < spans; ++s) {
    auto* span = scope->add_spans();
    span->set_trace_id(trace_id);
    std::string span_id(8, '\0');
    span_id[0] = '\x0c';
    span_id[6] = static_cast<char>(s >> 8);
    span_id[7] = static_cast<char>(s & 0xff);
    span->set_span_id(span_id);
    span->set_parent_span_id(std::string(8, '\x01'));
    span->set_name("execute_tool run_tests");
    span->set_start_time_unix_nano(t0 + static_cast<uint64_t>(s) * 10000000u);
    span->set_end_time_unix_nano(t0 + static_cast<uint64_t>(s) * 10000000u + 8000000u);
    for (const auto& [k, v] :
         {std::pair<std::string, std::string>{"gen_ai.operation.name", "execute_tool"},
          {"gen_ai.tool.name", "run_tests"},
          {"gen_ai.tool.call.arguments", fmt::format(R"({{"path": "tests/test_{}.py"}})", s)},
          {"gen_ai.tool.call.result", std::string(200, 'o')}}) {
      auto* a = span->add_attributes();
      a->set_key(k);
      a->mutable_value()->set_string_value(v);
    }
  }
  // OTLP/JSON as exporters write it: hex ids (protobuf's own JSON mapping would write base64).
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(request, &text);
  json doc = json::parse(text);
  for (auto& span : doc["resourceSpans"][0]["scopeSpans"][0]["spans"]) {
    for (const char* key : {"traceId", "spanId", "parentSpanId"}) {
      std::string raw;
      google::protobuf::Base64Unescape(span[key].get<std::string>(), &raw);
      span[key] = otlp::HexId(raw);
    }
  }
  return {request.SerializeAsString(), doc.dump()};
}

}  // namespace

double Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
}

ServerFigures MeasureServers(const std::filesystem::path& dir, const char* cli,
                             int64_t batched_steps, int64_t single_steps, int64_t mcp_steps,
                             bool otlp) {
  ServerFigures f;
  f.mcp_stdio = McpStdio(cli, "sqlite://" + (dir / "mcp.db").string(), mcp_steps);

  Child server(
      {cli, "--db", "sqlite://" + (dir / "http.db").string(), "serve", "--listen", "127.0.0.1:0"});
  const std::string banner = server.ReadLine();  // engram serving http://127.0.0.1:PORT
  const int port = std::atoi(banner.substr(banner.rfind(':') + 1).c_str());
  if (port <= 0) Fail("engram serve printed " + banner);
  std::vector<std::string> ids;
  {
    httplib::Client client("127.0.0.1", port);
    for (int e = 0; e < kEpisodes; ++e) {
      auto res = client.Post("/v1/episodes", R"({"task": "bench", "task_type": "testing"})",
                             "application/json");
      if (!res || res->status != 201) Fail("POST /v1/episodes failed");
      ids.push_back(json::parse(res->body)["id"]);
    }
  }
  constexpr int kBatch = 50;
  std::vector<std::string> batches, singles;
  for (int b = 0; b < 20; ++b) batches.push_back(StepsJson(int64_t{b} * kBatch, kBatch));
  for (int64_t i = 0; i < 100; ++i) singles.push_back(StepAsSent(i).dump());
  f.http_batched = HttpIngest(port, ids, batches, kBatch, batched_steps / kBatch, kConnections);
  f.http_single = HttpIngest(port, ids, singles, 1, single_steps, kConnections);
  // A new trace a request: each export starts an episode, as each agent run does.
  constexpr int kSpans = 50;
  const int64_t exports = otlp ? batched_steps / kSpans / 4 : 0;
  std::vector<std::string> protobuf, json_bodies;
  for (int64_t e = 0; e < 2 * exports; ++e) {
    auto [p, j] = OtlpExport(static_cast<uint64_t>(e), kSpans);
    (e < exports ? protobuf : json_bodies).push_back(e < exports ? std::move(p) : std::move(j));
  }
  auto otlp_ok = [](const httplib::Response& res) { return res.status == 200; };
  f.otlp_protobuf = Ingest(
      port, [](int64_t) { return std::string("/v1/traces"); }, protobuf, "application/x-protobuf",
      kSpans, exports, kConnections, otlp_ok);
  f.otlp_json = Ingest(
      port, [](int64_t) { return std::string("/v1/traces"); }, json_bodies, "application/json",
      kSpans, exports, kConnections, otlp_ok);
  if (!server.Stop(SIGTERM)) Fail("engram serve did not exit cleanly on SIGTERM");
  return f;
}

}  // namespace engram::bench
