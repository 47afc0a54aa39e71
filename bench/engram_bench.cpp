// make bench: engram's ingest measured side by side with its baselines, in one run on one
// machine, as ratios. Rows:
//   (a) engram, durable and batched: 4 writer threads, 100 episodes, 1 KiB observations; each
//       thread keeps up to 256 steps in flight and waits until they are durable
//   (b) the limit: raw SQLite prepared inserts of identical rows, one transaction per 256
//   (c) the naive design: an episode's steps as a JSON array rewritten on each append,
//       at 1,000 steps per episode
//   (d) the CLI: `engram episode log-steps` fed 100,000 such steps through a pipe
// plus the latency of a durable log_step under 4 threads and the peak RSS of 1,000,000 steps.
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench_common.h"
#include "learn/patterns.h"
#include "store/url.h"
#include "tau_eval.h"

namespace engram::bench {

// Runs `steps` steps over kThreads threads; durable windows of `window` steps, or
// fire-and-forget when window is 0. Returns steps/s including the final flush.
double Ingest(Memory& m, const std::vector<std::string>& ids, int64_t steps, size_t window) {
  Stopwatch watch;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<StepTicket> in_flight;
      for (int64_t i = t; i < steps; i += kThreads) {
        auto ticket = m.log_step_async(ids[i % ids.size()], MakeStep(i));
        if (!ticket.ok()) {
          fmt::print(stderr, "bench: {}\n", ticket.status().message());
          std::exit(1);
        }
        if (window == 0) continue;
        in_flight.push_back(std::move(*ticket));
        if (in_flight.size() >= window) {
          for (auto& tk : in_flight) (void)tk.wait();
          in_flight.clear();
        }
      }
      for (auto& tk : in_flight) (void)tk.wait();
    });
  }
  for (auto& th : threads) th.join();
  if (!m.flush().ok()) std::exit(1);
  return static_cast<double>(steps) / watch.seconds();
}

namespace {

std::vector<std::string> StartEpisodes(Memory& m, int n) {
  std::vector<std::string> ids;
  for (int e = 0; e < n; ++e)
    ids.push_back(*m.start_episode({"bench", TaskType::kTesting, {}, {}, {}}));
  return ids;
}

// (b): the same rows, straight into the same table through one prepared statement.
double RawSqlite(const std::string& path, int64_t steps) {
  { StartEpisodes(*OpenOrDie("sqlite://" + path), kEpisodes); }  // the engram schema
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO steps (episode_key, step_number, timestamp, tool, action, "
                     "latency_ms, tokens, success, observation, parameters, metadata) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     -1, &st, nullptr);
  const ExecutionStep s = MakeStep(0);
  const std::string params = s.parameters.dump();
  const std::string ts = "2026-11-24T15:47:00.123Z";
  Stopwatch watch;
  for (int64_t i = 0; i < steps; ++i) {
    if (i % 256 == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_bind_int64(st, 1, i % kEpisodes + 1);
    sqlite3_bind_int64(st, 2, i / kEpisodes + 1);
    sqlite3_bind_text(st, 3, ts.data(), static_cast<int>(ts.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 4, s.tool.data(), static_cast<int>(s.tool.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 5, s.action.data(), static_cast<int>(s.action.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, s.latency_ms);
    sqlite3_bind_int64(st, 7, 512);
    sqlite3_bind_int(st, 8, 1);
    sqlite3_bind_text(st, 9, s.observation.data(), static_cast<int>(s.observation.size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 10, params.data(), static_cast<int>(params.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 11, "{}", 2, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
      fmt::print(stderr, "bench: {}\n", sqlite3_errmsg(db));
      std::exit(1);
    }
    sqlite3_reset(st);
    if (i % 256 == 255 || i == steps - 1) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double rate = static_cast<double>(steps) / watch.seconds();
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rate;
}

// (d): the CLI reading JSON Lines from a pipe, process start and open included.
double Cli(const std::filesystem::path& dir, int64_t steps) {
  const std::string url = "sqlite://" + (dir / "d.db").string();
  std::string id;
  {
    auto m = OpenOrDie(url);
    id = *m->start_episode({"bench", TaskType::kTesting, {}, {}, {}});
  }
  const auto input = dir / "steps.jsonl";
  {
    std::ofstream out(input);
    for (int64_t i = 0; i < steps; ++i) out << StepAsSent(i).dump() << "\n";
  }
  const std::string cmd = fmt::format("cat '{}' | '{}' --db '{}' episode log-steps {} > /dev/null",
                                      input.string(), ENGRAM_CLI, url, id);
  Stopwatch watch;
  if (std::system(cmd.c_str()) != 0) {
    fmt::print(stderr, "bench: {} failed\n", cmd);
    std::exit(1);
  }
  return static_cast<double>(steps) / watch.seconds();
}

struct Latency {
  double p50_ms, p99_ms, max_ms;
};

Latency DurableLatency(const std::string& url, int per_thread) {
  auto m = OpenOrDie(url);
  auto ids = StartEpisodes(*m, kEpisodes);
  std::vector<std::vector<double>> samples(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        ExecutionStep s = MakeStep(i);
        Stopwatch watch;
        if (!m->log_step(ids[(t * per_thread + i) % ids.size()], std::move(s)).ok()) std::exit(1);
        samples[t].push_back(watch.seconds() * 1000);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<double> all;
  for (auto& v : samples) all.insert(all.end(), v.begin(), v.end());
  return {Percentile(all, 0.50), Percentile(all, 0.99), all.back()};
}

// Runs in a child process of its own, so its peak RSS is the ingest's alone.
int RssChild(const std::string& url, int64_t steps) {
  auto m = OpenOrDie(url);
  auto ids = StartEpisodes(*m, kEpisodes);
  const double rate = Ingest(*m, ids, steps, /*window=*/0);  // fire-and-forget: the queue fills
  if (!m->close().ok()) return 1;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("{} {:.0f}\n", usage.ru_maxrss, rate);
  return 0;
}

// Pattern extraction on one 1,000-step episode with realistic variety: the median of 21 runs.
double PatternExtractionMs() {
  Episode e;
  e.context.domain = "cli";
  e.context.language = "rust";
  const char* tools[] = {"git", "cargo", "claude", "bash", "rg", "sed", "pytest", "npm"};
  for (int64_t i = 1; i <= 1000; ++i) {
    ExecutionStep s = MakeStep(i);
    s.step_number = i;
    s.tool = tools[(i * 7 + i / 5) % 8];
    s.observation = s.success ? "ok" : "error[E0425] at src/main.rs:" + std::to_string(i);
    e.steps.push_back(std::move(s));
  }
  std::vector<double> runs;
  for (int r = 0; r < 21; ++r) {
    Stopwatch watch;
    const auto patterns = ExtractPatterns(e, 1.0);
    runs.push_back(watch.seconds() * 1000);
    if (patterns.empty()) std::exit(1);
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

std::string Rate(double v) {
  return fmt::format("{:>12.0f}", v);
}

// The retrieval quality table: engram's recall against plain BM25 on the evaluation set.
void PrintRecallQuality(const RecallEval& eval) {
  fmt::print(
      "\nrecall quality: {} tasks, {} episodes per fold ({} failed), 5 folds, each task asked in "
      "the phrasing its fold held out\n\n",
      eval.tasks, eval.episodes, eval.failed);
  fmt::print("| ranking | recall@5 | MRR | vs BM25 |\n|---|---:|---:|---|\n");
  auto quality = [&](const char* name, const Quality& q) {
    fmt::print("| {} | {:.3f} | {:.3f} | {} |\n", name, q.recall_at_5, q.mrr,
               &q == &eval.bm25
                   ? std::string("baseline")
                   : fmt::format("recall@5 {:+.3f}, MRR {:+.3f}",
                                 q.recall_at_5 - eval.bm25.recall_at_5, q.mrr - eval.bm25.mrr));
  };
  quality("engram recall, task and context", eval.combined);
  quality("engram recall, task only", eval.combined_without_context);
  quality("plain BM25 alone, task only", eval.bm25);
}

// Recall and suggestion latency, beside FTS5's own bm25() on the same index and queries.
void PrintRecallSpeed(const RecallSpeed& speed, int queries) {
  const bool million = speed.episodes >= 1'000'000;
  const double target = million ? 150 : 20;
  fmt::print(
      "\n| latency over {} episodes of 10 steps, {} queries | p50 | p95 | p99 | target | met "
      "|\n|---|---:|---:|---:|---|---|\n",
      speed.episodes, queries);
  fmt::print(
      "| engram recall (BM25F, every term, exact top 50, then scored) | {:.2f} ms | {:.2f} "
      "ms | {:.2f} ms | p95 < {:.0f} ms | {} |\n",
      speed.p50_ms, speed.p95_ms, speed.p99_ms, target, speed.p95_ms < target ? "yes" : "NO");
  if (speed.fts5.p95_ms > 0) {  // SQLite stores only
    fmt::print(
        "| FTS5's bm25() top 5, every query term | {:.2f} ms | {:.2f} ms | {:.2f} ms | recall "
        "p95 / this p95 = {:.2f} | |\n",
        speed.fts5.p50_ms, speed.fts5.p95_ms, speed.fts5.p99_ms, speed.p95_ms / speed.fts5.p95_ms);
  }
  // The suggestion target is set at 100,000 episodes.
  fmt::print("| engram suggest, k 5 | {:.2f} ms | {:.2f} ms | {:.2f} ms | {} | {} |\n",
             speed.suggest.p50_ms, speed.suggest.p95_ms, speed.suggest.p99_ms,
             million ? "" : "p95 < 20 ms",
             million                     ? ""
             : speed.suggest.p95_ms < 20 ? "yes"
                                         : "NO");
  if (speed.build_s > 0) {
    fmt::print("| (importing the {} episodes took {:.0f} s) | | | | | |\n", speed.episodes,
               speed.build_s);
  }
}

}  // namespace
}  // namespace engram::bench

// The size of the store recall latency is measured on.
int64_t RecallEpisodes() {
  const char* n = std::getenv("ENGRAM_BENCH_RECALL_EPISODES");
  return n ? std::atoll(n) : 100'000;
}

int main(int argc, char** argv) {
  using namespace engram::bench;
  if (argc == 4 && std::string(argv[1]) == "--rss-child") {
    return RssChild(argv[2], std::atoll(argv[3]));
  }
  if (argc == 4 && std::string(argv[1]) == "--pg-node") {
    fmt::print("{:.0f}\n", IngestOn(argv[2], std::atoll(argv[3])));
    return 0;
  }
  const int64_t steps =
      std::getenv("ENGRAM_BENCH_STEPS") ? std::atoll(std::getenv("ENGRAM_BENCH_STEPS")) : 200'000;
  const int64_t rss_steps = 1'000'000;
  std::string tmpl = (std::filesystem::temp_directory_path() / "engram-bench-XXXXXX").string();
  const std::filesystem::path dir = mkdtemp(tmpl.data());
  auto url = [&](const char* name) { return "sqlite://" + (dir / name).string(); };
  const std::string only = std::getenv("ENGRAM_BENCH_ONLY") ? std::getenv("ENGRAM_BENCH_ONLY") : "";
  if (only == "dashboard") return 0;  // make bench runs tests/dashboard/bench.mjs
  if (only == "recall") {
    // ENGRAM_BENCH_RECALL_DB names a store to keep: built once, then timed again as it is.
    // (a SQLite file, or a PostgreSQL URL).
    const char* keep = std::getenv("ENGRAM_BENCH_RECALL_DB");
    auto kept = keep ? engram::ParseStoreUrl(keep)
                     : engram::Result<engram::StoreUrl>(engram::Status::NotFound("none"));
    const std::string store = !keep ? url("recall.db")
                              : kept.ok() && kept->kind == engram::StoreUrl::Kind::kServer
                                  ? std::string(keep)
                                  : std::string("sqlite://") + keep;
    RecallSpeed speed = MeasureRecallSpeed(store, RecallEpisodes(), 1000);
    speed.episodes = RecallEpisodes();  // a kept store was built with as many
    PrintRecallSpeed(speed, 1000);
    std::filesystem::remove_all(dir);
    return 0;
  }
  // Real agent work, on SQLite and (when make bench started a server) on PostgreSQL.
  auto print_tau = [&] {
    const TauEval sqlite = EvaluateTau(url("tau.db"), ENGRAM_CLI, dir);
    const char* server = std::getenv("ENGRAM_TEST_POSTGRES_URL");
    if (server && *server) {
      const TauEval pg = EvaluateTau(CreateDatabase(server, "engram_bench_tau"), ENGRAM_CLI, dir);
      PrintTau(sqlite, &pg);
    } else {
      PrintTau(sqlite, nullptr);
      fmt::print("\n(PostgreSQL rows skipped: ENGRAM_TEST_POSTGRES_URL is not set)\n");
    }
  };
  if (only == "quality") {
    print_tau();
    fmt::print("\nthe synthetic evaluation set (bench/eval_set.cpp)\n");
    PrintRecallQuality(EvaluateRecall("sqlite://" + (dir / "eval").string()));
    std::filesystem::remove_all(dir);
    return 0;
  }
  // Peak memory importing a large file (ENGRAM_BENCH_IMPORT_BYTES, default 1 GiB).
  auto import_memory_row = [&] {
    const char* b = std::getenv("ENGRAM_BENCH_IMPORT_BYTES");
    const int64_t bytes = b ? std::atoll(b) : int64_t{1} << 30;
    const ImportMemory m = ImportPeakRss(dir, ENGRAM_CLI, bytes);
    const double mb = static_cast<double>(m.peak_rss_bytes) / 1e6;
    fmt::print(
        "| `engram import --format openai-chat`, a {:.2f} GB JSON Lines file ({} conversations) "
        "| peak RSS {:.0f} MB | < 300 MB | {} |\n",
        static_cast<double>(m.file_bytes) / 1e9, m.conversations, mb, mb < 300 ? "yes" : "NO");
  };
  auto print_hook = [&] {
    HookFigures h = MeasureHook(dir, ENGRAM_CLI, 10, 20);
    const double floor = Percentile(h.version, 0.5);
    fmt::print(
        "\n| `engram hook claude-code`, a process per event, default store ({} events) | p50 | "
        "p95 | max | target | met |\n|---|---:|---:|---:|---|---|\n",
        h.all.size());
    for (auto [name, v] :
         {std::pair{"UserPromptSubmit, first (recall playbook)", &h.first_prompt},
          std::pair{"PreToolUse", &h.pre_tool}, std::pair{"PostToolUse (a step)", &h.post_tool},
          std::pair{"SessionStart, Stop, SessionEnd", &h.other},
          std::pair{"every event", &h.all}}) {
      const double p50 = Percentile(*v, 0.5), p95 = Percentile(*v, 0.95), max = v->back();
      const bool all = v == &h.all;
      fmt::print("| {} | {:.1f} ms | {:.1f} ms | {:.1f} ms | {} | {} |\n", name, p50, p95, max,
                 all ? "p95 < 50 ms" : "", all ? (p95 < 50 ? "yes" : "NO") : "");
    }
    fmt::print(
        "| `engram --version` (starting the binary, the floor) | {:.1f} ms | {:.1f} ms | "
        "{:.1f} ms | | |\n",
        floor, Percentile(h.version, 0.95), h.version.back());
  };
  if (only == "hook") {
    print_hook();
    std::filesystem::remove_all(dir);
    return 0;
  }
  // Retention: ENGRAM_BENCH_PRUNE_EPISODES old episodes (default 100,000) pruned while writers
  // log, on SQLite and (when make bench started a server) PostgreSQL.
  auto print_prune = [&] {
    const char* n = std::getenv("ENGRAM_BENCH_PRUNE_EPISODES");
    const int64_t episodes = n ? std::atoll(n) : 100'000;
    PrintPrune(MeasurePrune(url("prune.db"), episodes), "SQLite");
    const char* server = std::getenv("ENGRAM_TEST_POSTGRES_URL");
    if (server && *server) {
      PrintPrune(MeasurePrune(CreateDatabase(server, "engram_bench_prune"), episodes),
                 "PostgreSQL");
    }
  };
  if (only == "prune") {
    print_prune();
    std::filesystem::remove_all(dir);
    return 0;
  }
  if (only == "import") {
    fmt::print(
        "| `engram import --format openai-chat`, 10,000 conversations | {:.0f} conversations/s |\n",
        ImportConversationsPerSecond(dir, ENGRAM_CLI, 10'000));
    import_memory_row();
    std::filesystem::remove_all(dir);
    return 0;
  }

  fmt::print(
      "engram ingest benchmark: {} steps, 1 KiB observations, {} episodes, {} writer threads\n",
      steps, kEpisodes, kThreads);
  fmt::print("SQLite {} (WAL, synchronous=NORMAL), {} cores\n\n", sqlite3_libversion(),
             std::thread::hardware_concurrency());

  double a;
  {
    auto m = OpenOrDie(url("a.db"));
    auto ids = StartEpisodes(*m, kEpisodes);
    a = Ingest(*m, ids, steps, /*window=*/256);
  }
  // (a) with the redaction stage on (the default) and off, in turn, three rounds each on
  // stores of their own: the medians, and the median of the rounds' ratios.
  struct RedactionCost {
    double on = 0, off = 0, ratio = 0;
  };
  auto redaction_cost = [&] {
    std::vector<double> on, off, ratio;
    for (int round = 0; round < 3; ++round) {
      double rates[2];
      for (int redact = 1; redact >= 0; --redact) {
        engram::Options options;
        options.redaction.enabled = redact == 1;
        auto m = OpenOrDie(url(fmt::format("redact{}-{}.db", redact, round).c_str()), options);
        auto ids = StartEpisodes(*m, kEpisodes);
        rates[redact] = Ingest(*m, ids, steps, /*window=*/256);
      }
      on.push_back(rates[1]);
      off.push_back(rates[0]);
      ratio.push_back(rates[1] / rates[0]);
    }
    return RedactionCost{Percentile(on, 0.5), Percentile(off, 0.5), Percentile(ratio, 0.5)};
  };
  if (only == "redaction") {
    const RedactionCost r = redaction_cost();
    fmt::print(
        "| (a) engram, durable, batched, 3 rounds in turn (medians) | steps/s |\n|---|---:|\n");
    fmt::print("| redaction on (the default) | {} |\n| redaction off | {} |\n", Rate(r.on),
               Rate(r.off));
    fmt::print("| on / off, median of the rounds' ratios | {:.2f} |\n", r.ratio);
    std::filesystem::remove_all(dir);
    return 0;
  }
  const ServerFigures servers = MeasureServers(dir, ENGRAM_CLI, steps, 20'000, 50'000);
  auto print_servers = [&] {
    fmt::print(
        "\n| interface (the `engram` process, loopback) | steps/s | vs (a) | request p50 | "
        "request p99 | target | met |\n|---|---:|---|---:|---:|---|---|\n");
    const auto& mcp = servers.mcp_stdio;
    const auto& batched = servers.http_batched;
    const auto& single = servers.http_single;
    fmt::print(
        "| MCP stdio, 1 client, log_steps bursts of 50 | {} | {:.2f} | {:.2f} ms | {:.2f} ms "
        "| | |\n",
        Rate(mcp.steps_per_s), mcp.steps_per_s / a, mcp.p50_ms, mcp.p99_ms);
    fmt::print(
        "| HTTP, {} keep-alive connections, 50 steps a request | {} | {:.2f} | {:.2f} ms | {:.2f} "
        "ms | >= 0.50 of (a) | {} |\n",
        kConnections, Rate(batched.steps_per_s), batched.steps_per_s / a, batched.p50_ms,
        batched.p99_ms, batched.steps_per_s / a >= 0.5 ? "yes" : "NO");
    fmt::print(
        "| HTTP, {} keep-alive connections, 1 step a request | {} | {:.2f} | {:.2f} ms | {:.2f} ms "
        "| p99 < 5 ms | {} |\n",
        kConnections, Rate(single.steps_per_s), single.steps_per_s / a, single.p50_ms,
        single.p99_ms, single.p99_ms < 5 ? "yes" : "NO");
    for (const auto& [name, f] :
         {std::pair{"protobuf", &servers.otlp_protobuf}, std::pair{"JSON", &servers.otlp_json}}) {
      fmt::print(
          "| OTLP/HTTP {}, {} keep-alive connections, 50 tool spans an export, a new trace each "
          "(spans/s) | {} | {:.2f} | {:.2f} ms | {:.2f} ms | vs HTTP JSON steps, 50 a request: "
          "{:.2f} | |\n",
          name, kConnections, Rate(f->steps_per_s), f->steps_per_s / a, f->p50_ms, f->p99_ms,
          f->steps_per_s / batched.steps_per_s);
    }
  };
  // ENGRAM_BENCH_SERVER_BASELINE=/path/to/another/engram: the interface rows again on that
  // binary and on this one, in turn, five rounds (ENGRAM_BENCH_SERVER_ROUNDS); each row shows
  // the medians, and the median of the rounds' ratios (a ratio within a round compares runs
  // seconds apart, which a shared machine's slow drifts affect least).
  auto print_server_baseline = [&] {
    const char* other = std::getenv("ENGRAM_BENCH_SERVER_BASELINE");
    if (!other) return;
    const char* n = std::getenv("ENGRAM_BENCH_SERVER_ROUNDS");
    const int rounds = std::max(1, n ? std::atoi(n) : 5);
    struct Row {
      const char* name;
      RequestFigures ServerFigures::*figures;
      std::vector<double> mine = {}, base = {}, ratio = {}, mine_p99 = {}, base_p99 = {};
    };
    std::vector<Row> rows = {{"MCP stdio, log_steps bursts of 50", &ServerFigures::mcp_stdio},
                             {"HTTP, 50 steps a request", &ServerFigures::http_batched},
                             {"HTTP, 1 step a request", &ServerFigures::http_single}};
    for (int round = 0; round < rounds; ++round) {
      const auto sub = dir / fmt::format("baseline{}", round);
      std::filesystem::create_directories(sub);
      const ServerFigures b = MeasureServers(sub, other, steps, 20'000, 50'000, /*otlp=*/false);
      const ServerFigures m = MeasureServers(sub, ENGRAM_CLI, steps, 20'000, 50'000, false);
      for (auto& r : rows) {
        const RequestFigures &mine = m.*r.figures, &base = b.*r.figures;
        r.mine.push_back(mine.steps_per_s);
        r.base.push_back(base.steps_per_s);
        r.ratio.push_back(mine.steps_per_s / base.steps_per_s);
        r.mine_p99.push_back(mine.p99_ms);
        r.base_p99.push_back(base.p99_ms);
      }
    }
    fmt::print(
        "\n| interface, this build vs {} ({} rounds, medians) | steps/s | baseline steps/s | "
        "ratio | ratio range | request p99 | baseline p99 | target | met |\n"
        "|---|---:|---:|---:|---|---:|---:|---|---|\n",
        other, rounds);
    for (auto& r : rows) {
      const double ratio = Percentile(r.ratio, 0.5);  // sorts r.ratio
      fmt::print(
          "| {} | {} | {} | {:.2f} | {:.2f} to {:.2f} | {:.2f} ms | {:.2f} ms | >= 0.90 | {} |\n",
          r.name, Rate(Percentile(r.mine, 0.5)), Rate(Percentile(r.base, 0.5)), ratio,
          r.ratio.front(), r.ratio.back(), Percentile(r.mine_p99, 0.5), Percentile(r.base_p99, 0.5),
          ratio >= 0.9 ? "yes" : "NO");
    }
  };
  double conversations_per_s = 0;  // SQLite's import rate, measured below in a full run
  auto print_postgres = [&] {
    const PostgresFigures pg = MeasurePostgres(argv[0], steps, dir);
    if (!pg.skipped.empty()) {
      fmt::print("\nPostgreSQL rows skipped: {}\n", pg.skipped);
      return;
    }
    fmt::print(
        "\n| PostgreSQL 15, loopback | steps/s | ratio | target | met |\n"
        "|---|---:|---|---|---|\n");
    fmt::print(
        "| (p) engram on PostgreSQL, durable, batched | {} | p/q = {:.2f} | p/q >= 0.6 | {} "
        "|\n",
        Rate(pg.engram), pg.engram / pg.copy_limit,
        pg.engram / pg.copy_limit >= 0.6 ? "yes" : "NO");
    fmt::print("| (q) COPY of identical rows through libpq, 256 per commit | {} | | | |\n",
               Rate(pg.copy_limit));
    fmt::print(
        "| two engram nodes (processes) on one database, combined | {} | vs (p) {:.2f} | | "
        "|\n",
        Rate(pg.two_nodes), pg.two_nodes / pg.engram);
    fmt::print("| (a) engram on SQLite, same run | {} | p/a = {:.2f} | | |\n", Rate(a),
               pg.engram / a);
    fmt::print(
        "| `engram import --format openai-chat` into PostgreSQL, 10,000 conversations | {:.0f} "
        "conversations/s | {} | | |\n",
        pg.import,
        conversations_per_s > 0 ? fmt::format("vs SQLite {:.2f} ({:.0f}/s)",
                                              pg.import / conversations_per_s, conversations_per_s)
                                : std::string());
  };
  if (only == "servers" || only == "postgres") {
    fmt::print("| (a) engram, durable, batched | {} |\n", Rate(a));
    if (only == "servers") {
      print_servers();
      print_server_baseline();
    }
    if (only == "postgres") print_postgres();
    std::filesystem::remove_all(dir);
    return 0;
  }
  const double b = RawSqlite((dir / "b.db").string(), steps);
  const double c = RunNaive((dir / "c.db").string(), 1, 1000);
  const double d = Cli(dir, 100'000);
  const Latency lat = DurableLatency(url("e.db"), 5000);
  const double extraction_ms = PatternExtractionMs();
  const RecallEval eval = EvaluateRecall("sqlite://" + (dir / "eval").string());
  const RecallSpeed speed = MeasureRecallSpeed(url("recall.db"), RecallEpisodes(), 1000);
  conversations_per_s = ImportConversationsPerSecond(dir, ENGRAM_CLI, 10'000);

  const std::string child =
      fmt::format("'{}' --rss-child '{}' {}", argv[0], url("f.db"), rss_steps);
  long rss_kb = 0;
  double fire_and_forget = 0;
  if (FILE* p = popen(child.c_str(), "r")) {
    if (std::fscanf(p, "%ld %lf", &rss_kb, &fire_and_forget) != 2) rss_kb = 0;
    pclose(p);
  }

  fmt::print("| row | steps/s | ratio | target | met |\n|---|---:|---|---|---|\n");
  auto row = [](const char* name, double v, std::string ratio, std::string target, bool met) {
    fmt::print("| {} | {} | {} | {} | {} |\n", name, Rate(v), ratio, target, met ? "yes" : "NO");
  };
  const RedactionCost redaction = redaction_cost();
  row("(a) engram, durable, batched", a, "", "", true);
  row("(a-on) (a) with redaction on (the default), 3 rounds in turn with (a-off), median",
      redaction.on, "", "", true);
  row("(a-off) the same with redaction off, median", redaction.off,
      fmt::format("on/off = {:.2f}", redaction.ratio), "", true);
  row("(b) raw SQLite inserts, 256 per transaction", b, fmt::format("a/b = {:.2f}", a / b),
      "a/b >= 0.6", a / b >= 0.6);
  row("(c) naive JSON array rewritten per append, 1,000 steps/episode", c,
      fmt::format("a/c = {:.0f}", a / c), "a/c >= 50", a / c >= 50);
  row("(d) `engram episode log-steps` through a pipe, 100,000 steps", d,
      fmt::format("d/a = {:.2f}", d / a), "d/a >= 0.5", d / a >= 0.5);
  print_servers();
  print_server_baseline();
  print_postgres();
  print_hook();
  print_prune();
  fmt::print("\n| measure | value | target | met |\n|---|---:|---|---|\n");
  fmt::print("| durable log_step latency, 4 threads, p50 | {:.3f} ms | | |\n", lat.p50_ms);
  fmt::print("| durable log_step latency, 4 threads, p99 | {:.3f} ms | < 10 ms | {} |\n",
             lat.p99_ms, lat.p99_ms < 10 ? "yes" : "NO");
  fmt::print("| durable log_step latency, 4 threads, max | {:.3f} ms | | |\n", lat.max_ms);
  fmt::print(
      "| pattern extraction, one 1,000-step episode (median of 21) | {:.2f} ms | < 20 ms | {} |\n",
      extraction_ms, extraction_ms < 20 ? "yes" : "NO");
  fmt::print(
      "| peak RSS ingesting {} steps (fire-and-forget, {:.0f} steps/s) | {:.1f} MB | < 200 MB | {} "
      "|\n",
      rss_steps, fire_and_forget, static_cast<double>(rss_kb) / 1024.0,
      static_cast<double>(rss_kb) / 1024.0 < 200 && rss_kb > 0 ? "yes" : "NO");

  print_tau();
  fmt::print("\nthe synthetic evaluation set (bench/eval_set.cpp)\n");
  PrintRecallQuality(eval);
  PrintRecallSpeed(speed, 1000);
  fmt::print("\n| import | value | target | met |\n|---|---:|---|---|\n");
  fmt::print(
      "| `engram import --format openai-chat`, 10,000 conversations of 10 tool calls | {:.0f} "
      "conversations/s | >= 2,000 | {} |\n",
      conversations_per_s, conversations_per_s >= 2000 ? "yes" : "NO");
  import_memory_row();
  std::filesystem::remove_all(dir);  // the PostgreSQL rows above still needed it
  return 0;
}
