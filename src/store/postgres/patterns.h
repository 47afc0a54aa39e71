// Patterns on PostgreSQL: merging episodes' contributions, and reading patterns back. A
// batch's pattern rows are upserted in one statement that adds to what is stored (support,
// sums, branches, evidence), so nodes merging into the same pattern at once lose nothing; rows
// are taken in id order, so they never wait for each other in a circle.
#pragma once

#include <string_view>
#include <vector>

#include "store/pattern_merge.h"
#include "store/postgres/db.h"

namespace engram::pg {

// The session's tables a batch's pattern rows and domain counts arrive in before they are
// merged, emptied at each commit: part of the writer connection's setup.
inline constexpr const char* kIncomingTables =
    "CREATE TEMP TABLE incoming_patterns (id TEXT COLLATE \"C\", key TEXT, type TEXT, "
    "description TEXT, support BIGINT, success_sum DOUBLE PRECISION, occurrences BIGINT, "
    "latency_ms_sum BIGINT, tokens_sum BIGINT, branches TEXT, first_seen TEXT COLLATE \"C\", "
    "last_seen TEXT COLLATE \"C\", evidence TEXT) ON COMMIT DELETE ROWS; "
    "CREATE TEMP TABLE incoming_domains (domain TEXT, pattern_id TEXT, episodes BIGINT) "
    "ON COMMIT DELETE ROWS";

// REQUIRES: a transaction is open on `conn`, a writer connection (kIncomingTables).
Status MergePatterns(Connection& conn, const std::vector<EpisodePatterns>& episodes);

// Rows in COPY text format, in the column order of kPatternRowColumns, of episode_patterns and
// of pattern_domains.
std::string PatternRowsCopy(const std::vector<PatternRow>& rows);
std::string EpisodePatternsCopy(const std::vector<EpisodePatternsRow>& rows);
std::string PatternDomainsCopy(const std::vector<PatternDomainRow>& rows);

// The statements that take deleted episodes (their keys an array, $1::bigint[]) out of the
// evidence of their patterns and their counts per domain (their contributions to support and
// rates stay), in order, before the episodes' rows go.
const std::vector<std::string>& ForgetEpisodePatternsSql();

Result<std::vector<Pattern>> ListPatterns(Connection& conn, const PatternFilter& filter);
Result<Pattern> GetPattern(Connection& conn, std::string_view id);
// Without their evidence.
Result<std::vector<PatternHit>> PatternsOfEpisodes(Connection& conn,
                                                   const std::vector<int64_t>& keys);

}  // namespace engram::pg
