// Ingest on PostgreSQL, in the same run as the SQLite rows: engram durable and batched, the limit
// (COPY of identical rows through libpq, committed every 256 rows), and two nodes at once.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "bench_common.h"
#include "store/postgres/db.h"

namespace engram::bench {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  fmt::print(stderr, "bench: {}\n", what);
  std::exit(1);
}

// The limit: the rows engram writes for these steps, sent with COPY on one connection and
// committed every 256 rows, as durable as engram's commits.
double CopyLimit(const std::string& url, int64_t steps) {
  std::vector<int64_t> keys;
  {
    auto m = OpenOrDie(url);  // the engram schema, and episodes to hold the steps
    for (int e = 0; e < kEpisodes; ++e) {
      if (!m->start_episode({"bench", TaskType::kTesting, {}, {}, {}}).ok()) Fail("start_episode");
    }
  }
  auto conn = pg::Connection::Open(url, "SET search_path = engram");
  if (!conn.ok()) Fail(conn.status().message());
  const ExecutionStep s = MakeStep(0);
  const std::string params = s.parameters.dump();
  Stopwatch watch;
  std::string rows;
  for (int64_t i = 0; i < steps; ++i) {
    rows += fmt::format("{}\t{}\t2026-11-24T15:47:00.123Z\t", i % kEpisodes + 1, i / kEpisodes + 1);
    pg::AppendCopyText(rows, s.tool);
    rows += '\t';
    pg::AppendCopyText(rows, s.action);
    rows += fmt::format("\t{}\t512\tt\t", s.latency_ms);
    pg::AppendCopyText(rows, s.observation);
    rows += '\t';
    pg::AppendCopyText(rows, params);
    rows += "\t{}\n";
    if (i % 256 == 255 || i == steps - 1) {
      Status st = (*conn)->exec("BEGIN");
      if (st.ok()) {
        st = (*conn)->copy_in(
            "steps (episode_key, step_number, timestamp, tool, action, latency_ms, tokens, "
            "success, observation, parameters, metadata)",
            rows);
      }
      if (st.ok()) st = (*conn)->exec("COMMIT");
      if (!st.ok()) Fail(st.message());
      rows.clear();
    }
  }
  return static_cast<double>(steps) / watch.seconds();
}

}  // namespace

double IngestOn(const std::string& url, int64_t steps) {
  auto m = OpenOrDie(url);
  std::vector<std::string> ids;
  for (int e = 0; e < kEpisodes; ++e) {
    auto id = m->start_episode({"bench", TaskType::kTesting, {}, {}, {}});
    if (!id.ok()) Die("start_episode", id.status());
    ids.push_back(*id);
  }
  return Ingest(*m, ids, steps, /*window=*/256);
}

std::string CreateDatabase(const std::string& server_url, const std::string& name) {
  auto admin = pg::Connection::Open(server_url);
  if (!admin.ok()) Fail(admin.status().message());
  for (const std::string& sql :
       {"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name}) {
    if (Status s = (*admin)->exec(sql); !s.ok()) Fail(s.message());
  }
  return server_url.substr(0, server_url.rfind('/') + 1) + name;
}

PostgresFigures MeasurePostgres(const char* self, int64_t steps, const std::filesystem::path& dir) {
  PostgresFigures f;
  const char* server = std::getenv("ENGRAM_TEST_POSTGRES_URL");
  if (!server || !*server) {
    const char* why = std::getenv("ENGRAM_TEST_POSTGRES_SKIP");
    f.skipped = why ? why : "ENGRAM_TEST_POSTGRES_URL is not set (make bench sets it)";
    return f;
  }
  f.engram = IngestOn(CreateDatabase(server, "engram_bench_one"), steps);
  f.copy_limit = CopyLimit(CreateDatabase(server, "engram_bench_copy"), steps);
  // Two nodes: two processes, each its own Memory and connections, on one database, at once.
  const std::string shared = CreateDatabase(server, "engram_bench_two");
  { OpenOrDie(shared); }  // the schema, made before both start
  Stopwatch watch;
  std::vector<FILE*> nodes;
  for (int n = 0; n < 2; ++n) {
    const std::string cmd = fmt::format("'{}' --pg-node '{}' {}", self, shared, steps);
    nodes.push_back(popen(cmd.c_str(), "r"));
  }
  for (FILE* p : nodes) {
    double rate = 0;
    if (!p || std::fscanf(p, "%lf", &rate) != 1) Fail("a node of the two-node row failed");
    pclose(p);
  }
  f.two_nodes = 2.0 * static_cast<double>(steps) / watch.seconds();
  f.import = ImportConversationsPerSecond(dir, ENGRAM_CLI, 10'000,
                                          CreateDatabase(server, "engram_bench_import"));
  return f;
}

}  // namespace engram::bench
