// What both stores do when merging patterns: the contributions of a batch of episodes summed
// per pattern, so that each distinct pattern costs one upsert however many episodes show it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.h"

namespace engram {

// What one completed episode contributes (its completion's patterns), and when (its end).
struct EpisodePatterns {
  int64_t episode_key = 0;
  const Completion* learnt = nullptr;
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
std::vector<std::pair<std::string_view, MergedPattern>> SumContributions(
    const std::vector<EpisodePatterns>& episodes);

// The newest of `keys` first, at most `limit`: a pattern's fresh evidence as a JSON array.
std::string NewestFirst(const std::vector<int64_t>& keys, size_t limit);

// A pattern's evidence after a batch: the `fresh` keys (a JSON array, newest first) and then the
// `stored` ones, `limit` in all, as a JSON array. Nothing when `stored` is not a JSON array of
// integers. The text is scanned, not parsed into values: a merge runs this for every pattern an
// episode batch shows, and evidence arrays are long.
std::optional<std::string> PrependEvidence(std::string_view fresh, std::string_view stored,
                                           size_t limit);

// A JSON array of integers (episode keys), as the evidence columns hold them.
std::vector<int64_t> KeysOfJsonArray(std::string_view json_array);

// Adds a batch's branches to the stored ones: {"tool": {"taken", "succeeded"}}.
nlohmann::json MergeBranches(const std::optional<std::string>& stored,
                             const std::map<std::string, std::pair<int64_t, int64_t>>& added);

// How many episodes a pattern keeps as evidence, the newest.
inline constexpr size_t kMaxEvidence = 100;

}  // namespace engram
