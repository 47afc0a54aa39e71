#include "store/pattern_merge.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "engram/json.h"

namespace engram {

std::map<std::string_view, MergedPattern> SumContributions(
    const std::vector<EpisodePatterns>& episodes) {
  std::map<std::string_view, MergedPattern> merged;
  for (const auto& ep : episodes) {
    for (const auto& c : *ep.patterns) {
      MergedPattern& m = merged[c.id];
      if (!m.first) {
        m.first = &c;
        m.first_seen = m.last_seen = ep.seen_at;
      }
      ++m.support;
      m.occurrences += c.occurrences;
      m.latency_ms += c.latency_ms;
      m.tokens += c.tokens;
      m.success += c.success;
      for (const auto& [tool, counts] : c.branches) {
        m.branches[tool].first += counts.first;
        m.branches[tool].second += counts.second;
      }
      m.first_seen = std::min(m.first_seen, ep.seen_at);
      m.last_seen = std::max(m.last_seen, ep.seen_at);
      m.episode_keys.push_back(ep.episode_key);
      if (ep.domain && *ep.domain) ++m.domains[**ep.domain];
    }
  }
  return merged;
}

std::string PatternIdList(const std::vector<PatternContribution>& patterns) {
  std::string ids;  // ids are "p" and hexadecimal digits: no escaping
  for (const auto& c : patterns) {
    ids += ids.empty() ? "[\"" : ",\"";
    ids += c.id;
    ids += '"';
  }
  if (!ids.empty()) ids += ']';
  return ids;
}

std::string NewestFirst(const std::vector<int64_t>& keys, size_t limit) {
  const size_t n = std::min(keys.size(), limit);
  return fmt::format("[{}]", fmt::join(keys.rbegin(), keys.rbegin() + static_cast<long>(n), ","));
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
