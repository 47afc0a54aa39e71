// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace engram {

// The offset of the first byte that is not part of a valid UTF-8 sequence, if any.
std::optional<size_t> FindInvalidUtf8(std::string_view s);

// `s` with each byte that is not part of a valid UTF-8 sequence written as \xHH: text fit for a
// message, whatever the input quoted in it.
std::string EscapeInvalidUtf8(std::string_view s);

// `s` as engram stores text taken from traces and transcripts rather than from a caller: each
// invalid byte and each NUL (which no store keeps) replaced by U+FFFD.
std::string StorableText(std::string s);

// The longest prefix of `s` of at most `max_bytes` that does not split a character.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// For one-line displays: the first line of `text`, and when it is over `width` bytes, its
// prefix of width - 3 bytes (not splitting a character) and "...". REQUIRES: width >= 3.
std::string ClipLine(std::string_view text, size_t width);

}  // namespace engram
