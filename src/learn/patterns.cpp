#include "learn/patterns.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/utf8.h"
#include "learn/error_signature.h"
#include "learn/reward.h"

namespace engram {
namespace {

using Contributions = std::map<std::string, PatternContribution>;

PatternContribution& Get(Contributions& all, const Episode& e, std::string type, std::string key,
                         double success) {
  auto [it, fresh] = all.try_emplace(key);
  if (fresh) {
    it->second.type = std::move(type);
    it->second.key = std::move(key);
    it->second.domain = e.context.domain;
    it->second.language = e.context.language;
    it->second.framework = e.context.framework;
    it->second.success = success;
  }
  return it->second;
}

void ToolSequences(const Episode& e, double success, const PatternRules& rules,
                   Contributions& all) {
  const auto& s = e.steps;
  for (int n = rules.min_ngram; n <= rules.max_ngram; ++n) {
    for (size_t i = 0; i + static_cast<size_t>(n) <= s.size(); ++i) {
      std::vector<std::string> tools;
      int64_t latency = 0, tokens = 0;
      for (size_t k = i; k < i + static_cast<size_t>(n); ++k) {
        tools.push_back(s[k].tool);
        latency += s[k].latency_ms;
        tokens += s[k].tokens.value_or(0);
      }
      auto& p = Get(all, e, "tool_sequence",
                    fmt::format("tool_sequence:{}", fmt::join(tools, " > ")), success);
      if (p.occurrences == 0) p.description = {{"tools", tools}};
      ++p.occurrences;
      p.latency_ms += latency;
      p.tokens += tokens;
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
        latency += s.latency_ms;
        tokens += s.tokens.value_or(0);
      }
    }
    const std::string signature = ErrorSignature(f->observation);
    auto& p =
        Get(all, e, "error_recovery",
            fmt::format("error_recovery:{}|{}|{}", f->tool, signature, fmt::join(recovery, " > ")),
            success);
    if (p.occurrences == 0) {
      p.description = {{"error_tool", f->tool},
                       {"error_signature", signature},
                       {"example_error", std::string(Utf8Prefix(f->observation, 200))},
                       {"recovery", recovery}};
    }
    ++p.occurrences;
    p.latency_ms += latency;
    p.tokens += tokens;
  }
}

void DecisionPoints(const Episode& e, double success, Contributions& all) {
  for (size_t i = 0; i + 1 < e.steps.size(); ++i) {
    const auto& before = e.steps[i];
    const auto& next = e.steps[i + 1];
    const std::string after =
        fmt::format("{} {}", before.tool, before.success ? "succeeded" : "failed");
    auto& p = Get(all, e, "decision_point", "decision_point:" + after, success);
    if (p.occurrences == 0)
      p.description = {{"after_tool", before.tool}, {"after_success", before.success}};
    ++p.occurrences;
    p.latency_ms += next.latency_ms;
    p.tokens += next.tokens.value_or(0);
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
    auto& p = Get(all, e, "context", fmt::format("context:{}|{}", where, s.tool), success);
    if (p.occurrences == 0) {
      p.description = {
          {"domain", c.domain ? nlohmann::json(*c.domain) : nlohmann::json(nullptr)},
          {"language", c.language ? nlohmann::json(*c.language) : nlohmann::json(nullptr)},
          {"framework", c.framework ? nlohmann::json(*c.framework) : nlohmann::json(nullptr)},
          {"tool", s.tool}};
    }
    ++p.occurrences;
    p.latency_ms += s.latency_ms;
    p.tokens += s.tokens.value_or(0);
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

std::vector<PatternContribution> ExtractPatterns(const Episode& episode, double success,
                                                 const PatternRules& rules) {
  Contributions all;
  ToolSequences(episode, success, rules, all);
  ErrorRecoveries(episode, success, all);
  DecisionPoints(episode, success, all);
  ContextTools(episode, success, all);
  std::vector<PatternContribution> out;
  out.reserve(all.size());
  for (auto& [key, p] : all) out.push_back(std::move(p));
  return out;
}

}  // namespace engram
