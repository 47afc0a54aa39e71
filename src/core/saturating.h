// Sums of counts (latencies, tokens) that stop at the largest int64_t rather than overflow:
// each count is at most kMaxStepCount (engram/types.h), so only a sum over many can reach it.
#pragma once

#include <cstdint>
#include <limits>

namespace engram {

inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

// The same in SQL, for a column `a` and a value `b` both >= 0 (SQLite and PostgreSQL alike: the
// addition is never made when it would overflow).
inline constexpr const char* kSaturatingAddSql =
    "CASE WHEN {a} > 9223372036854775807 - {b} THEN 9223372036854775807 ELSE {a} + {b} END";

}  // namespace engram
