// Next-step suggestions: what an open episode might call next, from what similar past episodes
// did after the same calls and from the learnt patterns. Pure functions; deterministic.
// Conversation turns (core/turns.h) are neither read as calls nor suggested.
#pragma once

#include <string_view>
#include <vector>

#include "core/turns.h"
#include "engram/types.h"
#include "store/store.h"

namespace engram {

// How many of the most similar past episodes are read for suggestions; the first
// kSuggestAlignedEpisodes of them also vote with their own next call.
inline constexpr size_t kSuggestSimilarEpisodes = 20;
inline constexpr size_t kSuggestAlignedEpisodes = 5;

// A similar past episode as suggestions read it.
struct SimilarRun {
  double similarity = 0;  // its recall score relative to the most similar one's, 0 … 1
  double outcome = 0;     // its outcome value, 0 … 1 (learn/recall.h OutcomeValue)
  std::string task;
  std::vector<StepBrief> steps;  // in step order, turns included (they are skipped)
};

// What the open episode has done: its steps in order, and the signature of its last call's
// error when that call failed (learn/error_signature.h).
struct RunSoFar {
  std::vector<StepBrief> steps;
  std::string last_error_signature;
};

// The suggestions, best first, at most `k`. A candidate tool's score is a weighted mean of
// five shares, each the part of one kind of evidence that names the tool:
//   aligned (weight 1.0): in each of the kSuggestAlignedEpisodes most similar episodes, the
//     calls that followed a call of the same tool as the last one here (the episode's start
//     when none was made yet) that failed or succeeded as the last one here did, counted 1,
//     plus 1 when the call before it matches too; shares weighted by similarity (by a quarter
//     of it for an episode whose calls of that tool all ended otherwise, and then all count);
//   trigram (0.5) and bigram (0.3): over the kSuggestSimilarEpisodes most similar, the calls
//     that followed the last two calls here, and the last one, at the same points, weighted by
//     similarity;
//   recovery (1.0, only when the last call failed): the learnt error recoveries of that tool
//     and error signature, by support, for the first call of each recovery;
//   decision (0.2): the learnt decision point after the last call's tool and its success, by
//     how often each next call was taken.
// `patterns` are the learnt patterns to consult (error recoveries and decision points; the
// others are ignored). support counts the similar episodes that took the tool at a comparable
// point (or, when none did, the pattern's support), success_rate is their mean outcome.
std::vector<Suggestion> SuggestNext(const RunSoFar& run, const std::vector<SimilarRun>& similar,
                                    const std::vector<Pattern>& patterns, size_t k);

}  // namespace engram
