// How a Memory is opened: limits, batching, durability and the clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engram/status.h"
#include "engram/types.h"

namespace engram {

// The time source. Tests substitute a fake one.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() = 0;
};

// The real clock.
std::shared_ptr<Clock> SystemClock();

// Limits on what a caller may write, inclusive: exactly the limit is accepted. Sizes in bytes.
struct Limits {
  size_t max_tool_bytes = 128;
  size_t max_action_bytes = 4 * 1024;
  size_t max_observation_bytes = 64 * 1024;
  size_t max_parameters_bytes = 1024 * 1024;  // of the parameters' compact JSON text
  int64_t max_steps_per_episode = 100'000;
  size_t max_task_bytes = 64 * 1024;  // an episode's task, and an outcome's summary
};

enum class Synchronous {
  kNormal,  // SQLite WAL with synchronous=NORMAL: a commit survives the process being killed
  kFull,    // synchronous=FULL: a commit also survives power loss, at a cost in latency
};

// How the embedded store (a SQLite file, or an in-memory database) is opened.
struct SqliteOptions {
  Synchronous synchronous = Synchronous::kNormal;
  // How long a write waits for another process that holds the database's write lock.
  std::chrono::milliseconds busy_timeout = std::chrono::seconds(10);
};

// How a PostgreSQL store is opened. Durability and lock waits are the server's settings
// (synchronous_commit, lock_timeout), not engram's.
struct PostgresOptions {
  // Connections this process opens for reads, at most; more readers at once wait for one.
  size_t max_read_connections = 8;
};

// Secrets kept out of the store: every text engram takes from an agent passes through the
// redaction stage before it is validated or stored, each secret replaced by a marker naming its
// detector ("[REDACTED:aws_access_key]"). The README's "Secrets" section lists the detectors.
struct RedactionOptions {
  bool enabled = true;
  std::vector<std::string> disabled;  // detectors turned off, by name
  // Patterns of the user's own (RE2 syntax), each with the name its marker shows.
  std::vector<std::pair<std::string, std::string>> patterns;
  // Keys whose values (in parameters and metadata, at any depth) are always masked.
  std::vector<std::string> masked_keys;
};

// Retention: episodes started more than `older_than` ago are pruned (Memory::prune) on a
// thread of the Memory's own, once when it opens and then every `every`.
struct RetentionOptions {
  std::chrono::seconds older_than{std::chrono::hours(24 * 90)};  // 0 … kMaxPruneAge
  std::chrono::milliseconds every = std::chrono::hours(1);
  // Told the outcome of each run, on the retention thread (engram serve logs it).
  std::function<void(const Result<PruneResult>&)> report;
};

struct Options {
  Limits limits;
  RedactionOptions redaction;
  std::optional<RetentionOptions> retention;  // unset: nothing is pruned on its own

  // Group commit: steps that arrive while a commit is in flight join the next batch, which
  // closes at max_batch_steps or max_batch_delay after its first step, whichever comes first.
  size_t max_batch_steps = 256;
  std::chrono::microseconds max_batch_delay = std::chrono::milliseconds(5);

  // Back-pressure: log_step waits while this many accepted steps are not yet committed, so a
  // fast producer cannot grow memory without bound.
  size_t max_pending_steps = 16 * 1024;

  // The backend's own options, for the backend the URL names: setting those of the other is
  // an error (InvalidArgument from Memory::open), not ignored. Unset means the defaults.
  std::optional<SqliteOptions> sqlite;
  std::optional<PostgresOptions> postgres;

  // Null means SystemClock().
  std::shared_ptr<Clock> clock;
};

}  // namespace engram
