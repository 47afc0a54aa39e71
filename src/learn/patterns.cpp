#include "learn/patterns.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "core/saturating.h"
#include "core/utf8.h"
#include "learn/error_signature.h"
#include "learn/reward.h"

namespace engram {
namespace {

// FNV-1a, fed a piece at a time: a key's hash is extended as the key would be.
struct Fnv1a {
  uint64_t value = 14695981039346656037ull;

  Fnv1a& add(std::string_view piece) {
    for (unsigned char c : piece) {
      value ^= c;
      value *= 1099511628211ull;
    }
    return *this;
  }
};

std::string IdOf(uint64_t hash) {
  std::string id(17, 'p');
  for (int i = 16; i >= 1; --i, hash >>= 4) {
    id[static_cast<size_t>(i)] = "0123456789abcdef"[hash & 15];
  }
  return id;
}

// One episode's contributions, found by the hash their id is made of (an episode meets each of
// its 60 or so patterns several times; the keys are long and share their beginnings). Two keys
// of one hash would have one id, and be one pattern in the store all the same.
class Contributions {
 public:
  Contributions() { all_.reserve(64); }

  // The contribution with this key, new (type, key, id and success set) if there is none yet.
  PatternContribution& Get(PatternType type, std::string_view key, double success) {
    const uint64_t hash = Fnv1a().add(key).value;
    if (PatternContribution* p = Find(hash)) return *p;
    return Add(hash, type, std::string(key), success);
  }

  // The contribution whose key has this hash, if there is one yet.
  PatternContribution* Find(uint64_t hash) {
    auto it = index_.find(hash);
    return it == index_.end() ? nullptr : &all_[it->second];
  }

  // A new contribution; `hash` is its key's.
  PatternContribution& Add(uint64_t hash, PatternType type, std::string key, double success) {
    index_.emplace(hash, all_.size());
    PatternContribution& p = all_.emplace_back();
    p.type = type;
    p.key = std::move(key);
    p.id = IdOf(hash);
    p.success = success;
    return p;
  }

  // In the order they were first met.
  std::vector<PatternContribution> Take() {
    index_.clear();
    return std::move(all_);
  }

 private:
  std::unordered_map<uint64_t, size_t> index_;  // hash of the key -> position in all_
  std::vector<PatternContribution> all_;
};

// A string as a JSON value. The descriptions of the patterns met most often (tool sequences,
// decision points) are written field by field: each episode describes about 60 patterns, and
// building a json object for each took most of the time learning from an episode.
std::string Quoted(const std::string& s) {
  const bool plain = std::all_of(
      s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  return plain ? '"' + s + '"' : nlohmann::json(s).dump();
}

void ToolSequences(const Episode& e, double success, const PatternRules& rules,
                   Contributions& all) {
  const auto& s = e.steps;
  const size_t min_n = static_cast<size_t>(std::max(rules.min_ngram, 1));
  const size_t max_n = static_cast<size_t>(std::max(rules.max_ngram, 0));
  // Each run of tools grows from its first step: its key's hash is extended, not rebuilt, and
  // the key and description are written out only the first time the episode shows the run.
  constexpr std::string_view kPrefix = "tool_sequence:", kBetween = " > ";
  for (size_t i = 0; i < s.size(); ++i) {
    Fnv1a hash;
    hash.add(kPrefix);
    int64_t latency = 0, tokens = 0;
    for (size_t n = 1; n <= max_n && i + n <= s.size(); ++n) {
      const ExecutionStep& last = s[i + n - 1];
      if (n > 1) hash.add(kBetween);
      hash.add(last.tool);
      latency = SaturatingAdd(latency, last.latency_ms);
      tokens = SaturatingAdd(tokens, last.tokens.value_or(0));
      if (n < min_n) continue;
      PatternContribution* p = all.Find(hash.value);
      if (!p) {
        std::string key(kPrefix), tools;  // tools: the JSON array's items
        for (size_t k = i; k < i + n; ++k) {
          if (k > i) {
            key += kBetween;
            tools += ',';
          }
          key += s[k].tool;
          tools += Quoted(s[k].tool);
        }
        p = &all.Add(hash.value, PatternType::kToolSequence, std::move(key), success);
        p->description = R"({"tools":[)" + tools + "]}";
      }
      ++p->occurrences;
      p->latency_ms = SaturatingAdd(p->latency_ms, latency);
      p->tokens = SaturatingAdd(p->tokens, tokens);
    }
  }
}

void ErrorRecoveries(const Episode& e, double success, Contributions& all) {
  for (const auto& [failed, recovered] : RecoveredFailures(e.steps)) {
    const ExecutionStep* f = nullptr;
    std::vector<std::string> recovery;
    int64_t latency = 0, tokens = 0;
    for (const auto& s : e.steps) {
      if (s.step_number == failed) f = &s;
      if (s.step_number > failed && s.step_number <= recovered) {
        recovery.push_back(s.tool);
        latency = SaturatingAdd(latency, s.latency_ms);
        tokens = SaturatingAdd(tokens, s.tokens.value_or(0));
      }
    }
    const std::string signature = ErrorSignature(f->observation);
    auto& p = all.Get(
        PatternType::kErrorRecovery,
        fmt::format("error_recovery:{}|{}|{}", f->tool, signature, fmt::join(recovery, " > ")),
        success);
    if (p.occurrences == 0) {
      p.description = nlohmann::json{
          {"error_tool", f->tool},
          {"error_signature", signature},
          {"example_error", std::string(Utf8Prefix(f->observation, 200))},
          {"recovery",
           recovery}}.dump();
    }
    ++p.occurrences;
    p.latency_ms = SaturatingAdd(p.latency_ms, latency);
    p.tokens = SaturatingAdd(p.tokens, tokens);
  }
}

// The key of the decision point after a step of `tool` that succeeded or failed.
std::string DecisionPointKey(std::string_view tool, bool succeeded) {
  return fmt::format("decision_point:{} {}", tool, succeeded ? "succeeded" : "failed");
}

void DecisionPoints(const Episode& e, double success, Contributions& all) {
  for (size_t i = 0; i + 1 < e.steps.size(); ++i) {
    const auto& before = e.steps[i];
    const auto& next = e.steps[i + 1];
    auto& p = all.Get(PatternType::kDecisionPoint, DecisionPointKey(before.tool, before.success),
                      success);
    if (p.occurrences == 0) {
      p.description = fmt::format(R"({{"after_success":{},"after_tool":{}}})", before.success,
                                  Quoted(before.tool));
    }
    ++p.occurrences;
    p.latency_ms = SaturatingAdd(p.latency_ms, next.latency_ms);
    p.tokens = SaturatingAdd(p.tokens, next.tokens.value_or(0));
    auto& [taken, worked] = p.branches[next.tool];
    ++taken;
    worked += next.success ? 1 : 0;
  }
}

void ContextTools(const Episode& e, double success, Contributions& all) {
  const auto& c = e.context;
  if (!c.domain && !c.language && !c.framework) return;
  const std::string where = fmt::format("{}|{}|{}", c.domain.value_or(""), c.language.value_or(""),
                                        c.framework.value_or(""));
  for (const auto& s : e.steps) {
    auto& p = all.Get(PatternType::kContext, fmt::format("context:{}|{}", where, s.tool), success);
    if (p.occurrences == 0) {
      p.description = nlohmann::json{
          {"domain", c.domain ? nlohmann::json(*c.domain) : nlohmann::json(nullptr)},
          {"language", c.language ? nlohmann::json(*c.language) : nlohmann::json(nullptr)},
          {"framework", c.framework ? nlohmann::json(*c.framework) : nlohmann::json(nullptr)},
          {"tool",
           s.tool}}.dump();
    }
    ++p.occurrences;
    p.latency_ms = SaturatingAdd(p.latency_ms, s.latency_ms);
    p.tokens = SaturatingAdd(p.tokens, s.tokens.value_or(0));
  }
}

}  // namespace

std::string JoinTools(const nlohmann::json& description, const char* field) {
  std::vector<std::string> tools;
  if (!description.is_object()) return "";
  if (auto it = description.find(field); it != description.end() && it->is_array()) {
    for (const auto& t : *it) {
      if (t.is_string()) tools.push_back(t.get<std::string>());
    }
  }
  return fmt::format("{}", fmt::join(tools, " > "));
}

std::string PatternId(std::string_view key) {
  return IdOf(Fnv1a().add(key).value);
}

std::string DecisionPointId(std::string_view tool, bool succeeded) {
  return PatternId(DecisionPointKey(tool, succeeded));
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

std::vector<PatternContribution> ExtractPatterns(const Episode& episode, double success,
                                                 const PatternRules& rules) {
  Contributions all;
  ToolSequences(episode, success, rules, all);
  ErrorRecoveries(episode, success, all);
  DecisionPoints(episode, success, all);
  ContextTools(episode, success, all);
  return all.Take();
}

}  // namespace engram
