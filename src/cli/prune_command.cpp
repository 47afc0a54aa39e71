// engram prune: removes old episodes by filter, as retention does on its own in engram serve.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/cli.h"
#include "core/timestamp.h"
#include "engram/json.h"

namespace engram::cli {
namespace {

struct PruneArgs {
  std::string older_than, status, outcome, domain;
  bool dry_run = false;
};

std::string Bytes(int64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(n) / (1024 * 1024));
}

}  // namespace

std::string RenderPrune(const PruneResult& r) {
  if (r.episodes == 0) {
    return fmt::format("no episode started before {} matches: nothing {}\n", r.before,
                       r.dry_run ? "would be removed" : "removed");
  }
  std::string out =
      fmt::format("{} {} episode(s) and their {} step(s), started before {}\n",
                  r.dry_run ? "would remove" : "removed", r.episodes, r.steps, r.before);
  for (const auto& [status, n] : r.by_status) {
    out += fmt::format("  {:<10}{:>10}", status, n);
    if (status == "completed" && !r.by_outcome.empty()) {
      std::vector<std::string> kinds;
      for (const auto& [kind, k] : r.by_outcome) kinds.push_back(fmt::format("{} {}", kind, k));
      out += fmt::format("   {}", fmt::join(kinds, ", "));
    }
    out += "\n";
  }
  out += fmt::format("  started from {} to {}\n", r.oldest.value_or("?"), r.newest.value_or("?"));
  if (!r.dry_run) {
    out +=
        fmt::format("  space: {} given back to the file system, {} free in the store for reuse\n",
                    Bytes(r.bytes_released), Bytes(r.bytes_free));
  }
  return out;
}

void AddPruneCommand(CLI::App& app, GlobalFlags& flags) {
  auto args = std::make_shared<PruneArgs>();
  auto* cmd = app.add_subcommand(
      "prune",
      "Remove episodes started before a cut-off, with their steps, index entries and "
      "evidence");
  cmd->add_option("--older-than", args->older_than,
                  "Age of the episodes to remove, by start: 90d, 12h, 1h30m, 2w (0s: all)")
      ->required();
  cmd->add_option("--status", args->status, "Only open or only completed episodes");
  cmd->add_option(
      "--outcome", args->outcome,
      fmt::format("Only completed episodes with this outcome: {}", OneOf<OutcomeKind>()));
  cmd->add_option("--domain", args->domain, "Only episodes of this domain");
  cmd->add_flag("--dry-run", args->dry_run, "Count what would be removed; remove nothing");
  cmd->callback([args, &flags] {
    PruneFilter f;
    auto age = ParseDuration("--older-than", args->older_than);
    if (!age.ok()) throw CommandError{age.status().message(), 2};
    f.older_than = *age;
    if (!args->status.empty()) f.status = Check(parse_episode_status(args->status));
    if (!args->outcome.empty()) f.outcome = Check(parse_outcome_kind(args->outcome));
    if (!args->domain.empty()) f.domain = args->domain;
    f.dry_run = args->dry_run;
    const PruneResult r = Check(OpenMemory(flags)->prune(f));
    if (flags.json) {
      std::cout << to_json(r).dump(2) << "\n";
    } else {
      std::cout << RenderPrune(r);
    }
  });
}

}  // namespace engram::cli
