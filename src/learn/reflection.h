// The reflection on a completed episode: rule based and deterministic. Each item is a sentence
// and the step numbers it comes from.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engram/types.h"

namespace engram {

struct ReflectionItem {
  std::string text;
  std::vector<int64_t> steps;
};

struct Reflection {
  std::vector<ReflectionItem> worked;   // tools that succeeded, the fix that followed a failure
  std::vector<ReflectionItem> improve;  // repeated failures, the same error twice, bottlenecks
  std::vector<ReflectionItem> insights;
};

// Thresholds of the rules, named so the README and the tests can say them.
struct ReflectionRules {
  double bottleneck_share = 0.4;     // a step taking this share of the episode's step time
  int64_t bottleneck_min_ms = 1000;  // … and at least this long
  int64_t high_tokens_total = 8000;  // an episode using this many tokens
  int repeated_failures = 2;         // a tool failing this many times
};

Reflection Reflect(const std::vector<ExecutionStep>& steps, const Outcome& outcome,
                   const ReflectionRules& rules = {});

nlohmann::json ToJson(const Reflection& r);

}  // namespace engram
