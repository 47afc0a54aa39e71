// Shared pieces of make bench: the workload and a stopwatch.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engram/engram.h"
#include "engram/json.h"

namespace engram::bench {

inline constexpr int kEpisodes = 100;
inline constexpr int kThreads = 4;
inline constexpr size_t kObservationBytes = 1024;
inline constexpr int kConnections = 8;  // HTTP clients, each on a keep-alive connection

// The step every row writes: a realistic shape with a 1 KiB observation.
inline ExecutionStep MakeStep(int64_t i) {
  ExecutionStep s;
  s.tool = "cargo";
  s.action = "test --test integration_test step " + std::to_string(i);
  s.latency_ms = 1200 + i % 100;
  s.tokens = i % 3 ? std::optional<int64_t>() : std::optional<int64_t>(512);
  s.success = i % 7 != 0;
  s.observation = std::string(kObservationBytes, 'o');
  s.parameters = {{"jobs", 4}, {"filter", "integration"}};
  return s;
}

// The same step as a client sends it: no step number or timestamp, the server assigns them.
inline nlohmann::json StepAsSent(int64_t i) {
  nlohmann::json j = to_json(MakeStep(i));
  j.erase("step_number");
  j.erase("timestamp");
  return j;
}

[[noreturn]] inline void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "bench: %s: %s\n", what, s.message().c_str());
  std::exit(1);
}

inline std::unique_ptr<Memory> OpenOrDie(const std::string& url, Options options = {}) {
  auto m = Memory::open(url, options);
  if (!m.ok()) Die("open", m.status());
  return std::move(*m);
}

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// (c) The naive design: the steps of an episode kept as one JSON array in the episode row,
// read, appended to and rewritten on every log_step. Returns steps/s.
double RunNaive(const std::string& path, int episodes, int steps_per_episode);

// Retrieval quality over the evaluation set, in 5 folds: each fold stores 10 attempts at each
// task in 4 of its 5 phrasings and asks for every task in the fifth. recall@5 is the share of
// the top 5 that are attempts at the same task, MRR the mean of 1 / rank of the first one
// (within the top 10).
struct Quality {
  double recall_at_5 = 0;
  double mrr = 0;
  int queries = 0;
};

struct RecallEval {
  int episodes = 0, tasks = 0, failed = 0;  // per fold
  Quality combined;                         // engram's recall, the asking attempt's context given
  Quality combined_without_context;         // engram's recall, the task text alone
  Quality bm25;                             // plain BM25 over the same index, the task text alone
};
// Each fold's store is url_prefix + "-N.db".
RecallEval EvaluateRecall(const std::string& url_prefix);

struct Latencies {
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
};
struct RecallSpeed {
  int64_t episodes = 0;
  double build_s = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;
  Latencies fts5;     // FTS5's own bm25() top 5 over the same index, every query term ORed
  Latencies suggest;  // Memory::suggest on an open episode of each task, two calls in
};
// Records `episodes` attempts of 10 steps each (none when 0: the store at `url` is timed as it
// is), then, after one untimed pass over the distinct queries, times `queries` recalls drawn
// from the evaluation set's tasks, the same queries with FTS5's bm25() (SQLite stores), and
// `queries` suggestions.
RecallSpeed MeasureRecallSpeed(const std::string& url, int64_t episodes, int queries);

// `engram import FILE --format openai-chat` on `conversations` transcripts of about 10 tool
// calls each, end to end (process start, parsing, learning, writing), into the store at `url`
// (a new SQLite file in `dir` when empty). Conversations per second.
double ImportConversationsPerSecond(const std::filesystem::path& dir, const char* cli,
                                    int conversations, const std::string& url = "");

// `engram import --format openai-chat` of a JSON Lines file of `bytes`: its peak resident size.
struct ImportMemory {
  int64_t file_bytes = 0, conversations = 0, peak_rss_bytes = 0;
};
ImportMemory ImportPeakRss(const std::filesystem::path& dir, const char* cli, int64_t bytes);

// Runs `steps` steps over kThreads threads on these episodes; durable windows of `window`
// steps, or fire-and-forget when window is 0. Steps/s including the final flush.
double Ingest(Memory& m, const std::vector<std::string>& ids, int64_t steps, size_t window);
// Row (a)'s workload on the store at `url`: kEpisodes new episodes, windows of 256.
double IngestOn(const std::string& url, int64_t steps);

struct PostgresFigures {
  std::string skipped;    // why the rows were not measured, when they were not
  double engram = 0;      // (p) durable, batched, as row (a)
  double copy_limit = 0;  // (q) COPY of the same rows, committed every 256
  double two_nodes = 0;   // two processes as (p) on one database, combined steps/s
  double import = 0;      // engram import of 10,000 transcripts, conversations/s
};
// A new, empty database `name` on the PostgreSQL server at `server_url`; its URL.
std::string CreateDatabase(const std::string& server_url, const std::string& name);

// On fresh databases of the server in ENGRAM_TEST_POSTGRES_URL (make bench starts one); `self`
// is this program, run again for each of the two nodes; `dir` for the import's input file.
PostgresFigures MeasurePostgres(const char* self, int64_t steps, const std::filesystem::path& dir);

// `engram hook claude-code` processes, in ms from spawn to exit, by event.
struct HookFigures {
  std::vector<double> first_prompt, pre_tool, post_tool, other, all;
  std::vector<double> version;  // `engram --version`: the cost of starting the binary at all
};
// `sessions` Claude Code sessions of `calls` tool calls each, a process per event, on the
// default store under `dir`.
HookFigures MeasureHook(const std::filesystem::path& dir, const char* cli, int sessions, int calls);

// The value at quantile q (0..1) of `values`, nearest rank below; sorts them.
double Percentile(std::vector<double>& values, double q);

// Requests that each carry steps, answered once the steps are durable.
struct RequestFigures {
  double steps_per_s = 0;
  double p50_ms = 0, p99_ms = 0;  // per request, sent to answered
  int64_t requests = 0;
};

struct ServerFigures {
  RequestFigures mcp_stdio;     // `engram mcp`, one client, log_steps bursts of 50
  RequestFigures http_batched;  // `engram serve`, kConnections keep-alive clients, 50 a request
  RequestFigures http_single;   // the same, one step a request
  // OTLP/HTTP exports of 50 execute_tool spans, a new trace (so a new episode) each, on
  // kConnections keep-alive clients; steps/s counts spans stored.
  RequestFigures otlp_protobuf;
  RequestFigures otlp_json;
};
// Runs the `engram` binary at `cli` as an MCP stdio server and as an HTTP server on a
// loopback port, each on a store of its own in `dir`, and drives them.
// The OTLP rows only with `otlp` (a baseline binary may have no /v1/traces).
ServerFigures MeasureServers(const std::filesystem::path& dir, const char* cli,
                             int64_t batched_steps, int64_t single_steps, int64_t mcp_steps,
                             bool otlp = true);

// A prune of `episodes` old episodes (5 steps each, imported first) while kThreads writers log
// durable steps, their latency measured first with nothing else running, then during it.
struct PruneFigures {
  int64_t episodes = 0, steps = 0;  // removed
  int64_t bytes_released = 0, bytes_free = 0;
  double build_s = 0, prune_s = 0;
  Latencies idle, during;
  double idle_max_ms = 0, during_max_ms = 0;
  int64_t idle_samples = 0, during_samples = 0;
};
PruneFigures MeasurePrune(const std::string& url, int64_t episodes);
// Its table, for the store named `store`.
void PrintPrune(const PruneFigures& f, const char* store);

}  // namespace engram::bench
