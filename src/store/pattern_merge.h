// What both stores do when merging patterns: the contributions of a batch of episodes summed
// per pattern, so that each distinct pattern costs one upsert however many episodes show it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace engram {

// What one completed episode contributes, and when.
struct EpisodePatterns {
  int64_t episode_key = 0;
  const std::vector<PatternContribution>* patterns = nullptr;
  std::string_view seen_at;
  const std::optional<std::string>* domain = nullptr;  // the episode's, when it has one
};

// One pattern's contributions from a batch of episodes, summed.
struct MergedPattern {
  const PatternContribution* first = nullptr;  // type, key and description come from it
  int64_t support = 0, occurrences = 0, latency_ms = 0, tokens = 0;
  double success = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> branches;
  std::string_view first_seen, last_seen;
  std::vector<int64_t> episode_keys;            // in the order of the episodes, oldest first
  std::map<std::string_view, int64_t> domains;  // episodes per domain
};

// By pattern id, in id order (the order in which a store should lock the rows).
std::map<std::string_view, MergedPattern> SumContributions(
    const std::vector<EpisodePatterns>& episodes);

// The JSON array of an episode's pattern ids, as episode_patterns keeps it; empty when none.
std::string PatternIdList(const std::vector<PatternContribution>& patterns);

// The newest of `keys` first, at most `limit`: a pattern's fresh evidence as a JSON array.
std::string NewestFirst(const std::vector<int64_t>& keys, size_t limit);

// A JSON array of integers (episode keys), as the evidence columns hold them.
std::vector<int64_t> KeysOfJsonArray(std::string_view json_array);

// Adds a batch's branches to the stored ones: {"tool": {"taken", "succeeded"}}.
nlohmann::json MergeBranches(const std::optional<std::string>& stored,
                             const std::map<std::string, std::pair<int64_t, int64_t>>& added);

// How many episodes a pattern keeps as evidence, the newest.
inline constexpr size_t kMaxEvidence = 100;

}  // namespace engram
