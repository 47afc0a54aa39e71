// Recall: how past episodes and patterns are scored for a new task, and the playbook written
// from them. Pure functions over what the store found; deterministic for a given `now`.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engram/types.h"
#include "store/store.h"

namespace engram {

// How many of the best text matches are scored with every signal (ScoreHits), by recall and by
// next-step suggestions alike.
inline constexpr int kScoredCandidates = 50;
// How many of the best-scored episodes recall mines for patterns (at least k).
inline constexpr size_t kPatternSourceEpisodes = 20;
// At most this many patterns are returned.
inline constexpr size_t kMaxRecalledPatterns = 10;

// The text recall searches beside the task, field by field, each scored against its own
// length: every sentence of the reflection, and of the steps what the user said (the
// observations of the conversation turns of tool "user"), the calls (each tool call's tool and
// action; turns left out) and what was observed (the first 300 bytes of each other step's
// observation: tool results and the assistant's messages). Each field at most 16 KiB.
std::string ReflectionText(const nlohmann::json& reflection);
StepTexts StepsText(const std::vector<ExecutionStep>& steps);

// The words recall searches for: the task's distinct words of two letters or more (lowercase
// ASCII; other bytes kept), common English words left out; at most 32.
std::vector<std::string> QueryWords(std::string_view task);

// The share of the query's context that the episode matches: domain, language and framework
// count one each when the query gives them, tags one (the share of the query's tags the
// episode carries). 0 when the query gives no context.
double ContextMatch(const Context& query, const Context& episode);

// 0.5 ^ (age / 30 days) for an episode that ended at `ended_at`; 1 when it is in the future.
double Recency(std::string_view ended_at, std::chrono::system_clock::time_point now);

// The reward's total when the episode has one, else its outcome's base (OutcomeBase).
double OutcomeValue(const Episode& e);

// The hits scored and sorted, best first (ties: newer first). The text signal is the hit's
// relevance relative to the best hit's, so the best text match has text 1; hits under 0.1 of the
// best (a common word or two in passing) are left out.
struct ScoredHit {
  const SearchHit* hit = nullptr;
  double score = 0;
  std::map<std::string, double> why;  // weighted contributions: text, context, outcome, recency
};
std::vector<ScoredHit> ScoreHits(const std::vector<SearchHit>& hits, const RecallQuery& query,
                                 std::chrono::system_clock::time_point now);

// The recalled form of a scored hit: lessons from the reflection (what worked, or for a
// failure what went wrong), at most three.
RecalledEpisode ToRecalled(const ScoredHit& scored);

// The patterns that apply, best first: success_here × seen_in / (seen_in + 1), where seen_in
// counts the source episodes showing the pattern and success_here is their mean outcome value.
// Patterns seen only in failures here are left out.
// At most 3 tool sequences, 3 error recoveries, 2 decision points and 2 contexts.
std::vector<RecalledPattern> RankPatterns(const std::vector<PatternHit>& hits,
                                          const std::vector<ScoredHit>& sources);

// An estimate of the tokens `text` takes in a prompt: one per 4 bytes, rounded up.
int64_t EstimateTokens(std::string_view text);

// The playbook: the recommended tool sequence, what worked, pitfalls and their fixes, in that
// order, with the most useful lines kept first when the budget is short. Never over
// `token_budget` tokens (EstimateTokens); empty when not even one line fits.
std::string WritePlaybook(const std::vector<RecalledEpisode>& episodes,
                          const std::vector<RecalledPattern>& patterns, int64_t token_budget);

}  // namespace engram
