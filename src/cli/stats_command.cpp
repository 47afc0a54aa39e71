// engram stats
#include <fmt/format.h>

#include <iostream>

#include "cli/cli.h"
#include "core/utf8.h"

namespace engram::cli {
namespace {

struct StatsArgs {
  std::string tool, domain, since;
};

std::string Counts(const std::map<std::string, int64_t>& counts) {
  if (counts.empty()) return "none";
  std::string out;
  for (const auto& [name, n] : counts)
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", name, n);
  return out;
}

}  // namespace

std::string RenderStats(const Stats& s) {
  int64_t episodes = 0;
  for (const auto& [status, n] : s.episodes_by_status) episodes += n;
  std::string out = fmt::format("{} steps, {} episodes ({}); outcomes: {}\n", s.steps, episodes,
                                Counts(s.episodes_by_status), Counts(s.outcomes));
  if (s.tools.empty()) return out;
  out += fmt::format("\n{:<16} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10} {:>8}\n", "tool", "calls",
                     "success", "p50 ms", "p95 ms", "p99 ms", "max ms", "tokens", "mean");
  for (const auto& t : s.tools) {
    out += fmt::format("{:<16} {:>7} {:>7.1f}% {:>8} {:>8} {:>8} {:>8} {:>10} {:>8.1f}\n", t.tool,
                       t.calls, t.success_rate * 100, t.latency_p50_ms, t.latency_p95_ms,
                       t.latency_p99_ms, t.latency_max_ms, t.tokens_total, t.tokens_mean);
  }
  out += "\nslowest steps\n";
  for (const auto& x : s.slowest_steps) {
    out += fmt::format("  {:>8} ms  {} step {:<4} {} {}\n", x.latency_ms, x.episode_id,
                       x.step_number, x.tool, ClipLine(x.action, 50));
  }
  return out;
}

void AddStatsCommand(CLI::App& app, GlobalFlags& flags) {
  auto args = std::make_shared<StatsArgs>();
  auto* cmd = app.add_subcommand(
      "stats", "Per-tool calls, success rates, exact latency percentiles and tokens");
  cmd->add_option("--tool", args->tool, "Only steps of this tool");
  cmd->add_option("--domain", args->domain, "Only episodes of this domain");
  cmd->add_option("--since", args->since, "Only steps (and episodes started) at or after this");
  cmd->callback([args, &flags] {
    StatsFilter f;
    if (!args->tool.empty()) f.tool = args->tool;
    if (!args->domain.empty()) f.domain = args->domain;
    if (!args->since.empty()) f.since = args->since;
    Stats s = Check(OpenMemory(flags)->stats(f));
    if (flags.json) {
      std::cout << to_json(s).dump(2) << "\n";
    } else {
      std::cout << RenderStats(s);
    }
  });
}

}  // namespace engram::cli
