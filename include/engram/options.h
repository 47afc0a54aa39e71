// How a Memory is opened: limits, batching, durability and the clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

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

struct Options {
  Limits limits;

  // Group commit: steps that arrive while a commit is in flight join the next batch, which
  // closes at max_batch_steps or max_batch_delay after its first step, whichever comes first.
  size_t max_batch_steps = 256;
  std::chrono::microseconds max_batch_delay = std::chrono::milliseconds(5);

  // Back-pressure: log_step waits while this many accepted steps are not yet committed, so a
  // fast producer cannot grow memory without bound.
  size_t max_pending_steps = 16 * 1024;

  Synchronous synchronous = Synchronous::kNormal;

  // How long a write waits for another process that holds the database's write lock.
  std::chrono::milliseconds busy_timeout = std::chrono::seconds(10);

  // Null means SystemClock().
  std::shared_ptr<Clock> clock;
};

}  // namespace engram
