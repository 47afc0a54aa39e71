// The JSON forms of the data model (docs/design.md section 2), and the names of its enumerations.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engram/status.h"
#include "engram/types.h"

namespace engram {

std::string_view to_string(TaskType t);
std::string_view to_string(Complexity c);
std::string_view to_string(EpisodeStatus s);
std::string_view to_string(OutcomeKind k);
std::string_view to_string(PatternType t);

// Each returns InvalidArgument naming the field and listing the accepted values.
// Every name of an enumeration, in its order: the one list schemas and help texts show.
template <typename Enum>
std::span<const std::string_view> enum_names();
template <>
std::span<const std::string_view> enum_names<TaskType>();
template <>
std::span<const std::string_view> enum_names<Complexity>();
template <>
std::span<const std::string_view> enum_names<EpisodeStatus>();
template <>
std::span<const std::string_view> enum_names<OutcomeKind>();
template <>
std::span<const std::string_view> enum_names<PatternType>();

Result<TaskType> parse_task_type(std::string_view s);
Result<Complexity> parse_complexity(std::string_view s);
Result<EpisodeStatus> parse_episode_status(std::string_view s);
Result<OutcomeKind> parse_outcome_kind(std::string_view s);
Result<PatternType> parse_pattern_type(std::string_view s);

// Every field is always present: absent values are null, empty lists [], empty maps {}.
// Fields keep the order of the data model (docs/design.md section 2), so documents read well.
nlohmann::ordered_json to_json(const ExecutionStep& step);
nlohmann::ordered_json to_json(const Context& context);
nlohmann::ordered_json to_json(const Outcome& outcome);
// With include_steps false the "steps" field is left out, as in episode lists.
nlohmann::ordered_json to_json(const Episode& episode, bool include_steps = true);
nlohmann::ordered_json to_json(const Pattern& pattern);
// {"episodes": [Episode without steps…], "next_cursor": string or null}
nlohmann::ordered_json to_json(const EpisodePage& page);
// {"steps": [Step…], "next_after": integer or null}
nlohmann::ordered_json to_json(const StepPage& page);
nlohmann::ordered_json to_json(const Stats& stats);
// {"episodes": [{"id", "task", "score", "why", "outcome", …}], "patterns": [Pattern with
// "seen_in" and "success_here"…], "playbook", "playbook_tokens"}.
nlohmann::ordered_json to_json(const Recall& recall);
// {"suggestions": [{"tool", "score", "support", "success_rate", "example_action", "why"}…]}
nlohmann::ordered_json to_json(const Suggestions& suggestions);
// {"dry_run", "before", "episodes", "steps", "by_status", "by_outcome", "oldest", "newest",
// "bytes_released", "bytes_free"}
nlohmann::ordered_json to_json(const PruneResult& result);

// JSON from outside engram (a request, a message, a step's parameters, an imported record),
// parsed with the limits every door shares: objects and arrays nested at most kMaxJsonDepth
// levels deep (refused as soon as the parser meets a deeper one, before anything recurses over
// the document), numbers within a double's range. InvalidArgument otherwise, its message a
// predicate for the caller to put after a subject ("the request body is …"): "not valid JSON:
// <where and why>", "nested deeper than 64 levels …", "out of range at latency_ms: the number
// 1e400 is beyond …". No exception escapes.
inline constexpr int kMaxJsonDepth = 64;
Result<nlohmann::json> parse_json(std::string_view text);

// Reads a step as an agent sends it. step_number, if present, is ignored: engram assigns it.
// Type errors name the field: "latency_ms must be an integer >= 0, got \"fast\"". The step's
// texts and objects are moved out of `j`: pass it with std::move when it is not needed after.
Result<ExecutionStep> step_from_json(nlohmann::json j);
// A JSON array of steps, in order; an invalid one is reported as "steps[i]: reason".
Result<std::vector<ExecutionStep>> steps_from_json(nlohmann::json j);
Result<EpisodeSpec> episode_spec_from_json(const nlohmann::json& j);
Result<Outcome> outcome_from_json(const nlohmann::json& j);
// Reads an exported episode document back.
Result<Episode> episode_from_json(const nlohmann::json& j);
// The requests of the list, pattern, stats and recall calls, as the MCP tools and the HTTP API
// take them: the structs' field names; absent or null fields keep their defaults; the values'
// ranges are checked by the calls themselves.
Result<EpisodeFilter> episode_filter_from_json(const nlohmann::json& j);
Result<PatternFilter> pattern_filter_from_json(const nlohmann::json& j);
Result<StatsFilter> stats_filter_from_json(const nlohmann::json& j);
Result<RecallQuery> recall_query_from_json(const nlohmann::json& j);
// A prune: {"older_than": "90d" or seconds (required), "status", "outcome", "domain",
// "dry_run": boolean}.
Result<PruneFilter> prune_filter_from_json(const nlohmann::json& j);
// A page of an episode's steps: {"after": integer >= 0, "limit": integer}.
Result<StepRange> step_range_from_json(const nlohmann::json& j);
// The options of a suggest call beside the episode: {"k": integer} (default 5).
Result<int64_t> suggest_k_from_json(const nlohmann::json& j);

}  // namespace engram
