// Copying a whole store to another: SQLite to PostgreSQL when one machine is not enough, or
// back. What `engram migrate` runs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engram/options.h"
#include "engram/status.h"

namespace engram {

struct MigrateOptions {
  // How the source and the target are opened (each with the options of its own backend).
  Options from_store, to_store;
  // Called after each batch of episodes: how many are copied, of how many.
  std::function<void(int64_t copied, int64_t total)> progress;
};

// A table's rows in the source and, after the copy, in the target.
struct MigratedTable {
  std::string table;  // episodes, steps, patterns, episode_patterns, pattern_domains
  int64_t source = 0;
  int64_t target = 0;
};

struct MigrateReport {
  std::string from, to;  // the URLs, any password in them shown as ***
  std::vector<MigratedTable> tables;
  double seconds = 0;
};

// Copies every episode (ids, steps with their numbers and timestamps, outcome, reward and
// reflection as stored) and everything learnt from them (patterns with their sums, branches
// and evidence, each episode's pattern list, the per-domain counts) from the store at `from`
// to the store at `to`, then checks that every table holds as many rows in the target as in
// the source. URLs as Memory::open takes them.
//
// The target must hold no episodes and no patterns (FailedPrecondition otherwise); a SQLite
// target file is created. Episodes are written 512 to a transaction: should the copy fail
// midway, the target holds part of the source and must be emptied before migrating again.
// Stop every writer of the source first: a source that changed during the copy is reported
// (FailedPrecondition), as is a target whose counts differ from the source's (Corruption).
Result<MigrateReport> migrate(std::string_view from, std::string_view to,
                              const MigrateOptions& options = {});

}  // namespace engram
