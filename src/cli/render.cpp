// Human-readable output of the CLI.
#include <fmt/format.h>

#include "cli/cli.h"
#include "core/utf8.h"

namespace engram::cli {
namespace {

// The first line of `text`, cut to `width` characters (on a UTF-8 boundary).
std::string Clip(std::string_view text, size_t width) {
  text = text.substr(0, text.find('\n'));
  if (text.size() <= width) return std::string(text);
  return std::string(Utf8Prefix(text, width - 3)) + "...";
}

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
    latency += s.latency_ms;
    tokens += s.tokens.value_or(0);
    failed += s.success ? 0 : 1;
  }
  out += fmt::format("steps    {} ({} failed, {} ms, {} tokens)\n", e.steps.size(), failed, latency,
                     tokens);
  for (const auto& s : e.steps) {
    out += fmt::format("  {:>4} {} {:<10} {:>7}ms {:>6}  {}\n", s.step_number,
                       s.success ? "ok  " : "FAIL", Clip(s.tool, 10), s.latency_ms,
                       s.tokens ? fmt::format("{}t", *s.tokens) : "", Clip(s.action, 60));
    if (!s.observation.empty()) out += fmt::format("{:41}-> {}\n", "", Clip(s.observation, 72));
  }
  return out;
}

std::string RenderEpisodeList(const EpisodePage& page) {
  if (page.episodes.empty()) return "no episodes\n";
  std::string out = fmt::format("{:<36}  {:<9}  {:<15}  {:<24}  {}\n", "ID", "STATUS", "OUTCOME",
                                "STARTED", "TASK");
  for (const auto& e : page.episodes) {
    out +=
        fmt::format("{:<36}  {:<9}  {:<15}  {:<24}  {}\n", e.id, to_string(e.status),
                    e.outcome ? to_string(e.outcome->kind) : "-", e.started_at, Clip(e.task, 60));
  }
  if (page.next_cursor) out += fmt::format("more: --cursor {}\n", *page.next_cursor);
  return out;
}

}  // namespace engram::cli
