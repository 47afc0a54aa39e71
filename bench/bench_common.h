// Shared pieces of make bench: the workload and a stopwatch.
#pragma once

#include <chrono>
#include <string>

#include "engram/engram.h"

namespace engram::bench {

inline constexpr int kEpisodes = 100;
inline constexpr int kThreads = 4;
inline constexpr size_t kObservationBytes = 1024;

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

}  // namespace engram::bench
