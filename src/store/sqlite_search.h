// Recall's full-text search on SQLite FTS5: the words of a task turned into a MATCH expression
// that stays fast on a large store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/sqlite_db.h"

namespace engram::sqlite {

// Past this many matching episodes, only the most recent this many are ranked.
inline constexpr int kMatchWindow = 2000;
// A term found in more than this share of all episodes is left out of the match: BM25 gives it
// almost no weight, and it would match most of the store.
inline constexpr double kCommonTermShare = 0.25;

struct SearchPlan {
  std::string match;                // the FTS5 expression; empty when no word is indexed
  std::optional<int64_t> min_rowid;  // set when the matches exceed kMatchWindow
};

// `words` are the task's distinct words (learn/recall.h QueryWords). Each is tokenised as the
// index tokenises text (porter stemming), terms that occur nowhere or in too many episodes are
// dropped (the rarest is kept when all are common), and the rest are ORed.
Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words);

}  // namespace engram::sqlite
