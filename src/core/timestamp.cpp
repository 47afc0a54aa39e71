#include "core/timestamp.h"

#include <fmt/format.h>

namespace engram {
namespace {

using std::chrono::system_clock;

constexpr int kMinYear = 1678;
constexpr int kMaxYear = 2261;

bool ReadDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

std::string FormatTimestamp(system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(ms);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

Result<system_clock::time_point> ParseTimestamp(std::string_view field, std::string_view s) {
  auto bad = [&] {
    return Status::InvalidArgument(
        fmt::format("{} must be an RFC 3339 timestamp like 2026-11-24T15:47:00.123Z, got \"{}\"",
                    field, s.substr(0, 64)));
  };
  int y, mo, d, h, mi, sec;
  if (!ReadDigits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !ReadDigits(s, 11, 2, h) || s[13] != ':' || !ReadDigits(s, 14, 2, mi) || s[16] != ':' ||
      !ReadDigits(s, 17, 2, sec)) {
    return bad();
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ReadDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();

  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                                        std::chrono::day{unsigned(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad();
  // The clock counts nanoseconds in 64 bits: 1677-09-21 to 2262-04-11.
  if (y < kMinYear || y > kMaxYear) {
    return Status::InvalidArgument(fmt::format("{} year must be {} to {}, got \"{}\"", field,
                                               kMinYear, kMaxYear, s.substr(0, 64)));
  }
  auto t = std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} +
           std::chrono::seconds{sec} - std::chrono::minutes{offset_minutes};
  return system_clock::time_point{std::chrono::duration_cast<system_clock::duration>(
      t.time_since_epoch() + std::chrono::nanoseconds{nanos})};
}

Result<std::string> NormalizeTimestamp(std::string_view field, std::string_view text) {
  auto t = ParseTimestamp(field, text);
  if (!t.ok()) return t.status();
  return FormatTimestamp(*t);
}

Result<std::string> NormalizeBound(std::string_view field, std::string_view text) {
  if (text.size() == 10) return NormalizeTimestamp(field, std::string(text) + "T00:00:00Z");
  return NormalizeTimestamp(field, text);
}

namespace {

struct DurationUnit {
  char name;
  int64_t seconds;
};
constexpr DurationUnit kDurationUnits[] = {
    {'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view field, std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(fmt::format(
        "{} must be a duration such as 90d, 12h or 1h30m (units w, d, h, m, s), got \"{}\"", field,
        text.substr(0, 64)));
  };
  if (text.empty() || text.size() > 64) return bad();
  // Far beyond any age a store holds, and far from overflowing.
  constexpr int64_t kMaxNumber = 1'000'000'000'000;
  auto too_large = [&] {
    return Status::InvalidArgument(fmt::format("{} is too large: at most {} seconds, got \"{}\"",
                                               field, kMaxNumber, text.substr(0, 64)));
  };
  int64_t total = 0;
  size_t next_unit = 0, i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    const size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i] - '0');
      if (n > kMaxNumber) return too_large();
      ++i;
    }
    if (i == digits || i == text.size()) return bad();
    size_t u = next_unit;
    while (u < std::size(kDurationUnits) && kDurationUnits[u].name != text[i]) ++u;
    if (u == std::size(kDurationUnits)) return bad();
    total += n * kDurationUnits[u].seconds;
    if (total > kMaxNumber) return too_large();
    next_unit = u + 1;
    ++i;
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t left = d.count();
  if (left <= 0) return fmt::format("{}s", left);
  std::string out;
  for (const auto& unit : kDurationUnits) {
    if (unit.name == 'w' && left % unit.seconds != 0) continue;  // "10d", not "1w3d"
    if (left >= unit.seconds) {
      out += fmt::format("{}{}", left / unit.seconds, unit.name);
      left %= unit.seconds;
    }
  }
  return out;
}

}  // namespace engram
