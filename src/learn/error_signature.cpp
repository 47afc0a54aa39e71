#include "learn/error_signature.h"

#include <cctype>

#include "core/utf8.h"

namespace engram {
namespace {

bool IsHexDigit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
bool IsDigit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}
bool IsSpace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// A path: a run without spaces that holds a '/' (or starts with '~' or '.' followed by '/').
size_t PathEnd(std::string_view s, size_t i) {
  size_t j = i;
  bool slash = false;
  while (j < s.size() && !IsSpace(s[j]) && s[j] != '"' && s[j] != '\'' && s[j] != '`' &&
         s[j] != ',' && s[j] != ')' && s[j] != '(') {
    slash = slash || s[j] == '/';
    ++j;
  }
  return slash ? j : i;
}

}  // namespace

std::string ErrorSignature(std::string_view s) {
  constexpr size_t kMaxBytes = 200;
  std::string out;
  out.reserve(std::min(s.size(), kMaxBytes));
  auto emit = [&](std::string_view token) {
    // Repeated placeholders ("<n>:<n>") fold into one.
    if (!token.empty() && token.front() == '<' && out.size() >= token.size() + 1 &&
        std::string_view(out).substr(out.size() - token.size()) == token) {
      return;
    }
    out += token;
  };
  size_t i = 0;
  while (i < s.size() && out.size() < kMaxBytes) {
    const char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      const size_t close = s.find(c, i + 1);
      if (close != std::string_view::npos && close - i <= 200) {
        emit("<q>");
        i = close + 1;
        continue;
      }
    }
    const bool word_start = i == 0 || !std::isalnum(static_cast<unsigned char>(s[i - 1]));
    if (word_start &&
        (c == '/' || c == '~' || c == '.' || std::isalnum(static_cast<unsigned char>(c)))) {
      if (size_t end = PathEnd(s, i); end > i) {
        emit("<path>");
        i = end;
        continue;
      }
    }
    if (word_start && c == '0' && i + 2 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
        IsHexDigit(s[i + 2])) {
      size_t j = i + 2;
      while (j < s.size() && IsHexDigit(s[j])) ++j;
      emit("<hex>");
      i = j;
      continue;
    }
    if (word_start && IsHexDigit(c)) {
      // Long hexadecimal runs with at least one digit: hashes, ids, addresses.
      size_t j = i;
      bool digit = false;
      for (; j < s.size() && IsHexDigit(s[j]); ++j) {
        if (IsDigit(s[j])) digit = true;
      }
      if (j - i >= 8 && digit &&
          (j == s.size() || !std::isalnum(static_cast<unsigned char>(s[j])))) {
        emit("<hex>");
        i = j;
        continue;
      }
    }
    if (IsDigit(c)) {
      size_t j = i;
      while (j < s.size() &&
             (IsDigit(s[j]) || (s[j] == '.' && j + 1 < s.size() && IsDigit(s[j + 1]))))
        ++j;
      emit("<n>");
      i = j;
      continue;
    }
    if (IsSpace(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      ++i;
      continue;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ++i;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  // Never end inside a UTF-8 sequence: signatures go into JSON.
  out.resize(Utf8Prefix(out, kMaxBytes).size());
  return out;
}

}  // namespace engram
