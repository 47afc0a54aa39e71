// Human-readable output of the CLI.
#include <fmt/format.h>

#include "cli/cli.h"
#include "core/saturating.h"
#include "core/utf8.h"
#include "learn/pattern_text.h"

namespace engram::cli {
namespace {

std::string ContextLine(const Context& c) {
  std::string out;
  auto add = [&](std::string_view name, const std::optional<std::string>& v) {
    if (v) out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, *v);
  };
  add("domain", c.domain);
  add("language", c.language);
  add("framework", c.framework);
  if (c.complexity) add("complexity", std::string(to_string(*c.complexity)));
  if (!c.tags.empty()) add("tags", fmt::format("{}", fmt::join(c.tags, ",")));
  return out.empty() ? "-" : out;
}

}  // namespace

std::string RenderEpisode(const Episode& e) {
  std::string out = fmt::format("episode  {}  [{}]\n", e.id, to_string(e.status));
  out += fmt::format("task     {} ({})\n", e.task, to_string(e.task_type));
  out += fmt::format("context  {}\n", ContextLine(e.context));
  out += fmt::format("started  {}\n", e.started_at);
  if (e.ended_at) out += fmt::format("ended    {}\n", *e.ended_at);
  if (e.outcome) {
    out += fmt::format("outcome  {}{}{}\n", to_string(e.outcome->kind),
                       e.outcome->summary.empty() ? "" : ": ", e.outcome->summary);
    for (const auto& a : e.outcome->artifacts) out += fmt::format("         artifact {}\n", a);
  }
  if (e.reward.is_object()) {
    const auto& r = e.reward;
    const auto part = [&](const char* name) {
      return r.contains(name) && r[name].is_number() ? fmt::format("{:.2f}", r[name].get<double>())
                                                     : std::string("-");
    };
    out += fmt::format("reward   {} (outcome {}, efficiency {}, error rate {}, recovery +{})\n",
                       part("total"), part("outcome_base"), part("efficiency"), part("error_rate"),
                       part("recovery_bonus"));
  }
  if (e.reflection.is_object()) {
    for (const char* section : {"worked", "improve", "insights"}) {
      if (!e.reflection.contains(section)) continue;
      for (const auto& item : e.reflection[section]) {
        if (!item.is_object() || !item.contains("text")) continue;
        out += fmt::format("{:<8} {}\n", section, item["text"].get<std::string>());
      }
    }
  }
  int64_t latency = 0, tokens = 0, failed = 0;
  for (const auto& s : e.steps) {
    latency = SaturatingAdd(latency, s.latency_ms);
    tokens = SaturatingAdd(tokens, s.tokens.value_or(0));
    failed += s.success ? 0 : 1;
  }
  out += fmt::format("steps    {} ({} failed, {} ms, {} tokens)\n", e.steps.size(), failed, latency,
                     tokens);
  for (const auto& s : e.steps) {
    out += fmt::format("  {:>4} {} {:<10} {:>7}ms {:>6}  {}\n", s.step_number,
                       s.success ? "ok  " : "FAIL", ClipLine(s.tool, 10), s.latency_ms,
                       s.tokens ? fmt::format("{}t", *s.tokens) : "", ClipLine(s.action, 60));
    if (!s.observation.empty()) out += fmt::format("{:41}-> {}\n", "", ClipLine(s.observation, 72));
  }
  return out;
}

std::string RenderEpisodeList(const EpisodePage& page) {
  if (page.episodes.empty()) return "no episodes\n";
  std::string out = fmt::format("{:<36}  {:<9}  {:<15}  {:<24}  {}\n", "ID", "STATUS", "OUTCOME",
                                "STARTED", "TASK");
  for (const auto& e : page.episodes) {
    out += fmt::format("{:<36}  {:<9}  {:<15}  {:<24}  {}\n", e.id, to_string(e.status),
                       e.outcome ? to_string(e.outcome->kind) : "-", e.started_at,
                       ClipLine(e.task, 60));
  }
  if (page.next_cursor) out += fmt::format("more: --cursor {}\n", *page.next_cursor);
  return out;
}

std::string DescribePattern(const Pattern& p) {
  const auto& d = p.description;
  auto str = [&](const char* k) {
    return d.contains(k) && d[k].is_string() ? d[k].get<std::string>() : std::string();
  };
  switch (p.type) {
    case PatternType::kToolSequence:
      return JoinTools(d, "tools");
    case PatternType::kErrorRecovery:
      return fmt::format("{} failing with \"{}\" -> {}", str("error_tool"),
                         ClipLine(str("error_signature"), 60), JoinTools(d, "recovery"));
    case PatternType::kDecisionPoint: {
      std::vector<std::string> branches;
      if (p.branches.is_object()) {
        for (const auto& [tool, b] : p.branches.items()) {
          branches.push_back(fmt::format("{} {}/{}", tool, b.value("succeeded", int64_t{0}),
                                         b.value("taken", int64_t{0})));
        }
      }
      const bool ok = d.contains("after_success") && d["after_success"].is_boolean() &&
                      d["after_success"].get<bool>();
      return fmt::format("after {} {}: {}", str("after_tool"), ok ? "succeeded" : "failed",
                         fmt::join(branches, ", "));
    }
    case PatternType::kContext: {
      std::vector<std::string> where;
      for (const char* k : {"domain", "language", "framework"}) {
        if (!str(k).empty()) where.push_back(str(k));
      }
      return fmt::format("{}: {}", fmt::join(where, "/"), str("tool"));
    }
  }
  return d.dump();
}

std::string RenderPatternList(const std::vector<Pattern>& patterns) {
  if (patterns.empty()) return "no patterns yet: they are mined when episodes complete\n";
  std::string out = fmt::format("{:<17}  {:<14}  {:>7}  {:>7}  {}\n", "ID", "TYPE", "SUPPORT",
                                "SUCCESS", "PATTERN");
  for (const auto& p : patterns) {
    out += fmt::format("{:<17}  {:<14}  {:>7}  {:>6.0f}%  {}\n", p.id, to_string(p.type), p.support,
                       p.success_rate * 100, ClipLine(DescribePattern(p), 100));
  }
  return out;
}

std::string RenderPattern(const Pattern& p) {
  std::string out = fmt::format("pattern  {}  [{}]\n", p.id, to_string(p.type));
  out += fmt::format("what     {}\n", DescribePattern(p));
  out += fmt::format("support  {} episodes, {} occurrences, success rate {:.0f}%\n", p.support,
                     p.occurrences, p.success_rate * 100);
  out += fmt::format("cost     {:.0f} ms and {:.0f} tokens per occurrence\n", p.mean_latency_ms,
                     p.mean_tokens);
  out += fmt::format("seen     {} to {}\n", p.first_seen, p.last_seen);
  for (const auto& id : p.evidence) out += fmt::format("evidence {}\n", id);
  return out;
}

}  // namespace engram::cli
