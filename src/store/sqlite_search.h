// Recall's full-text search on SQLite FTS5: the words of a task turned into a MATCH expression
// that stays fast on a large store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/sqlite_db.h"

namespace engram::sqlite {

// Past this many matching episodes, only the most recent this many are ranked.
inline constexpr int kMatchWindow = 1000;
// A term found in more than this share of the most recent kTermSample completed episodes is left
// out of the match: BM25 gives it little weight, and it would fill the window with episodes that
// share nothing else with the task.
inline constexpr double kCommonTermShare = 0.25;
inline constexpr int64_t kMinCommonTermEpisodes = 50;  // a small store has no common terms
inline constexpr int kTermSample = 1000;

struct SearchPlan {
  std::string match;  // the FTS5 expression; empty when no word is indexed
};

// `words` are the task's distinct words (learn/recall.h QueryWords). Each is tokenised as the
// index tokenises text (porter stemming), common terms are dropped (the least common is kept
// when all are), and the rest are ORed.
Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words);

}  // namespace engram::sqlite
