#include "learn/reflection.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/saturating.h"
#include "core/turns.h"
#include "core/utf8.h"
#include "engram/json.h"
#include "learn/error_signature.h"
#include "learn/reward.h"

namespace engram {
namespace {

// "`cargo build`", cut so a sentence stays readable.
std::string Call(const ExecutionStep& s) {
  std::string action(std::string_view(s.action).substr(0, s.action.find('\n')));
  if (action.size() > 60) action = std::string(Utf8Prefix(action, 57)) + "...";
  return action.empty() ? fmt::format("`{}`", s.tool) : fmt::format("`{} {}`", s.tool, action);
}

std::string List(const std::vector<int64_t>& numbers) {
  return fmt::format("{}", fmt::join(numbers, ", "));
}

const ExecutionStep* Find(const std::vector<ExecutionStep>& steps, int64_t number) {
  for (const auto& s : steps) {
    if (s.step_number == number) return &s;
  }
  return nullptr;
}

void Worked(const std::vector<ExecutionStep>& steps, Reflection& r) {
  // The fix that followed failures: the successful steps between the last failure of a tool
  // and the success of that tool that recovered it.
  std::map<int64_t, std::vector<int64_t>> failures_by_recovery;
  for (const auto& [failed, recovered] : RecoveredFailures(steps)) {
    failures_by_recovery[recovered].push_back(failed);
  }
  for (const auto& [recovered, failures] : failures_by_recovery) {
    const ExecutionStep* ok = Find(steps, recovered);
    const ExecutionStep* last = Find(steps, failures.back());
    std::vector<int64_t> cited = failures;
    std::vector<std::string> fixes;
    for (const auto& s : steps) {
      if (s.step_number > last->step_number && s.step_number < recovered && s.success) {
        fixes.push_back(Call(s));
        cited.push_back(s.step_number);
      }
    }
    cited.push_back(recovered);
    std::string text = fmt::format("{} failed at step{} {} and succeeded at step {}", Call(*last),
                                   failures.size() > 1 ? "s" : "", List(failures), recovered);
    if (ok->action != last->action) text += fmt::format(" as {}", Call(*ok));
    if (!fixes.empty()) text += fmt::format(" after {}", fmt::join(fixes, ", then "));
    r.worked.push_back({text, cited});
  }
  // Tools that never failed, used more than once (conversation turns are not tools).
  std::map<std::string, std::vector<int64_t>> calls;
  std::map<std::string, bool> failed_once;
  for (const auto& s : steps) {
    if (IsConversationTurn(s.tool)) continue;
    calls[s.tool].push_back(s.step_number);
    failed_once[s.tool] = failed_once[s.tool] || !s.success;
  }
  for (const auto& [tool, numbers] : calls) {
    if (numbers.size() >= 2 && !failed_once[tool]) {
      r.worked.push_back(
          {fmt::format("`{}` succeeded in all {} calls", tool, numbers.size()), numbers});
    }
  }
}

void Improve(const std::vector<ExecutionStep>& steps, const ReflectionRules& rules, Reflection& r) {
  std::map<std::string, std::vector<int64_t>> failures_by_tool;
  std::map<std::string, std::vector<int64_t>> failures_by_signature;
  for (const auto& s : steps) {
    if (s.success) continue;
    failures_by_tool[s.tool].push_back(s.step_number);
    if (!s.observation.empty())
      failures_by_signature[ErrorSignature(s.observation)].push_back(s.step_number);
  }
  for (const auto& [tool, numbers] : failures_by_tool) {
    if (static_cast<int>(numbers.size()) >= rules.repeated_failures) {
      r.improve.push_back(
          {fmt::format("`{}` failed {} times (steps {})", tool, numbers.size(), List(numbers)),
           numbers});
    }
  }
  for (const auto& [signature, numbers] : failures_by_signature) {
    if (numbers.size() >= 2) {
      r.improve.push_back({fmt::format("the same error occurred {} times (steps {}): {}",
                                       numbers.size(), List(numbers), signature),
                           numbers});
    }
  }
  int64_t total_ms = 0, total_tokens = 0;
  for (const auto& s : steps) {
    total_ms = SaturatingAdd(total_ms, s.latency_ms);
    total_tokens = SaturatingAdd(total_tokens, s.tokens.value_or(0));
  }
  if (steps.size() >= 2 && total_ms > 0) {
    const auto slowest = std::max_element(
        steps.begin(), steps.end(), [](auto& a, auto& b) { return a.latency_ms < b.latency_ms; });
    const double share = static_cast<double>(slowest->latency_ms) / static_cast<double>(total_ms);
    if (share >= rules.bottleneck_share && slowest->latency_ms >= rules.bottleneck_min_ms) {
      r.improve.push_back(
          {fmt::format("step {} ({}) took {} ms, {:.0f}% of the time spent in steps",
                       slowest->step_number, Call(*slowest), slowest->latency_ms, share * 100),
           {slowest->step_number}});
    }
  }
  if (total_tokens >= rules.high_tokens_total) {
    std::vector<const ExecutionStep*> by_tokens;
    for (const auto& s : steps) {
      if (s.tokens.value_or(0) > 0) by_tokens.push_back(&s);
    }
    std::sort(by_tokens.begin(), by_tokens.end(), [](auto* a, auto* b) {
      return *a->tokens != *b->tokens ? *a->tokens > *b->tokens : a->step_number < b->step_number;
    });
    if (by_tokens.size() > 3) by_tokens.resize(3);
    std::vector<int64_t> cited;
    for (auto* s : by_tokens) cited.push_back(s->step_number);
    std::sort(cited.begin(), cited.end());
    r.improve.push_back(
        {fmt::format("high token use: {} tokens in all; the largest at step {} "
                     "({} tokens)",
                     total_tokens, by_tokens.front()->step_number, *by_tokens.front()->tokens),
         cited});
  }
  if (!steps.empty() && !steps.back().success) {
    r.improve.push_back({fmt::format("the episode ended on a failure: {} at step {}",
                                     Call(steps.back()), steps.back().step_number),
                         {steps.back().step_number}});
  }
}

void Insights(const std::vector<ExecutionStep>& steps, const Outcome& outcome, Reflection& r) {
  if (steps.empty()) {
    r.insights.push_back(
        {fmt::format("completed as {} without any step", to_string(outcome.kind)), {}});
    return;
  }
  std::vector<int64_t> failed;
  for (const auto& s : steps) {
    if (!s.success) failed.push_back(s.step_number);
  }
  const size_t recovered = RecoveredFailures(steps).size();
  r.insights.push_back(
      {fmt::format("{} of {} steps failed, {} recovered; outcome {}", failed.size(), steps.size(),
                   recovered, to_string(outcome.kind)),
       failed});
  std::map<std::string, std::pair<std::vector<int64_t>, int64_t>> by_tool;
  for (const auto& s : steps) {
    auto& [numbers, ms] = by_tool[s.tool];
    numbers.push_back(s.step_number);
    ms = SaturatingAdd(ms, s.latency_ms);
  }
  auto most = std::max_element(by_tool.begin(), by_tool.end(), [](auto& a, auto& b) {
    return a.second.first.size() < b.second.first.size();
  });
  r.insights.push_back(
      {fmt::format("`{}` was the most used tool: {} of {} steps, {} ms", most->first,
                   most->second.first.size(), steps.size(), most->second.second),
       most->second.first});
  if (outcome.kind == OutcomeKind::kPartialSuccess && !outcome.failed.empty()) {
    r.insights.push_back({fmt::format("left undone: {}", fmt::join(outcome.failed, "; ")), {}});
  }
}

nlohmann::json ItemsJson(const std::vector<ReflectionItem>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : items) out.push_back({{"text", i.text}, {"steps", i.steps}});
  return out;
}

}  // namespace

Reflection Reflect(const std::vector<ExecutionStep>& steps, const Outcome& outcome,
                   const ReflectionRules& rules) {
  Reflection r;
  Worked(steps, r);
  Improve(steps, rules, r);
  Insights(steps, outcome, r);
  return r;
}

nlohmann::json ToJson(const Reflection& r) {
  return {{"worked", ItemsJson(r.worked)},
          {"improve", ItemsJson(r.improve)},
          {"insights", ItemsJson(r.insights)}};
}

}  // namespace engram
