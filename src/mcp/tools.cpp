#include "mcp/tools.h"

#include <fmt/format.h>

#include "engram/json.h"

namespace engram::mcp {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// The schemas' shared parts, as JSON Schema (draft 2020-12) fragments.
// An enumeration's names as a schema's "enum" list.
template <typename Enum>
json NamesOf() {
  json out = json::array();
  for (std::string_view name : enum_names<Enum>()) out.push_back(name);
  return out;
}

const json& Defs() {
  static const json defs = [] {
    json d = json::parse(R"json({
    "nullable_string": {"type": ["string", "null"]},
    "context": {
      "type": "object",
      "description": "Where the task happens. Recall ranks episodes of the same context higher.",
      "properties": {
        "domain": {"type": ["string", "null"], "description": "e.g. web, cli, infra, data"},
        "language": {"type": ["string", "null"], "description": "e.g. python, rust"},
        "framework": {"type": ["string", "null"], "description": "e.g. django, react"},
        "complexity": {"enum": null},
        "tags": {"type": "array", "items": {"type": "string"}}
      },
      "additionalProperties": false
    },
    "step": {
      "type": "object",
      "properties": {
        "tool": {"type": "string", "minLength": 1,
                 "description": "The tool or function called, e.g. bash, git, read_file, llm."},
        "action": {"type": "string",
                   "description": "What was asked of it: the command line or the call's arguments."},
        "observation": {"type": "string",
                        "description": "What came back: the output or the error, verbatim where short (up to 64 KiB)."},
        "success": {"type": "boolean", "description": "Whether the step did what it was meant to (default true)."},
        "latency_ms": {"type": "integer", "minimum": 0},
        "tokens": {"type": ["integer", "null"], "minimum": 0},
        "parameters": {"type": "object", "description": "Structured arguments, when there are any."},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "timestamp": {"type": "string", "description": "RFC 3339; default now."}
      },
      "required": ["tool"],
      "additionalProperties": false
    },
    "episode": {
      "type": "object",
      "properties": {
        "id": {"type": "string"},
        "task": {"type": "string"},
        "task_type": {"type": "string"},
        "context": {"type": "object"},
        "status": {"enum": ["open", "completed"]},
        "started_at": {"type": "string"},
        "ended_at": {"type": ["string", "null"]},
        "outcome": {"type": ["object", "null"]},
        "reward": {"type": ["object", "null"]},
        "reflection": {"type": ["object", "null"]},
        "metadata": {"type": "object"},
        "steps": {"type": "array", "items": {"type": "object"}}
      },
      "required": ["id", "task", "status", "started_at"]
    }
  })json");
    json complexity = NamesOf<Complexity>();
    complexity.push_back(nullptr);
    d["context"]["properties"]["complexity"]["enum"] = std::move(complexity);
    return d;
  }();
  return defs;
}

json Object(json properties, std::vector<std::string> required = {}) {
  json schema = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) schema["required"] = std::move(required);
  schema["additionalProperties"] = false;
  return schema;
}

json EpisodeId() {
  return {{"type", "string"}, {"description", "The id start_episode returned."}};
}

// Takes `episode_id` out of the arguments.
Result<std::string> TakeEpisodeId(json& args) {
  auto it = args.find("episode_id");
  if (it == args.end()) return Status::InvalidArgument("episode_id is missing");
  if (!it->is_string()) {
    return Status::InvalidArgument(fmt::format("episode_id must be a string, got {}", it->dump()));
  }
  std::string id = std::move(it->get_ref<std::string&>());
  args.erase(it);
  return id;
}

template <typename T>
Result<ordered_json> Json(const Result<T>& r) {
  if (!r.ok()) return r.status();
  return to_json(*r);
}

std::vector<Tool> MakeTools() {
  const json& d = Defs();
  json step_properties = d["step"]["properties"];
  json log_step_properties = step_properties;
  log_step_properties["episode_id"] = EpisodeId();
  std::vector<Tool> tools;

  tools.push_back(
      Tool{"start_episode", "Start an episode",
           "Call when you begin a task. Returns the episode_id that every other call takes. Before "
           "starting, call recall with the same task to learn from past attempts.",
           Object({{"task",
                    {{"type", "string"},
                     {"minLength", 1},
                     {"description", "The task as the user gave it."}}},
                   {"task_type", {{"enum", NamesOf<TaskType>()}}},
                   {"context", d["context"]},
                   {"metadata", {{"type", "object"}}}},
                  {"task"}),
           Object({{"episode_id", {{"type", "string"}}}}, {"episode_id"}),
           [](Memory& m, json& args) -> Result<ordered_json> {
             auto spec = episode_spec_from_json(args);
             if (!spec.ok()) return spec.status();
             auto id = m.start_episode(*spec);
             if (!id.ok()) return id.status();
             return ordered_json{{"episode_id", *id}};
           }});

  tools.push_back(Tool{
      "log_step", "Log one step",
      "Call after each tool call or action of the task, as it happens: tool, action, what came "
      "back (observation, the error text when it failed), success, latency and tokens. The "
      "step is durable when this returns. For bursts of several steps use log_steps.",
      Object(log_step_properties, {"episode_id", "tool"}),
      Object({{"step_number", {{"type", "integer"}}}}, {"step_number"}),
      [](Memory& m, json& args) -> Result<ordered_json> {
        auto id = TakeEpisodeId(args);
        if (!id.ok()) return id.status();
        auto step = step_from_json(std::move(args));
        if (!step.ok()) return step.status();
        auto n = m.log_step(*id, std::move(*step));
        if (!n.ok()) return n.status();
        return ordered_json{{"step_number", *n}};
      }});

  tools.push_back(Tool{
      "log_steps", "Log several steps",
      "Log a burst of steps in order with one call (up to thousands): all are accepted or none "
      "(an invalid step names its index). Durable when this returns.",
      Object({{"episode_id", EpisodeId()},
              {"steps", {{"type", "array"}, {"items", d["step"]}, {"minItems", 1}}}},
             {"episode_id", "steps"}),
      Object({{"step_numbers", {{"type", "array"}, {"items", {{"type", "integer"}}}}}},
             {"step_numbers"}),
      [](Memory& m, json& args) -> Result<ordered_json> {
        auto id = TakeEpisodeId(args);
        if (!id.ok()) return id.status();
        for (const auto& item : args.items()) {
          if (item.key() != "steps") {
            return Status::InvalidArgument(fmt::format(
                "log_steps has an unknown field \"{}\" (known: episode_id, steps)", item.key()));
          }
        }
        auto steps = steps_from_json(std::move(args["steps"]));
        if (!steps.ok()) return steps.status();
        auto numbers = m.log_steps(*id, std::move(*steps));
        if (!numbers.ok()) return numbers.status();
        return ordered_json{{"step_numbers", *numbers}};
      }});

  tools.push_back(Tool{
      "complete_episode", "Complete an episode",
      "Call once when the task ends, with how it ended. engram scores the episode, reflects on "
      "it and learns patterns from it; the completed episode with its reward and reflection is "
      "returned. Completing twice is an error.",
      Object({{"episode_id", EpisodeId()},
              {"kind", {{"enum", NamesOf<OutcomeKind>()}}},
              {"summary", {{"type", "string"}}},
              {"completed", {{"type", "array"}, {"items", {{"type", "string"}}}}},
              {"failed", {{"type", "array"}, {"items", {{"type", "string"}}}}},
              {"artifacts", {{"type", "array"}, {"items", {{"type", "string"}}}}}},
             {"episode_id", "kind"}),
      d["episode"], [](Memory& m, json& args) -> Result<ordered_json> {
        auto id = TakeEpisodeId(args);
        if (!id.ok()) return id.status();
        auto outcome = outcome_from_json(args);
        if (!outcome.ok()) return outcome.status();
        return Json(m.complete_episode(*id, *outcome));
      }});

  tools.push_back(Tool{"get_episode", "Get an episode",
                       "An episode with all its steps, its outcome, reward and reflection.",
                       Object({{"episode_id", EpisodeId()}}, {"episode_id"}), d["episode"],
                       [](Memory& m, json& args) -> Result<ordered_json> {
                         auto id = TakeEpisodeId(args);
                         if (!id.ok()) return id.status();
                         if (!args.empty()) {
                           return Status::InvalidArgument(fmt::format(
                               "get_episode has an unknown field \"{}\" (known: episode_id)",
                               args.begin().key()));
                         }
                         return Json(m.get_episode(*id));
                       }});

  tools.push_back(Tool{
      "list_episodes", "List episodes",
      "Episodes newest first, without their steps (each with its totals: steps, failed steps, "
      "tokens), filtered; pass next_cursor back as cursor for the next page.",
      Object({{"status", {{"enum", {"open", "completed"}}}},
              {"outcome", {{"enum", NamesOf<OutcomeKind>()}}},
              {"domain", {{"type", "string"}}},
              {"task_type", {{"type", "string"}}},
              {"tag", {{"type", "string"}}},
              {"since", {{"type", "string"}, {"description", "RFC 3339 or a date, inclusive"}}},
              {"until", {{"type", "string"}, {"description", "RFC 3339 or a date, exclusive"}}},
              {"ids",
               {{"type", "array"},
                {"items", EpisodeId()},
                {"maxItems", kMaxListIds},
                {"description", "only these episodes"}}},
              {"limit", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxListLimit}}},
              {"cursor", {{"type", "string"}}}}),
      Object({{"episodes", {{"type", "array"}, {"items", {{"type", "object"}}}}},
              {"next_cursor", {{"type", {"string", "null"}}}}},
             {"episodes"}),
      [](Memory& m, json& args) -> Result<ordered_json> {
        auto filter = episode_filter_from_json(args);
        if (!filter.ok()) return filter.status();
        return Json(m.list_episodes(*filter));
      }});

  tools.push_back(Tool{
      "recall", "Recall past experience",
      "Call before starting a task: the past episodes most like it (failed ones as warnings), "
      "the patterns that worked in this context and a playbook (what worked, pitfalls and their "
      "fixes, the recommended tool sequence) within token_budget. Each episode says why it was "
      "chosen.",
      Object({{"task", {{"type", "string"}, {"minLength", 1}}},
              {"context", d["context"]},
              {"k", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxRecallK}}},
              {"token_budget",
               {{"type", "integer"}, {"minimum", 0}, {"maximum", kMaxRecallTokenBudget}}}},
             {"task"}),
      Object({{"episodes", {{"type", "array"}, {"items", {{"type", "object"}}}}},
              {"patterns", {{"type", "array"}, {"items", {{"type", "object"}}}}},
              {"playbook", {{"type", "string"}}},
              {"playbook_tokens", {{"type", "integer"}}}},
             {"episodes", "patterns", "playbook"}),
      [](Memory& m, json& args) -> Result<ordered_json> {
        auto query = recall_query_from_json(args);
        if (!query.ok()) return query.status();
        return Json(m.recall(*query));
      }});

  tools.push_back(Tool{
      "suggest_next_step", "Suggest the next step",
      "Call while an episode is open, when unsure what to do next: the tools similar past "
      "episodes called at this point (after the same last calls, and after a failure the "
      "recoveries that worked), best first, each with a typical action and why.",
      Object({{"episode_id", EpisodeId()},
              {"k", {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxSuggestions}}}},
             {"episode_id"}),
      Object({{"suggestions",
               {{"type", "array"},
                {"items",
                 Object({{"tool", {{"type", "string"}}},
                         {"score", {{"type", "number"}}},
                         {"support", {{"type", "integer"}}},
                         {"success_rate", {{"type", "number"}}},
                         {"example_action", {{"type", "string"}}},
                         {"why", {{"type", "string"}}}},
                        {"tool", "score", "support", "success_rate", "example_action", "why"})}}}},
             {"suggestions"}),
      [](Memory& m, json& args) -> Result<ordered_json> {
        auto id = TakeEpisodeId(args);
        if (!id.ok()) return id.status();
        auto k = suggest_k_from_json(args);
        if (!k.ok()) return k.status();
        return Json(m.suggest(*id, *k));
      }});

  tools.push_back(Tool{
      "list_patterns", "List patterns",
      "Patterns learnt across episodes (tool sequences that recur, how errors were recovered, "
      "decision points, what works per context), by support then success rate.",
      Object({{"type", {{"enum", NamesOf<PatternType>()}}},
              {"domain", {{"type", "string"}}},
              {"episode", {{"type", "string"}, {"description", "the patterns this episode shows"}}},
              {"min_support", {{"type", "integer"}, {"minimum", 1}}},
              {"min_success", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}}}),
      Object({{"patterns", {{"type", "array"}, {"items", {{"type", "object"}}}}}}, {"patterns"}),
      [](Memory& m, json& args) -> Result<ordered_json> {
        auto filter = pattern_filter_from_json(args);
        if (!filter.ok()) return filter.status();
        auto patterns = m.list_patterns(*filter);
        if (!patterns.ok()) return patterns.status();
        ordered_json list = ordered_json::array();
        for (const auto& p : *patterns) list.push_back(to_json(p));
        return ordered_json{{"patterns", std::move(list)}};
      }});

  tools.push_back(
      Tool{"stats",
           "Statistics",
           "Per tool: calls, success rate, latency percentiles and distribution, and tokens; "
           "episodes by status and outcome; the slowest steps; a timeline by minute, hour or day.",
           Object({{"tool", {{"type", "string"}}},
                   {"domain", {{"type", "string"}}},
                   {"since", {{"type", "string"}}},
                   {"bucket", {{"enum", {"minute", "hour", "day"}}}}}),
           {{"type", "object"}},
           [](Memory& m, json& args) -> Result<ordered_json> {
             auto filter = stats_filter_from_json(args);
             if (!filter.ok()) return filter.status();
             return Json(m.stats(*filter));
           }});
  return tools;
}

}  // namespace

const std::vector<Tool>& Tools() {
  static const std::vector<Tool> tools = MakeTools();
  return tools;
}

const Tool* FindTool(std::string_view name) {
  for (const auto& t : Tools()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace engram::mcp
