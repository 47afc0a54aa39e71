#include "store/pattern_merge.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "core/saturating.h"
#include "engram/json.h"

namespace engram {

namespace {

// Pattern ids end in hexadecimal digits of a hash already: their last eight bytes are hash enough.
struct IdHash {
  size_t operator()(std::string_view id) const {
    if (id.size() < 8) return std::hash<std::string_view>()(id);
    uint64_t tail;
    std::memcpy(&tail, id.data() + id.size() - 8, 8);
    return static_cast<size_t>(tail * 0x9e3779b97f4a7c15ull);
  }
};

// The items of a JSON array of integers, as text; nothing if it is not one.
std::optional<std::vector<std::string_view>> IntegerItems(std::string_view a, size_t limit) {
  auto space = [&](size_t i) {
    while (i < a.size() && (a[i] == ' ' || a[i] == '\t' || a[i] == '\n' || a[i] == '\r')) ++i;
    return i;
  };
  std::vector<std::string_view> items;
  size_t i = space(0);
  if (i == a.size() || a[i] != '[') return std::nullopt;
  i = space(i + 1);
  if (i < a.size() && a[i] == ']')
    return space(i + 1) == a.size() ? std::optional(items) : std::nullopt;
  while (true) {
    const size_t from = i;
    if (i < a.size() && a[i] == '-') ++i;
    const size_t digits = i;
    while (i < a.size() && a[i] >= '0' && a[i] <= '9') ++i;
    if (i == digits) return std::nullopt;
    if (items.size() < limit) items.push_back(a.substr(from, i - from));
    i = space(i);
    if (i == a.size()) return std::nullopt;
    if (a[i] == ']') break;
    if (a[i] != ',') return std::nullopt;
    i = space(i + 1);
  }
  if (space(i + 1) != a.size()) return std::nullopt;
  return items;
}

}  // namespace

std::vector<std::pair<std::string_view, MergedPattern>> SumContributions(
    const std::vector<EpisodePatterns>& episodes) {
  // A batch holds tens of thousands of contributions to a few hundred patterns: found by hash,
  // sorted once at the end.
  std::vector<std::pair<std::string_view, MergedPattern>> merged;
  std::unordered_map<std::string_view, size_t, IdHash> position;
  for (const auto& ep : episodes) {
    const std::string_view seen_at = ep.learnt->ended_at;
    for (const auto& c : ep.learnt->patterns) {
      auto [it, fresh] = position.try_emplace(c.id, merged.size());
      if (fresh) merged.emplace_back(c.id, MergedPattern{});
      MergedPattern& m = merged[it->second].second;
      if (!m.first) {
        m.first = &c;
        m.first_seen = m.last_seen = seen_at;
      }
      ++m.support;
      m.occurrences += c.occurrences;
      m.latency_ms = SaturatingAdd(m.latency_ms, c.latency_ms);
      m.tokens = SaturatingAdd(m.tokens, c.tokens);
      m.success += c.success;
      for (const auto& [tool, counts] : c.branches) {
        auto& [taken, worked] = m.branches[tool];
        taken += counts.first;
        worked += counts.second;
      }
      m.first_seen = std::min(m.first_seen, seen_at);
      m.last_seen = std::max(m.last_seen, seen_at);
      m.episode_keys.push_back(ep.episode_key);
      if (ep.domain && *ep.domain) ++m.domains[**ep.domain];
    }
  }
  std::sort(merged.begin(), merged.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return merged;
}

std::string NewestFirst(const std::vector<int64_t>& keys, size_t limit) {
  const size_t n = std::min(keys.size(), limit);
  return fmt::format("[{}]", fmt::join(keys.rbegin(), keys.rbegin() + static_cast<long>(n), ","));
}

std::optional<std::string> PrependEvidence(std::string_view fresh, std::string_view stored,
                                           size_t limit) {
  auto newer = IntegerItems(fresh, limit);
  if (!newer) return std::nullopt;
  auto older = IntegerItems(stored, limit - newer->size());
  if (!older) return std::nullopt;
  std::string out = "[";
  out.reserve(fresh.size() + stored.size());
  for (const auto* part : {&*newer, &*older}) {
    for (std::string_view item : *part) {
      if (out.size() > 1) out += ',';
      out += item;
    }
  }
  out += ']';
  return out;
}

std::vector<int64_t> KeysOfJsonArray(std::string_view json_array) {
  std::vector<int64_t> out;
  auto a = nlohmann::json::parse(json_array, nullptr, false);
  if (!a.is_array()) return out;
  for (const auto& v : a) {
    if (v.is_number_integer()) out.push_back(v.get<int64_t>());
  }
  return out;
}

nlohmann::json MergeBranches(const std::optional<std::string>& stored,
                             const std::map<std::string, std::pair<int64_t, int64_t>>& added) {
  nlohmann::json out =
      stored ? nlohmann::json::parse(*stored, nullptr, false) : nlohmann::json::object();
  if (!out.is_object()) out = nlohmann::json::object();
  for (const auto& [tool, counts] : added) {
    nlohmann::json& b = out[tool];
    if (!b.is_object()) b = nlohmann::json::object();
    b["taken"] = b.value("taken", int64_t{0}) + counts.first;
    b["succeeded"] = b.value("succeeded", int64_t{0}) + counts.second;
  }
  return out;
}

}  // namespace engram
