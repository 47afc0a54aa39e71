// Retention at scale: a prune of many old episodes while writers keep logging steps. The
// writers' durable log_step latency is measured with nothing else running, then during the
// prune, in one run on one store.
#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "bench_common.h"

namespace engram::bench {
namespace {

// The old episodes: completed (a failure in five), 5 steps each, over 10 domains, started in
// 2024 so that a prune of 30 days takes them all.
std::vector<Episode> OldEpisodes(int64_t first, int64_t count) {
  const char* tools[] = {"git", "cargo", "rg", "sed", "pytest"};
  std::vector<Episode> out;
  for (int64_t n = first; n < first + count; ++n) {
    Episode e;
    e.task = fmt::format("fix the failing test number {} in module {}", n, n % 97);
    e.context.domain = fmt::format("domain-{}", n % 10);
    e.context.tags = {fmt::format("team-{}", n % 7)};
    e.started_at =
        fmt::format("2024-{:02}-{:02}T{:02}:{:02}:00.000Z", 1 + n % 12, 1 + n % 28, n % 24, n % 60);
    for (int i = 0; i < 5; ++i) {
      ExecutionStep s;
      s.tool = tools[(n + i) % 5];
      s.action = fmt::format("{} run {}", s.tool, i);
      s.observation = std::string(200, 'o');
      s.latency_ms = 100 + i;
      s.success = i != 2 || n % 3 != 0;
      s.timestamp = e.started_at;
      e.steps.push_back(std::move(s));
    }
    e.status = EpisodeStatus::kCompleted;
    e.ended_at = e.started_at;
    e.outcome = Outcome{n % 5 ? OutcomeKind::kSuccess : OutcomeKind::kFailure, "done", {}, {}, {}};
    out.push_back(std::move(e));
  }
  return out;
}

// kThreads loggers of durable steps on open episodes, until `stop`; each call's latency in ms.
std::vector<double> LogUntil(Memory& m, const std::vector<std::string>& ids,
                             const std::atomic<bool>& stop) {
  std::vector<std::vector<double>> samples(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t i = t; !stop.load(); i += kThreads) {
        Stopwatch watch;
        if (Status s = m.log_step(ids[i % ids.size()], MakeStep(i)).status(); !s.ok()) {
          Die("log_step", s);
        }
        samples[t].push_back(watch.seconds() * 1000);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<double> all;
  for (auto& v : samples) all.insert(all.end(), v.begin(), v.end());
  return all;
}

}  // namespace

PruneFigures MeasurePrune(const std::string& url, int64_t episodes) {
  PruneFigures f;
  auto m = OpenOrDie(url);
  {
    Stopwatch watch;
    constexpr int64_t kChunk = 2000;
    for (int64_t first = 0; first < episodes; first += kChunk) {
      auto results = m->import_episodes(OldEpisodes(first, std::min(kChunk, episodes - first)));
      if (!results.ok()) Die("import", results.status());
      for (const Status& s : *results) {
        if (!s.ok()) Die("import", s);
      }
    }
    f.build_s = watch.seconds();
  }
  std::vector<std::string> open;
  for (int e = 0; e < kEpisodes; ++e) {
    open.push_back(*m->start_episode({"log beside the prune", TaskType::kTesting, {}, {}, {}}));
  }
  auto stats = [](std::vector<double> v, Latencies& out) {
    out.p50_ms = Percentile(v, 0.5);
    out.p95_ms = Percentile(v, 0.95);
    out.p99_ms = Percentile(v, 0.99);
    return v.empty() ? 0.0 : v.back();
  };
  {  // the writers alone, for as long as a short prune
    std::atomic<bool> stop{false};
    std::thread timer([&] {
      std::this_thread::sleep_for(std::chrono::seconds(5));
      stop = true;
    });
    auto idle = LogUntil(*m, open, stop);
    timer.join();
    f.idle_samples = static_cast<int64_t>(idle.size());
    f.idle_max_ms = stats(std::move(idle), f.idle);
  }
  std::atomic<bool> stop{false};
  Result<PruneResult> pruned = Status::Internal("not run");
  std::thread pruner([&] {
    Stopwatch watch;
    PruneFilter filter;
    filter.older_than = std::chrono::hours(24 * 30);
    pruned = m->prune(filter);
    f.prune_s = watch.seconds();
    stop = true;
  });
  auto during = LogUntil(*m, open, stop);
  pruner.join();
  if (!pruned.ok()) Die("prune", pruned.status());
  f.during_samples = static_cast<int64_t>(during.size());
  f.during_max_ms = stats(std::move(during), f.during);
  f.episodes = pruned->episodes;
  f.steps = pruned->steps;
  f.bytes_released = pruned->bytes_released;
  f.bytes_free = pruned->bytes_free;
  return f;
}

void PrintPrune(const PruneFigures& f, const char* store) {
  fmt::print(
      "\n| prune of {} episodes ({} steps) on {}, {} writer threads logging durable steps "
      "meanwhile | p50 | p99 | max | calls | target | met |\n|---|---:|---:|---:|---:|---|---|\n",
      f.episodes, f.steps, store, kThreads);
  fmt::print(
      "| log_step, nothing else running (5 s) | {:.2f} ms | {:.2f} ms | {:.2f} ms | {} | | |\n",
      f.idle.p50_ms, f.idle.p99_ms, f.idle_max_ms, f.idle_samples);
  fmt::print(
      "| log_step during the prune ({:.1f} s, {:.0f} episodes/s) | {:.2f} ms | {:.2f} ms | {:.2f} "
      "ms | {} | p99 < 10 ms | {} |\n",
      f.prune_s, static_cast<double>(f.episodes) / f.prune_s, f.during.p50_ms, f.during.p99_ms,
      f.during_max_ms, f.during_samples, f.during.p99_ms < 10 ? "yes" : "NO");
  fmt::print(
      "| (building the store: {:.1f} s; space given back {:.1f} MB, left free in the file "
      "{:.1f} MB) | | | | | | |\n",
      f.build_s, static_cast<double>(f.bytes_released) / 1e6,
      static_cast<double>(f.bytes_free) / 1e6);
  std::fflush(stdout);
}

}  // namespace engram::bench
