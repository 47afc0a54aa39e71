// RFC 3339 timestamps, as engram writes them: UTC with milliseconds, "2026-11-24T15:47:00.123Z".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "engram/status.h"

namespace engram {

std::string FormatTimestamp(std::chrono::system_clock::time_point t);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" ('t', 'z' and a space for 'T' are
// accepted too). `field` names the value in the error.
Result<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view field,
                                                             std::string_view text);

// Parses and rewrites in engram's canonical form, so stored timestamps compare as text.
Result<std::string> NormalizeTimestamp(std::string_view field, std::string_view text);

// For filter bounds: like NormalizeTimestamp, and a bare date (2026-11-24) means midnight UTC.
Result<std::string> NormalizeBound(std::string_view field, std::string_view text);

// Durations as people write them: "90d", "12h", "1h30m", "45s", "2w" (units s, m, h, d and w,
// each at most once, largest first). `field` names the value in the error.
Result<std::chrono::seconds> ParseDuration(std::string_view field, std::string_view text);
// The shortest such text for `d`: "90d", "1h30m", "0s".
std::string FormatDuration(std::chrono::seconds d);

}  // namespace engram
