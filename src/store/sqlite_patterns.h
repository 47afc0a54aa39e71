// Patterns on SQLite: merging one episode's contributions, and reading patterns back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_db.h"
#include "store/store.h"

namespace engram::sqlite {

// The stable id of the pattern with this key: "p" and 16 hexadecimal digits.
std::string PatternId(std::string_view key);

// REQUIRES: a write transaction is open on `conn`.
Status MergePatterns(Connection& conn, int64_t episode_key,
                     const std::vector<PatternContribution>& contributions,
                     const std::string& seen_at);

Result<std::vector<Pattern>> ListPatterns(Connection& conn, const PatternFilter& filter);
Result<Pattern> GetPattern(Connection& conn, std::string_view id);
// Without their evidence.
Result<std::vector<PatternHit>> PatternsOfEpisodes(Connection& conn,
                                                   const std::vector<int64_t>& keys);

}  // namespace engram::sqlite
