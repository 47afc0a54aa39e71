// Patterns on PostgreSQL: merging episodes' contributions, and reading patterns back. Each
// pattern row is updated in one upsert that adds to what is stored (support, sums, branches,
// evidence), so nodes merging into the same pattern at once lose nothing; rows are taken in
// id order, so they never wait for each other in a circle.
#pragma once

#include <string_view>
#include <vector>

#include "store/pattern_merge.h"
#include "store/pg_db.h"

namespace engram::pg {

// REQUIRES: a transaction is open on `conn`.
Status MergePatterns(Connection& conn, const std::vector<EpisodePatterns>& episodes);

// Takes a deleted episode out of the evidence of its patterns and their counts per domain (its
// contributions to support and rates stay). Call before the episode's row goes.
Status ForgetEpisodePatterns(Connection& conn, int64_t episode_key);

Result<std::vector<Pattern>> ListPatterns(Connection& conn, const PatternFilter& filter);
Result<Pattern> GetPattern(Connection& conn, std::string_view id);
// Without their evidence.
Result<std::vector<PatternHit>> PatternsOfEpisodes(Connection& conn,
                                                   const std::vector<int64_t>& keys);

}  // namespace engram::pg
