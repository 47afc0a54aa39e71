#include "learn/recall.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/timestamp.h"
#include "core/turns.h"
#include "core/utf8.h"
#include "engram/json.h"
#include "learn/patterns.h"
#include "learn/reward.h"

namespace engram {
namespace {

constexpr size_t kMaxQueryWords = 32;
constexpr size_t kObservationBytes = 300;
constexpr size_t kStepsTextBytes = 16 * 1024;
constexpr double kHalfLifeDays = 30;
constexpr size_t kMaxLessons = 3;
constexpr double kMinRelativeText = 0.1;

bool IsStopWord(std::string_view w) {
  static const std::unordered_set<std::string_view> words = {
      "a",    "an",   "and", "are",  "as",   "at",   "be",    "but",  "by",    "can",
      "do",   "does", "for", "from", "has",  "have", "how",   "if",   "in",    "into",
      "is",   "it",   "its", "make", "new",  "no",   "not",   "of",   "on",    "or",
      "our",  "out",  "so",  "some", "that", "the",  "their", "then", "there", "these",
      "this", "to",   "up",  "was",  "we",   "were", "what",  "when", "which", "while",
      "will", "with", "you", "your", "all",  "any",  "get",   "use",  "using", "via"};
  return words.count(w) > 0;
}

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

std::vector<std::string> ReflectionItems(const nlohmann::json& reflection, const char* section) {
  std::vector<std::string> out;
  if (!reflection.is_object()) return out;
  auto it = reflection.find(section);
  if (it == reflection.end() || !it->is_array()) return out;
  for (const auto& item : *it) {
    if (item.is_object() && item.contains("text") && item["text"].is_string()) {
      out.push_back(item["text"].get<std::string>());
    }
  }
  return out;
}

void CollectStrings(const nlohmann::json& j, std::string& out) {
  if (j.is_string()) {
    if (!out.empty()) out += ' ';
    out += j.get<std::string>();
  } else if (j.is_structured()) {
    for (const auto& v : j) CollectStrings(v, out);
  }
}

std::string Percent(double rate) {
  return fmt::format("{:.0f}%", rate * 100);
}

// A description's list of tools by name; an empty list when it has none.
const nlohmann::json& ToolList(const nlohmann::json& description, const char* name) {
  static const nlohmann::json empty = nlohmann::json::array();
  if (!description.is_object()) return empty;
  auto it = description.find(name);
  return it != description.end() && it->is_array() ? *it : empty;
}

// Whether tool sequence `inner` occurs contiguously within `outer`.
bool Contains(const nlohmann::json& outer, const nlohmann::json& inner) {
  if (!outer.is_array() || !inner.is_array() || inner.size() > outer.size()) return false;
  for (size_t i = 0; i + inner.size() <= outer.size(); ++i) {
    if (std::equal(inner.begin(), inner.end(), outer.begin() + static_cast<std::ptrdiff_t>(i))) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string ReflectionText(const nlohmann::json& reflection) {
  std::string out;
  CollectStrings(reflection, out);
  return out;
}

StepTexts StepsText(const std::vector<ExecutionStep>& steps) {
  StepTexts out;
  auto add = [](std::string& field, std::string_view text) {
    if (field.size() >= kStepsTextBytes || text.empty()) return;
    if (!field.empty()) field += '\n';
    field += Utf8Prefix(text, kStepsTextBytes - std::min(field.size(), kStepsTextBytes));
  };
  for (const auto& s : steps) {
    if (s.tool == kUserTurnTool) {
      add(out.user, s.observation);
      continue;
    }
    if (s.tool != kAssistantTurnTool) add(out.calls, s.tool + ' ' + s.action);
    add(out.observations, Utf8Prefix(s.observation, kObservationBytes));
  }
  return out;
}

std::vector<std::string> QueryWords(std::string_view task) {
  std::vector<std::string> words;
  std::set<std::string> seen;
  for (size_t i = 0; i < task.size() && words.size() < kMaxQueryWords;) {
    while (i < task.size() && !IsWordByte(static_cast<unsigned char>(task[i]))) ++i;
    size_t end = i;
    while (end < task.size() && IsWordByte(static_cast<unsigned char>(task[end]))) ++end;
    std::string w(task.substr(i, end - i));
    i = end;
    for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (w.size() < 2 || IsStopWord(w) || !seen.insert(w).second) continue;
    words.push_back(std::move(w));
  }
  return words;
}

double ContextMatch(const Context& q, const Context& e) {
  double given = 0, matched = 0;
  auto field = [&](const std::optional<std::string>& want, const std::optional<std::string>& have) {
    if (!want) return;
    given += 1;
    if (have && *have == *want) matched += 1;
  };
  field(q.domain, e.domain);
  field(q.language, e.language);
  field(q.framework, e.framework);
  if (!q.tags.empty()) {
    given += 1;
    size_t shared = 0;
    for (const auto& t : q.tags) {
      shared += std::find(e.tags.begin(), e.tags.end(), t) != e.tags.end() ? 1 : 0;
    }
    matched += static_cast<double>(shared) / static_cast<double>(q.tags.size());
  }
  return given > 0 ? matched / given : 0;
}

double Recency(std::string_view ended_at, std::chrono::system_clock::time_point now) {
  auto t = ParseTimestamp("ended_at", ended_at);
  if (!t.ok()) return 0;
  const double days = std::chrono::duration<double>(now - *t).count() / 86400.0;
  if (days <= 0) return 1;
  return std::pow(0.5, days / kHalfLifeDays);
}

double OutcomeValue(const Episode& e) {
  if (auto total = RewardTotal(e.reward)) return std::clamp(*total, 0.0, 1.0);
  return e.outcome ? OutcomeBase(*e.outcome) : 0;
}

std::vector<ScoredHit> ScoreHits(const std::vector<SearchHit>& hits, const RecallQuery& q,
                                 std::chrono::system_clock::time_point now) {
  double best = 0;  // the highest relevance
  for (const auto& h : hits) best = std::max(best, h.relevance);
  std::vector<ScoredHit> out;
  out.reserve(hits.size());
  const RecallWeights& w = q.weights;
  for (const auto& h : hits) {
    ScoredHit s;
    s.hit = &h;
    const double text = best > 0 ? h.relevance / best : 0;
    if (best > 0 && text < kMinRelativeText) continue;  // matched a word or two in passing
    // Outcome and recency count in proportion to the text match to the fourth power: they
    // order episodes that match the task alike, and cannot lift a weaker match over a stronger.
    const double text_share = best > 0 ? std::pow(text, 4) : 1.0;
    s.why = {{"text", w.text * text},
             {"context", w.context * ContextMatch(q.context, h.episode.context)},
             {"outcome", w.outcome * OutcomeValue(h.episode) * text_share},
             {"recency", w.recency * Recency(h.episode.ended_at.value_or(""), now) * text_share}};
    for (const auto& [signal, part] : s.why) s.score += part;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const ScoredHit& a, const ScoredHit& b) {
    return a.score != b.score ? a.score > b.score : a.hit->key > b.hit->key;
  });
  return out;
}

RecalledEpisode ToRecalled(const ScoredHit& scored) {
  const Episode& e = scored.hit->episode;
  RecalledEpisode r;
  r.id = e.id;
  r.task = e.task;
  r.task_type = e.task_type;
  r.context = e.context;
  r.outcome = e.outcome;
  r.reward = RewardTotal(e.reward);
  r.ended_at = e.ended_at.value_or("");
  r.score = scored.score;
  r.why = scored.why;
  r.warning = e.outcome && e.outcome->kind == OutcomeKind::kFailure;
  const nlohmann::json reflection =
      e.reflection.is_null()
          ? nlohmann::json::parse(scored.hit->reflection_json, nullptr, /*allow_exceptions=*/false)
          : e.reflection;
  r.lessons = ReflectionItems(reflection, r.warning ? "improve" : "worked");
  if (r.lessons.size() > kMaxLessons) r.lessons.resize(kMaxLessons);
  return r;
}

std::vector<RecalledPattern> RankPatterns(const std::vector<PatternHit>& hits,
                                          const std::vector<ScoredHit>& sources) {
  std::unordered_map<int64_t, double> outcome;
  for (const auto& s : sources) outcome[s.hit->key] = OutcomeValue(s.hit->episode);
  struct Ranked {
    RecalledPattern p;
    double rank = 0;
  };
  std::vector<Ranked> all;
  for (const auto& h : hits) {
    Ranked r{RecalledPattern{h.pattern, 0, 0}, 0};
    double sum = 0;
    for (int64_t key : h.episode_keys) {
      if (auto it = outcome.find(key); it != outcome.end()) {
        ++r.p.seen_in;
        sum += it->second;
      }
    }
    if (r.p.seen_in == 0 || sum == 0) continue;  // not here, or never part of a success here
    r.p.success_here = sum / static_cast<double>(r.p.seen_in);
    const auto n = static_cast<double>(r.p.seen_in);
    r.rank = r.p.success_here * n / (n + 1);
    all.push_back(std::move(r));
  }
  auto length = [](const Pattern& p) {
    return p.description.contains("tools") ? p.description["tools"].size() : size_t{0};
  };
  std::sort(all.begin(), all.end(), [&](const Ranked& a, const Ranked& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    if (a.p.seen_in != b.p.seen_in) return a.p.seen_in > b.p.seen_in;
    if (length(a.p.pattern) != length(b.p.pattern)) {
      return length(a.p.pattern) > length(b.p.pattern);
    }
    if (a.p.pattern.support != b.p.pattern.support) {
      return a.p.pattern.support > b.p.pattern.support;
    }
    return a.p.pattern.id < b.p.pattern.id;
  });
  const std::map<PatternType, size_t> cap = {{PatternType::kToolSequence, 3},
                                             {PatternType::kErrorRecovery, 3},
                                             {PatternType::kDecisionPoint, 2},
                                             {PatternType::kContext, 2}};
  std::map<PatternType, size_t> taken;
  std::vector<RecalledPattern> out;
  for (auto& r : all) {
    if (out.size() == kMaxRecalledPatterns) break;
    const Pattern& p = r.p.pattern;
    if (taken[p.type] == cap.at(p.type)) continue;
    // A tool sequence inside one already chosen, seen as often, says nothing new.
    if (p.type == PatternType::kToolSequence &&
        std::any_of(out.begin(), out.end(), [&](const RecalledPattern& chosen) {
          return chosen.pattern.type == PatternType::kToolSequence &&
                 chosen.seen_in == r.p.seen_in &&
                 Contains(ToolList(chosen.pattern.description, "tools"),
                          ToolList(p.description, "tools"));
        })) {
      continue;
    }
    ++taken[p.type];
    out.push_back(std::move(r.p));
  }
  return out;
}

int64_t EstimateTokens(std::string_view text) {
  return static_cast<int64_t>((text.size() + 3) / 4);
}

std::string WritePlaybook(const std::vector<RecalledEpisode>& episodes,
                          const std::vector<RecalledPattern>& patterns, int64_t token_budget) {
  if (episodes.empty()) return "";
  enum Section { kSummary, kRecommended, kWorked, kPitfalls };
  struct Line {
    Section section;
    size_t order;  // the line's place within its section
    std::string text;
  };

  // Candidate lines, most useful first.
  std::vector<Line> summary_lines, worked, pitfalls;
  size_t failed = 0, succeeded = 0;
  for (const auto& e : episodes) {
    failed += e.warning ? 1 : 0;
    succeeded += e.outcome && e.outcome->kind == OutcomeKind::kSuccess ? 1 : 0;
  }
  summary_lines.push_back({kSummary, 0,
                           fmt::format("From {} similar past episode(s): {} succeeded, {} failed.",
                                       episodes.size(), succeeded, failed)});
  for (const auto& r : patterns) {
    const Pattern& p = r.pattern;
    if (p.type == PatternType::kToolSequence && r.seen_in >= 2) {
      summary_lines.push_back(
          {kRecommended, 0,
           fmt::format("Recommended tool sequence: {} (in {} of them, {} success).",
                       JoinTools(p.description, "tools"), r.seen_in, Percent(r.success_here))});
      break;
    }
  }
  for (const auto& r : patterns) {
    const Pattern& p = r.pattern;
    if (p.type != PatternType::kErrorRecovery) continue;
    pitfalls.push_back(
        {kPitfalls, pitfalls.size(),
         fmt::format("- {} failing with \"{}\": recovered by {} ({} episode(s), {} success).",
                     p.description.value("error_tool", ""),
                     ClipLine(p.description.value("error_signature", ""), 120),
                     JoinTools(p.description, "recovery"), r.seen_in, Percent(r.success_here))});
  }
  // One line per episode, best-scored first: for one that went well its first lesson (a fix,
  // when there was one), for a failure its first two.
  for (const auto& e : episodes) {
    std::string outcome = e.outcome ? std::string(to_string(e.outcome->kind)) : "open";
    if (e.reward) outcome += fmt::format(", reward {:.2f}", *e.reward);
    if (e.outcome && !e.outcome->summary.empty()) {
      outcome += fmt::format(": {}", ClipLine(e.outcome->summary, 80));
    }
    std::vector<std::string> lessons;
    for (size_t i = 0; i < std::min<size_t>(e.lessons.size(), e.warning ? 2 : 1); ++i) {
      lessons.push_back(ClipLine(e.lessons[i], 240));
    }
    const std::string lesson = fmt::format("{}", fmt::join(lessons, "; "));
    if (e.warning) {
      pitfalls.push_back({kPitfalls, pitfalls.size(),
                          fmt::format("- Failed before: \"{}\" ({}){}{}", ClipLine(e.task, 80),
                                      outcome, lesson.empty() ? "" : ": ", lesson)});
    } else if (!lesson.empty()) {
      worked.push_back({kWorked, worked.size(),
                        fmt::format("- \"{}\" ({}): {}", ClipLine(e.task, 80), outcome, lesson)});
    }
  }

  std::vector<Line> candidates = summary_lines;
  for (size_t i = 0; i < std::max(worked.size(), pitfalls.size()); ++i) {
    if (i < worked.size()) candidates.push_back(worked[i]);
    if (i < pitfalls.size()) candidates.push_back(pitfalls[i]);
  }

  auto render = [](std::vector<Line> lines) {
    std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
      return std::tie(a.section, a.order) < std::tie(b.section, b.order);
    });
    std::string out;
    Section last = kSummary;
    for (const auto& l : lines) {
      if (l.section != last && l.section == kWorked) out += "What worked:\n";
      if (l.section != last && l.section == kPitfalls) out += "Pitfalls and fixes:\n";
      last = l.section;
      out += l.text + "\n";
    }
    return out;
  };
  std::vector<Line> kept;
  for (const auto& line : candidates) {
    kept.push_back(line);
    if (EstimateTokens(render(kept)) > token_budget) kept.pop_back();
  }
  return render(kept);
}

}  // namespace engram
