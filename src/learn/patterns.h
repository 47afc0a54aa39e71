// Patterns: what one completed episode contributes to the patterns engram keeps across all
// episodes. The store merges these contributions, one row per distinct pattern.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engram/types.h"
#include "learn/pattern_text.h"
#include "store/store.h"

namespace engram {

struct PatternRules {
  int min_ngram = 2;
  int max_ngram = 5;
};

// The stable id of the pattern with this key: "p" and 16 hexadecimal digits.
std::string PatternId(std::string_view key);

// The id of the decision point after a step of `tool` that succeeded or failed.
std::string DecisionPointId(std::string_view tool, bool succeeded);

// The JSON array of these patterns' ids; empty when there are none.
std::string PatternIdList(const std::vector<PatternContribution>& patterns);

// `success` is the episode's outcome base (1 success … 0 failure; see reward.h). Deterministic:
// contributions come sorted by key.
std::vector<PatternContribution> ExtractPatterns(const Episode& episode, double success,
                                                 const PatternRules& rules = {});

}  // namespace engram
