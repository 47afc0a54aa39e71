// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then randomness, so ids sort by time.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace engram {

// A new UUIDv7 in canonical lowercase form. Ids made by one process are strictly increasing,
// even within one millisecond (RFC 9562 method 1: a counter in rand_a).
std::string NewUuidV7(std::chrono::system_clock::time_point now);

// True when `s` has the canonical 8-4-4-4-12 hexadecimal form (any case).
bool IsUuid(std::string_view s);

}  // namespace engram
