#include "core/utf8.h"

#include <fmt/format.h>

#include <cassert>
#include <cstdint>

namespace engram {

std::optional<size_t> FindInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return std::nullopt;
}

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

std::string ClipLine(std::string_view text, size_t width) {
  assert(width >= 3);
  text = text.substr(0, text.find('\n'));
  if (text.size() <= width) return std::string(text);
  return std::string(Utf8Prefix(text, width - 3)) + "...";
}

std::string EscapeInvalidUtf8(std::string_view s) {
  std::string out;
  while (auto bad = FindInvalidUtf8(s)) {
    out.append(s.substr(0, *bad));
    out += fmt::format("\\x{:02X}", static_cast<unsigned char>(s[*bad]));
    s.remove_prefix(*bad + 1);
  }
  out.append(s);
  return out;
}

std::string StorableText(std::string s) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  if (!FindInvalidUtf8(s) && s.find('\0') == std::string::npos) return s;
  std::string_view rest = s;
  std::string out;
  while (!rest.empty()) {
    const size_t bad = FindInvalidUtf8(rest).value_or(rest.size());
    const std::string_view good = rest.substr(0, bad);
    for (char c : good) {
      if (c == '\0') {
        out += kReplacement;
      } else {
        out += c;
      }
    }
    if (bad == rest.size()) break;
    out += kReplacement;
    rest.remove_prefix(bad + 1);
  }
  return out;
}

}  // namespace engram
