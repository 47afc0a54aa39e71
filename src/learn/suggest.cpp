#include "learn/suggest.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/utf8.h"
#include "learn/patterns.h"

namespace engram {
namespace {

constexpr double kAlignedWeight = 1.0;
constexpr double kTrigramWeight = 0.5;
constexpr double kBigramWeight = 0.3;
constexpr double kRecoveryWeight = 1.0;
constexpr double kDecisionWeight = 0.2;
constexpr size_t kTaskInWhy = 60;
// How much an episode counts whose calls of the last tool all ended otherwise than here.
constexpr double kOtherStateStrength = 0.25;

// A call, or the start of an episode (no tool) for the positions before its first call.
struct Call {
  const StepBrief* step = nullptr;
  bool is(const Call& other) const {
    if (!step || !other.step) return !step && !other.step;
    return step->tool == other.step->tool;
  }
};

// The tool calls of a run, turns left out, after two start markers.
std::vector<Call> Calls(const std::vector<StepBrief>& steps) {
  std::vector<Call> out(2);
  for (const auto& s : steps) {
    if (!IsConversationTurn(s.tool)) out.push_back(Call{&s});
  }
  return out;
}

// One kind of evidence: per tool, its weight before normalising.
using Votes = std::map<std::string, double>;

void AddShare(const Votes& votes, double weight, Votes& score) {
  double total = 0;
  for (const auto& [tool, v] : votes) total += v;
  if (total <= 0) return;
  for (const auto& [tool, v] : votes) score[tool] += weight * v / total;
}

// What the similar episodes say of a tool.
struct Witnesses {
  std::set<size_t> runs;               // indices into `similar` that took it at a comparable point
  const StepBrief* example = nullptr;  // its step in the most similar of them
  std::string pattern_why;             // the learnt pattern that named it, when one did
  int64_t pattern_support = 0;
  double pattern_success = 0;
};

}  // namespace

std::vector<Suggestion> SuggestNext(const RunSoFar& run, const std::vector<SimilarRun>& similar,
                                    const std::vector<Pattern>& patterns, size_t k) {
  const std::vector<Call> here = Calls(run.steps);
  const Call& last = here.back();
  const Call& before_last = here[here.size() - 2];
  const bool last_failed = last.step && !last.step->success;

  Votes score;
  std::map<std::string, Witnesses> witnesses;
  Votes trigram, bigram;
  for (size_t r = 0; r < similar.size(); ++r) {
    const SimilarRun& past = similar[r];
    const std::vector<Call> calls = Calls(past.steps);
    // The points after a call of the last tool here; those where it also failed or succeeded
    // as here, when the episode has any (after a failure comes a recovery, not what follows a
    // success).
    std::vector<size_t> points, same_state;
    for (size_t j = 2; j < calls.size(); ++j) {
      if (!calls[j - 1].is(last)) continue;
      points.push_back(j);
      if (!last.step || calls[j - 1].step->success == last.step->success) same_state.push_back(j);
    }
    Votes aligned;
    const double strength = same_state.empty() ? kOtherStateStrength : 1.0;
    for (size_t j : same_state.empty() ? points : same_state) {
      const std::string& next = calls[j].step->tool;
      const bool same_before = calls[j - 2].is(before_last);
      aligned[next] += 1.0 + (same_before ? 1 : 0);
      bigram[next] += strength * past.similarity;
      if (same_before) trigram[next] += strength * past.similarity;
      Witnesses& w = witnesses[next];
      w.runs.insert(r);
      if (!w.example) w.example = calls[j].step;
    }
    if (r < kSuggestAlignedEpisodes) {
      AddShare(aligned, kAlignedWeight * strength * past.similarity, score);
    }
  }
  AddShare(trigram, kTrigramWeight, score);
  AddShare(bigram, kBigramWeight, score);

  // The learnt patterns about the last call.
  Votes recovery, decision;
  for (const Pattern& p : patterns) {
    if (!last.step || !p.description.is_object()) continue;
    if (p.type == PatternType::kErrorRecovery && last_failed &&
        p.description.value("error_tool", "") == last.step->tool &&
        p.description.value("error_signature", "") == run.last_error_signature) {
      const auto& tools = p.description.value("recovery", nlohmann::json::array());
      for (const auto& t : tools) {
        if (!t.is_string() || IsConversationTurn(t.get<std::string>())) continue;
        const std::string tool = t.get<std::string>();
        recovery[tool] += static_cast<double>(p.support);
        Witnesses& w = witnesses[tool];
        if (p.support > w.pattern_support) {
          w.pattern_support = p.support;
          w.pattern_success = p.success_rate;
          w.pattern_why = fmt::format(
              "{} failing with \"{}\" was recovered by {} in {} episode(s) ({:.0f}% success)",
              last.step->tool, ClipLine(run.last_error_signature, 80),
              JoinTools(p.description, "recovery"), p.support, p.success_rate * 100);
        }
        break;  // the recovery's first call
      }
    } else if (p.type == PatternType::kDecisionPoint &&
               p.description.value("after_tool", "") == last.step->tool &&
               p.description.value("after_success", !last.step->success) == last.step->success &&
               p.branches.is_object()) {
      for (const auto& [tool, branch] : p.branches.items()) {
        if (IsConversationTurn(tool) || !branch.is_object()) continue;
        const int64_t taken = branch.value("taken", int64_t{0});
        decision[tool] += static_cast<double>(taken);
        Witnesses& w = witnesses[tool];
        if (w.pattern_why.empty()) {
          w.pattern_support = taken;
          w.pattern_success = branch.value("success_rate", 0.0);
          w.pattern_why =
              fmt::format("after {} {}, {} was the next call {} time(s)", last.step->tool,
                          last.step->success ? "succeeded" : "failed", tool, taken);
        }
      }
    }
  }
  double total_weight = kTrigramWeight + kBigramWeight + kDecisionWeight;
  for (size_t r = 0; r < std::min(similar.size(), kSuggestAlignedEpisodes); ++r) {
    total_weight += kAlignedWeight * similar[r].similarity;
  }
  if (last_failed) total_weight += kRecoveryWeight;
  AddShare(recovery, kRecoveryWeight, score);
  AddShare(decision, kDecisionWeight, score);

  std::vector<Suggestion> out;
  for (const auto& [tool, value] : score) {
    const Witnesses& w = witnesses[tool];
    Suggestion s;
    s.tool = tool;
    s.score = value / total_weight;
    if (!w.runs.empty()) {
      s.support = static_cast<int64_t>(w.runs.size());
      double outcomes = 0;
      for (size_t r : w.runs) outcomes += similar[r].outcome;
      s.success_rate = outcomes / static_cast<double>(w.runs.size());
      s.why = fmt::format("{} {} in {} of the {} most similar past episodes (the closest: \"{}\")",
                          tool, last.step ? "followed " + last.step->tool : "was the first call",
                          w.runs.size(), similar.size(),
                          ClipLine(similar[*w.runs.begin()].task, kTaskInWhy));
      if (!w.pattern_why.empty()) s.why += "; " + w.pattern_why;
    } else {
      s.support = w.pattern_support;
      s.success_rate = w.pattern_success;
      s.why = w.pattern_why;
    }
    if (w.example) s.example_action = w.example->action;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const Suggestion& a, const Suggestion& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.support != b.support) return a.support > b.support;
    return a.tool < b.tool;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

}  // namespace engram
