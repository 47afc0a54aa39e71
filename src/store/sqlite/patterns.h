// Patterns on SQLite: merging one episode's contributions, and reading patterns back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/pattern_merge.h"
#include "store/sqlite/db.h"
#include "store/store.h"

namespace engram::sqlite {

// Registers the SQL function MergePatterns uses on this connection.
Status RegisterPatternFunctions(Connection& conn);

// Merges the contributions of these episodes into the patterns of all episodes.
// REQUIRES: a write transaction is open on `conn`, RegisterPatternFunctions ran on it.
Status MergePatterns(Connection& conn, const std::vector<EpisodePatterns>& episodes);

// Takes a deleted episode out of the evidence of its patterns and their counts per domain (its
// contributions to support and rates stay). Call before the episode's row goes.
Status ForgetEpisodePatterns(Connection& conn, int64_t episode_key);

Result<std::vector<Pattern>> ListPatterns(Connection& conn, const PatternFilter& filter);
Result<Pattern> GetPattern(Connection& conn, std::string_view id);
// Without their evidence.
Result<std::vector<PatternHit>> PatternsOfEpisodes(Connection& conn,
                                                   const std::vector<int64_t>& keys);

}  // namespace engram::sqlite
