// The JSON forms of the data model. Readers are strict: an unknown field or a wrong type is an
// error that names the field, so a typo never silently drops data.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <initializer_list>
#include <limits>

#include "core/timestamp.h"
#include "engram/json.h"

namespace engram {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

template <typename Enum, size_t N>
struct EnumNames {
  std::array<std::string_view, N> names;

  std::string_view name(Enum e) const { return names[static_cast<size_t>(e)]; }

  Result<Enum> parse(std::string_view field, std::string_view s) const {
    for (size_t i = 0; i < N; ++i) {
      if (names[i] == s) return static_cast<Enum>(i);
    }
    return Status::InvalidArgument(fmt::format("{} must be one of {}, got \"{}\"", field,
                                               fmt::join(names, ", "), s.substr(0, 64)));
  }
};

constexpr EnumNames<TaskType, 7> kTaskTypes{{"code_generation", "debugging", "refactoring",
                                             "testing", "analysis", "documentation", "other"}};
constexpr EnumNames<Complexity, 3> kComplexities{{"simple", "moderate", "complex"}};
constexpr EnumNames<EpisodeStatus, 2> kStatuses{{"open", "completed"}};
constexpr EnumNames<PatternType, 4> kPatternTypes{
    {"tool_sequence", "error_recovery", "decision_point", "context"}};
constexpr EnumNames<OutcomeKind, 4> kOutcomeKinds{
    {"success", "partial_success", "failure", "abstained"}};
constexpr EnumNames<TimeBucket, 3> kTimeBuckets{{"minute", "hour", "day"}};

std::string Shown(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 64 ? s.substr(0, 61) + "..." : s;
}

Status Expect(std::string_view field, std::string_view what, const json& got) {
  return Status::InvalidArgument(fmt::format("{} must be {}, got {}", field, what, Shown(got)));
}

Status RequireObject(std::string_view what, const json& j,
                     std::initializer_list<std::string_view> known) {
  if (!j.is_object()) return Expect(what, "a JSON object", j);
  for (const auto& item : j.items()) {
    bool found = false;
    for (auto k : known) found = found || k == item.key();
    if (!found) {
      return Status::InvalidArgument(fmt::format("{} has an unknown field \"{}\" (known: {})", what,
                                                 item.key(), fmt::join(known, ", ")));
    }
  }
  return Status::Ok();
}

Status ReadString(const json& j, std::string_view field, std::string& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Expect(field, "a string", *it);
  out = it->get<std::string>();
  return Status::Ok();
}

// ReadString, moving the text out of `j`.
Status TakeString(json& j, std::string_view field, std::string& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Expect(field, "a string", *it);
  out = std::move(it->get_ref<std::string&>());
  return Status::Ok();
}

Status ReadOptionalString(const json& j, std::string_view field, std::optional<std::string>& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Expect(field, "a string or null", *it);
  out = it->get<std::string>();
  return Status::Ok();
}

Status ReadStringList(const json& j, std::string_view field, std::vector<std::string>& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return Expect(field, "an array of strings", *it);
  for (const auto& v : *it) {
    if (!v.is_string()) return Expect(field, "an array of strings", *it);
    out.push_back(v.get<std::string>());
  }
  return Status::Ok();
}

// Integers only: 1.5 and "15" are refused rather than rounded or converted.
Status ReadInt(const json& j, std::string_view field, std::string_view what,
               std::optional<int64_t>& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (it->is_number_integer() &&
      (!it->is_number_unsigned() ||
       it->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
    out = it->get<int64_t>();
    return Status::Ok();
  }
  return Expect(field, what, *it);
}

template <typename Enum, size_t N>
Status ReadEnum(const json& j, std::string_view field, const EnumNames<Enum, N>& names,
                std::optional<Enum>& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Expect(field, "a string", *it);
  auto e = names.parse(field, it->get<std::string>());
  if (!e.ok()) return e.status();
  out = *e;
  return Status::Ok();
}

template <typename T>
ordered_json OrNull(const std::optional<T>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

Result<Context> ContextFromJson(const json& j) {
  Context c;
  if (j.is_null()) return c;
  Status s = RequireObject("context", j, {"domain", "language", "framework", "complexity", "tags"});
  if (s.ok()) s = ReadOptionalString(j, "domain", c.domain);
  if (s.ok()) s = ReadOptionalString(j, "language", c.language);
  if (s.ok()) s = ReadOptionalString(j, "framework", c.framework);
  if (s.ok()) s = ReadEnum(j, "complexity", kComplexities, c.complexity);
  if (s.ok()) s = ReadStringList(j, "tags", c.tags);
  if (!s.ok()) return s;
  return c;
}

}  // namespace

template <>
std::span<const std::string_view> enum_names<TaskType>() {
  return kTaskTypes.names;
}
template <>
std::span<const std::string_view> enum_names<Complexity>() {
  return kComplexities.names;
}
template <>
std::span<const std::string_view> enum_names<EpisodeStatus>() {
  return kStatuses.names;
}
template <>
std::span<const std::string_view> enum_names<OutcomeKind>() {
  return kOutcomeKinds.names;
}
template <>
std::span<const std::string_view> enum_names<PatternType>() {
  return kPatternTypes.names;
}

std::string_view to_string(TaskType t) {
  return kTaskTypes.name(t);
}
std::string_view to_string(Complexity c) {
  return kComplexities.name(c);
}
std::string_view to_string(EpisodeStatus s) {
  return kStatuses.name(s);
}
std::string_view to_string(OutcomeKind k) {
  return kOutcomeKinds.name(k);
}
std::string_view to_string(PatternType t) {
  return kPatternTypes.name(t);
}
Result<PatternType> parse_pattern_type(std::string_view s) {
  return kPatternTypes.parse("type", s);
}

Result<TaskType> parse_task_type(std::string_view s) {
  return kTaskTypes.parse("task_type", s);
}
Result<Complexity> parse_complexity(std::string_view s) {
  return kComplexities.parse("complexity", s);
}
Result<EpisodeStatus> parse_episode_status(std::string_view s) {
  return kStatuses.parse("status", s);
}
Result<OutcomeKind> parse_outcome_kind(std::string_view s) {
  return kOutcomeKinds.parse("outcome", s);
}

ordered_json to_json(const ExecutionStep& step) {
  return ordered_json{
      {"step_number", step.step_number},
      {"timestamp", step.timestamp},
      {"tool", step.tool},
      {"action", step.action},
      {"latency_ms", step.latency_ms},
      {"tokens", step.tokens ? ordered_json(*step.tokens) : ordered_json(nullptr)},
      {"success", step.success},
      {"observation", step.observation},
      {"parameters",
       step.parameters.is_null() ? ordered_json::object() : ordered_json(step.parameters)},
      {"metadata", step.metadata.is_null() ? ordered_json::object() : ordered_json(step.metadata)}};
}

ordered_json to_json(const Context& c) {
  return ordered_json{
      {"domain", OrNull(c.domain)},
      {"language", OrNull(c.language)},
      {"framework", OrNull(c.framework)},
      {"complexity", c.complexity ? ordered_json(to_string(*c.complexity)) : ordered_json(nullptr)},
      {"tags", c.tags}};
}

ordered_json to_json(const Outcome& o) {
  ordered_json j{{"kind", to_string(o.kind)}, {"summary", o.summary}, {"artifacts", o.artifacts}};
  if (o.kind == OutcomeKind::kPartialSuccess || !o.completed.empty() || !o.failed.empty()) {
    j["completed"] = o.completed;
    j["failed"] = o.failed;
  }
  return j;
}

ordered_json to_json(const Episode& e, bool include_steps) {
  ordered_json j{
      {"id", e.id},
      {"task", e.task},
      {"task_type", to_string(e.task_type)},
      {"context", to_json(e.context)},
      {"status", to_string(e.status)},
      {"started_at", e.started_at},
      {"ended_at", OrNull(e.ended_at)},
      {"outcome", e.outcome ? to_json(*e.outcome) : ordered_json(nullptr)},
      {"reward", ordered_json(e.reward)},
      {"reflection", ordered_json(e.reflection)},
      {"metadata", e.metadata.is_null() ? ordered_json::object() : ordered_json(e.metadata)}};
  if (e.totals) {
    j["totals"] = {{"steps", e.totals->steps},
                   {"failed_steps", e.totals->failed_steps},
                   {"tokens", e.totals->tokens}};
  }
  if (include_steps) {
    ordered_json steps = ordered_json::array();
    for (const auto& s : e.steps) steps.push_back(to_json(s));
    j["steps"] = std::move(steps);
  }
  return j;
}

ordered_json to_json(const EpisodePage& page) {
  ordered_json episodes = ordered_json::array();
  for (const auto& e : page.episodes) episodes.push_back(to_json(e, /*include_steps=*/false));
  return ordered_json{{"episodes", std::move(episodes)}, {"next_cursor", OrNull(page.next_cursor)}};
}

ordered_json to_json(const StepPage& page) {
  ordered_json steps = ordered_json::array();
  for (const auto& s : page.steps) steps.push_back(to_json(s));
  return ordered_json{{"steps", std::move(steps)}, {"next_after", OrNull(page.next_after)}};
}

ordered_json to_json(const Pattern& p) {
  ordered_json j{{"id", p.id},
                 {"type", to_string(p.type)},
                 {"description", ordered_json(p.description)},
                 {"support", p.support},
                 {"success_rate", p.success_rate},
                 {"occurrences", p.occurrences},
                 {"mean_latency_ms", p.mean_latency_ms},
                 {"mean_tokens", p.mean_tokens},
                 {"first_seen", p.first_seen},
                 {"last_seen", p.last_seen},
                 {"evidence", p.evidence}};
  if (p.type == PatternType::kDecisionPoint) j["branches"] = ordered_json(p.branches);
  return j;
}

ordered_json to_json(const Stats& s) {
  ordered_json tools = ordered_json::array();
  for (const auto& t : s.tools) {
    tools.push_back({{"tool", t.tool},
                     {"calls", t.calls},
                     {"success_rate", t.success_rate},
                     {"latency_p50_ms", t.latency_p50_ms},
                     {"latency_p95_ms", t.latency_p95_ms},
                     {"latency_p99_ms", t.latency_p99_ms},
                     {"latency_max_ms", t.latency_max_ms},
                     {"tokens_total", t.tokens_total},
                     {"tokens_mean", t.tokens_mean},
                     {"latency_histogram", t.latency_histogram}});
  }
  ordered_json slowest = ordered_json::array();
  for (const auto& x : s.slowest_steps) {
    slowest.push_back({{"episode_id", x.episode_id},
                       {"step_number", x.step_number},
                       {"tool", x.tool},
                       {"action", x.action},
                       {"latency_ms", x.latency_ms}});
  }
  ordered_json timeline = ordered_json::array();
  for (const auto& b : s.timeline) {
    timeline.push_back({{"start", b.start},
                        {"steps", b.steps},
                        {"failed_steps", b.failed_steps},
                        {"tokens", b.tokens},
                        {"episodes", b.episodes},
                        {"outcomes", b.outcomes}});
  }
  return {{"steps", s.steps},
          {"tools", std::move(tools)},
          {"episodes_by_status", s.episodes_by_status},
          {"outcomes", s.outcomes},
          {"slowest_steps", std::move(slowest)},
          {"latency_bounds_ms", kLatencyBoundsMs},
          {"bucket", kTimeBuckets.name(s.bucket)},
          {"timeline", std::move(timeline)}};
}

ordered_json to_json(const Suggestions& s) {
  auto round4 = [](double x) { return std::round(x * 1e4) / 1e4; };
  ordered_json out = ordered_json::array();
  for (const auto& x : s.suggestions) {
    out.push_back({{"tool", x.tool},
                   {"score", round4(x.score)},
                   {"support", x.support},
                   {"success_rate", round4(x.success_rate)},
                   {"example_action", x.example_action},
                   {"why", x.why}});
  }
  return {{"suggestions", std::move(out)}};
}

ordered_json to_json(const Recall& r) {
  auto round4 = [](double x) { return std::round(x * 1e4) / 1e4; };
  ordered_json episodes = ordered_json::array();
  for (const auto& e : r.episodes) {
    ordered_json why = ordered_json::object();
    for (const auto& [signal, part] : e.why) why[signal] = round4(part);
    episodes.push_back({{"id", e.id},
                        {"task", e.task},
                        {"score", round4(e.score)},
                        {"why", std::move(why)},
                        {"outcome", e.outcome ? to_json(*e.outcome) : ordered_json(nullptr)},
                        {"reward", e.reward ? ordered_json(*e.reward) : ordered_json(nullptr)},
                        {"warning", e.warning},
                        {"lessons", e.lessons},
                        {"task_type", to_string(e.task_type)},
                        {"context", to_json(e.context)},
                        {"ended_at", e.ended_at}});
  }
  ordered_json patterns = ordered_json::array();
  for (const auto& p : r.patterns) {
    ordered_json j = to_json(p.pattern);
    j["seen_in"] = p.seen_in;
    j["success_here"] = round4(p.success_here);
    patterns.push_back(std::move(j));
  }
  return {{"episodes", std::move(episodes)},
          {"patterns", std::move(patterns)},
          {"playbook", r.playbook},
          {"playbook_tokens", r.playbook_tokens}};
}

Result<ExecutionStep> step_from_json(json j) {
  ExecutionStep step;
  Status s = RequireObject("step", j,
                           {"step_number", "timestamp", "tool", "action", "latency_ms", "tokens",
                            "success", "observation", "parameters", "metadata"});
  if (s.ok()) s = TakeString(j, "timestamp", step.timestamp);
  if (s.ok()) s = TakeString(j, "tool", step.tool);
  if (s.ok()) s = TakeString(j, "action", step.action);
  if (s.ok()) s = TakeString(j, "observation", step.observation);
  std::optional<int64_t> latency;
  static const std::string kCount = fmt::format("an integer from 0 to {}", kMaxStepCount);
  if (s.ok()) s = ReadInt(j, "latency_ms", kCount, latency);
  if (s.ok()) s = ReadInt(j, "tokens", kCount + " or null", step.tokens);
  if (!s.ok()) return s;
  step.latency_ms = latency.value_or(0);
  if (auto it = j.find("success"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return Expect("success", "true or false", *it);
    step.success = it->get<bool>();
  }
  if (auto it = j.find("parameters"); it != j.end() && !it->is_null()) {
    step.parameters = std::move(*it);
  }
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Expect("metadata", "an object of strings", *it);
    for (const auto& item : it->items()) {
      if (!item.value().is_string()) {
        return Expect(fmt::format("metadata[\"{}\"]", item.key()), "a string", item.value());
      }
    }
    step.metadata = std::move(*it);
  }
  return step;
}

Result<std::vector<ExecutionStep>> steps_from_json(json j) {
  if (!j.is_array()) return Expect("steps", "an array of steps", j);
  std::vector<ExecutionStep> steps;
  steps.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    auto s = step_from_json(std::move(j[i]));
    if (!s.ok())
      return Status::InvalidArgument(fmt::format("steps[{}]: {}", i, s.status().message()));
    steps.push_back(std::move(*s));
  }
  return steps;
}

Result<EpisodeSpec> episode_spec_from_json(const json& j) {
  EpisodeSpec spec;
  Status s = RequireObject("episode", j, {"task", "task_type", "context", "metadata"});
  if (s.ok()) s = ReadString(j, "task", spec.task);
  std::optional<TaskType> type;
  if (s.ok()) s = ReadEnum(j, "task_type", kTaskTypes, type);
  if (!s.ok()) return s;
  spec.task_type = type.value_or(TaskType::kOther);
  if (auto it = j.find("context"); it != j.end()) {
    auto c = ContextFromJson(*it);
    if (!c.ok()) return c.status();
    spec.context = std::move(*c);
  }
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) spec.metadata = *it;
  return spec;
}

Result<Outcome> outcome_from_json(const json& j) {
  Outcome o;
  Status s = RequireObject("outcome", j, {"kind", "summary", "artifacts", "completed", "failed"});
  std::optional<OutcomeKind> kind;
  if (s.ok()) s = ReadEnum(j, "kind", kOutcomeKinds, kind);
  if (s.ok() && !kind) s = Status::InvalidArgument("outcome.kind is missing");
  if (s.ok()) s = ReadString(j, "summary", o.summary);
  if (s.ok()) s = ReadStringList(j, "artifacts", o.artifacts);
  if (s.ok()) s = ReadStringList(j, "completed", o.completed);
  if (s.ok()) s = ReadStringList(j, "failed", o.failed);
  if (!s.ok()) return s;
  o.kind = *kind;
  return o;
}

Result<Episode> episode_from_json(const json& j) {
  Episode e;
  Status s = RequireObject("episode", j,
                           {"id", "task", "task_type", "context", "status", "started_at",
                            "ended_at", "steps", "outcome", "reward", "reflection", "metadata"});
  if (s.ok()) s = ReadString(j, "id", e.id);
  if (s.ok()) s = ReadString(j, "task", e.task);
  if (s.ok()) s = ReadString(j, "started_at", e.started_at);
  if (s.ok()) s = ReadOptionalString(j, "ended_at", e.ended_at);
  std::optional<TaskType> type;
  std::optional<EpisodeStatus> status;
  if (s.ok()) s = ReadEnum(j, "task_type", kTaskTypes, type);
  if (s.ok()) s = ReadEnum(j, "status", kStatuses, status);
  if (!s.ok()) return s;
  e.task_type = type.value_or(TaskType::kOther);
  e.status = status.value_or(EpisodeStatus::kOpen);
  if (auto it = j.find("context"); it != j.end()) {
    auto c = ContextFromJson(*it);
    if (!c.ok()) return c.status();
    e.context = std::move(*c);
  }
  if (auto it = j.find("steps"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Expect("steps", "an array", *it);
    for (size_t i = 0; i < it->size(); ++i) {
      auto step = step_from_json((*it)[i]);
      if (!step.ok()) {
        return Status::InvalidArgument(fmt::format("steps[{}]: {}", i, step.status().message()));
      }
      // An exported step keeps its number, so an import can check the sequence.
      const json& doc = (*it)[i];
      if (auto n = doc.find("step_number"); n != doc.end() && n->is_number_integer()) {
        step->step_number = n->get<int64_t>();
      }
      e.steps.push_back(std::move(*step));
    }
  }
  if (auto it = j.find("outcome"); it != j.end() && !it->is_null()) {
    auto o = outcome_from_json(*it);
    if (!o.ok()) return o.status();
    e.outcome = std::move(*o);
  }
  if (auto it = j.find("reward"); it != j.end()) e.reward = *it;
  if (auto it = j.find("reflection"); it != j.end()) e.reflection = *it;
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) e.metadata = *it;
  return e;
}

Result<EpisodeFilter> episode_filter_from_json(const json& j) {
  EpisodeFilter f;
  if (j.is_null()) return f;
  Status s = RequireObject("filter", j,
                           {"status", "outcome", "domain", "task_type", "tag", "since", "until",
                            "ids", "limit", "cursor"});
  if (s.ok()) s = ReadEnum(j, "status", kStatuses, f.status);
  if (s.ok()) s = ReadEnum(j, "outcome", kOutcomeKinds, f.outcome);
  if (s.ok()) s = ReadStringList(j, "ids", f.ids);
  if (s.ok()) s = ReadOptionalString(j, "domain", f.domain);
  if (s.ok()) s = ReadEnum(j, "task_type", kTaskTypes, f.task_type);
  if (s.ok()) s = ReadOptionalString(j, "tag", f.tag);
  if (s.ok()) s = ReadOptionalString(j, "since", f.since);
  if (s.ok()) s = ReadOptionalString(j, "until", f.until);
  std::optional<int64_t> limit;
  if (s.ok()) s = ReadInt(j, "limit", fmt::format("an integer from 1 to {}", kMaxListLimit), limit);
  if (s.ok()) s = ReadString(j, "cursor", f.cursor);
  if (!s.ok()) return s;
  if (limit) f.limit = *limit;
  return f;
}

Result<PatternFilter> pattern_filter_from_json(const json& j) {
  PatternFilter f;
  if (j.is_null()) return f;
  Status s =
      RequireObject("filter", j, {"type", "domain", "episode", "min_support", "min_success"});
  if (s.ok()) s = ReadEnum(j, "type", kPatternTypes, f.type);
  if (s.ok()) s = ReadOptionalString(j, "domain", f.domain);
  if (s.ok()) s = ReadOptionalString(j, "episode", f.episode);
  std::optional<int64_t> support;
  if (s.ok()) s = ReadInt(j, "min_support", "an integer >= 1", support);
  if (!s.ok()) return s;
  if (support) f.min_support = *support;
  if (auto it = j.find("min_success"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) return Expect("min_success", "a number from 0 to 1", *it);
    f.min_success = it->get<double>();
  }
  return f;
}

Result<StatsFilter> stats_filter_from_json(const json& j) {
  StatsFilter f;
  if (j.is_null()) return f;
  Status s = RequireObject("filter", j, {"tool", "domain", "since", "bucket"});
  if (s.ok()) s = ReadOptionalString(j, "tool", f.tool);
  if (s.ok()) s = ReadOptionalString(j, "domain", f.domain);
  if (s.ok()) s = ReadOptionalString(j, "since", f.since);
  if (s.ok()) s = ReadEnum(j, "bucket", kTimeBuckets, f.bucket);
  if (!s.ok()) return s;
  return f;
}

Result<RecallQuery> recall_query_from_json(const json& j) {
  RecallQuery q;
  Status s = RequireObject("query", j, {"task", "context", "k", "token_budget"});
  if (s.ok()) s = ReadString(j, "task", q.task);
  std::optional<int64_t> k, budget;
  if (s.ok()) s = ReadInt(j, "k", fmt::format("an integer from 1 to {}", kMaxRecallK), k);
  if (s.ok())
    s = ReadInt(j, "token_budget", fmt::format("an integer from 0 to {}", kMaxRecallTokenBudget),
                budget);
  if (!s.ok()) return s;
  if (k) q.k = *k;
  if (budget) q.token_budget = *budget;
  if (auto it = j.find("context"); it != j.end()) {
    auto c = ContextFromJson(*it);
    if (!c.ok()) return c.status();
    q.context = std::move(*c);
  }
  return q;
}

Result<StepRange> step_range_from_json(const json& j) {
  StepRange r;
  if (j.is_null()) return r;
  Status s = RequireObject("steps", j, {"after", "limit"});
  std::optional<int64_t> after, limit;
  if (s.ok()) s = ReadInt(j, "after", "an integer >= 0", after);
  if (s.ok()) s = ReadInt(j, "limit", fmt::format("an integer from 1 to {}", kMaxStepPage), limit);
  if (!s.ok()) return s;
  if (after) r.after = *after;
  if (limit) r.limit = *limit;
  return r;
}

Result<int64_t> suggest_k_from_json(const json& j) {
  Status s = RequireObject("suggest", j, {"k"});
  std::optional<int64_t> k;
  if (s.ok()) s = ReadInt(j, "k", fmt::format("an integer from 1 to {}", kMaxSuggestions), k);
  if (!s.ok()) return s;
  return k.value_or(5);
}

Result<PruneFilter> prune_filter_from_json(const json& j) {
  PruneFilter f;
  Status s = RequireObject("prune", j, {"older_than", "status", "outcome", "domain", "dry_run"});
  if (!s.ok()) return s;
  auto age = j.find("older_than");
  if (age == j.end() || age->is_null()) {
    return Status::InvalidArgument(
        "older_than is required: a duration such as 90d (0s prunes every episode that matches)");
  }
  if (age->is_string()) {
    auto d = ParseDuration("older_than", age->get<std::string>());
    if (!d.ok()) return d.status();
    f.older_than = *d;
  } else {
    std::optional<int64_t> seconds;
    s = ReadInt(j, "older_than", "a duration such as \"90d\" or a number of seconds", seconds);
    if (!s.ok()) return s;
    f.older_than = std::chrono::seconds(*seconds);
  }
  if (s.ok()) s = ReadEnum(j, "status", kStatuses, f.status);
  if (s.ok()) s = ReadEnum(j, "outcome", kOutcomeKinds, f.outcome);
  if (s.ok()) s = ReadOptionalString(j, "domain", f.domain);
  if (!s.ok()) return s;
  if (auto it = j.find("dry_run"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return Expect("dry_run", "true or false", *it);
    f.dry_run = it->get<bool>();
  }
  return f;
}

ordered_json to_json(const PruneResult& r) {
  return {{"dry_run", r.dry_run},
          {"before", r.before},
          {"episodes", r.episodes},
          {"steps", r.steps},
          {"by_status", r.by_status},
          {"by_outcome", r.by_outcome},
          {"oldest", OrNull(r.oldest)},
          {"newest", OrNull(r.newest)},
          {"bytes_released", r.bytes_released},
          {"bytes_free", r.bytes_free}};
}

}  // namespace engram
