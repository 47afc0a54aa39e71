#include "core/validation.h"

#include <fmt/format.h>

#include "core/timestamp.h"
#include "core/utf8.h"
#include "core/uuid.h"

namespace engram {
namespace {

// Text as every store keeps it: valid UTF-8 without NUL (PostgreSQL's text cannot hold one,
// and a value one store takes must not fail on the other).
Status CheckUtf8(std::string_view field, std::string_view value) {
  if (auto bad = FindInvalidUtf8(value)) {
    return Status::InvalidArgument(fmt::format("{} is not valid UTF-8: byte 0x{:02x} at offset {}",
                                               field, static_cast<unsigned char>(value[*bad]),
                                               *bad));
  }
  if (const size_t nul = value.find('\0'); nul != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format(
        "{} contains a NUL character (U+0000) at offset {}, which engram does not store", field,
        nul));
  }
  return Status::Ok();
}

std::string_view JsonTypeName(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

// Serialises a JSON object (null counts as {}), reporting invalid UTF-8 inside it by field name.
Result<std::string> DumpObject(std::string_view field, const nlohmann::json& j) {
  if (j.is_null() || (j.is_object() && j.empty())) return std::string("{}");
  if (!j.is_object()) {
    return Status::InvalidArgument(
        fmt::format("{} must be a JSON object, got {}", field, JsonTypeName(j)));
  }
  try {
    return j.dump();
  } catch (const nlohmann::json::type_error&) {
    return Status::InvalidArgument(
        fmt::format("{} contains a string that is not valid UTF-8", field));
  }
}

}  // namespace

Status ValidateText(std::string_view field, std::string_view value, size_t limit) {
  if (value.size() > limit) {
    return Status::InvalidArgument(
        fmt::format("{} is {} bytes, limit {} bytes", field, value.size(), limit));
  }
  return CheckUtf8(field, value);
}

void FitToLimit(std::string& text, size_t limit, const char* field, ExecutionStep& step) {
  if (text.size() <= limit) return;
  const std::string note = step.metadata.value("truncated", "");
  step.metadata["truncated"] =
      fmt::format("{}{}{} was {} bytes", note, note.empty() ? "" : "; ", field, text.size());
  text = std::string(Utf8Prefix(text, limit));
}

void FitStep(ExecutionStep& s, const Limits& limits) {
  s.tool = StorableText(std::move(s.tool));
  s.action = StorableText(std::move(s.action));
  s.observation = StorableText(std::move(s.observation));
  if (s.tool.empty()) s.tool = "tool";
  FitToLimit(s.tool, limits.max_tool_bytes, "tool", s);
  FitToLimit(s.action, limits.max_action_bytes, "action", s);
  FitToLimit(s.observation, limits.max_observation_bytes, "observation", s);
}

Status ValidateEpisodeName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("name is empty");
  return ValidateText("name", name, kMaxEpisodeNameBytes);
}

Result<PreparedStep> PrepareStep(ExecutionStep step, const Limits& limits,
                                 std::chrono::system_clock::time_point now) {
  return PrepareStep(std::move(step), limits, FormatTimestamp(now));
}

Result<PreparedStep> PrepareStep(ExecutionStep step, const Limits& limits, std::string_view now) {
  if (step.tool.empty()) return Status::InvalidArgument("tool is empty");
  if (Status s = ValidateText("tool", step.tool, limits.max_tool_bytes); !s.ok()) return s;
  if (Status s = ValidateText("action", step.action, limits.max_action_bytes); !s.ok()) return s;
  if (Status s = ValidateText("observation", step.observation, limits.max_observation_bytes);
      !s.ok()) {
    return s;
  }
  if (step.latency_ms < 0 || step.latency_ms > kMaxStepCount) {
    return Status::InvalidArgument(fmt::format("latency_ms must be an integer from 0 to {}, got {}",
                                               kMaxStepCount, step.latency_ms));
  }
  if (step.tokens && (*step.tokens < 0 || *step.tokens > kMaxStepCount)) {
    return Status::InvalidArgument(fmt::format(
        "tokens must be an integer from 0 to {} or null, got {}", kMaxStepCount, *step.tokens));
  }
  PreparedStep out;
  auto params = DumpObject("parameters", step.parameters);
  if (!params.ok()) return params.status();
  if (params->size() > limits.max_parameters_bytes) {
    return Status::InvalidArgument(fmt::format("parameters is {} bytes, limit {} bytes",
                                               params->size(), limits.max_parameters_bytes));
  }
  out.parameters_json = std::move(*params);
  if (step.parameters.is_null()) step.parameters = nlohmann::json::object();

  if (step.metadata.is_null()) step.metadata = nlohmann::json::object();
  if (!step.metadata.is_object()) {
    return Status::InvalidArgument(
        fmt::format("metadata must be an object of strings, got {}", JsonTypeName(step.metadata)));
  }
  for (const auto& [key, value] : step.metadata.items()) {
    const auto field = fmt::format("metadata[\"{}\"]", key);
    if (Status s = CheckUtf8("metadata key", key); !s.ok()) return s;
    if (!value.is_string()) {
      return Status::InvalidArgument(
          fmt::format("{} must be a string, got {}", field, JsonTypeName(value)));
    }
    const auto& text = value.get_ref<const std::string&>();
    if (Status s = ValidateText(field, text, limits.max_observation_bytes); !s.ok()) return s;
  }
  out.metadata_json = step.metadata.empty() ? "{}" : step.metadata.dump();

  if (step.timestamp.empty()) {
    step.timestamp = now;
  } else {
    auto ts = NormalizeTimestamp("timestamp", step.timestamp);
    if (!ts.ok()) return ts.status();
    step.timestamp = std::move(*ts);
  }
  step.step_number = 0;
  out.step = std::move(step);
  return out;
}

namespace {

Status ValidateTask(std::string_view task, const Limits& limits) {
  if (task.empty()) return Status::InvalidArgument("task is empty");
  return ValidateText("task", task, limits.max_task_bytes);
}

Status ValidateTags(const std::vector<std::string>& tags, const Limits& limits) {
  for (const auto& tag : tags) {
    if (tag.empty()) return Status::InvalidArgument("context.tags contains an empty tag");
    if (Status s = ValidateText("context.tags", tag, limits.max_tool_bytes); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ValidateMetadata(const nlohmann::json& metadata, const Limits& limits) {
  auto meta = DumpObject("metadata", metadata);
  if (!meta.ok()) return meta.status();
  if (meta->size() > limits.max_parameters_bytes) {
    return Status::InvalidArgument(fmt::format("metadata is {} bytes, limit {} bytes", meta->size(),
                                               limits.max_parameters_bytes));
  }
  return Status::Ok();
}

Status ValidateStartedAt(const std::optional<std::string>& started_at) {
  if (!started_at) return Status::Ok();
  return ParseTimestamp("started_at", *started_at).status();
}

}  // namespace

Status ValidateEpisodeSpec(const EpisodeSpec& spec, const Limits& limits) {
  if (Status s = ValidateTask(spec.task, limits); !s.ok()) return s;
  const auto& c = spec.context;
  for (const auto& [field, value] :
       {std::pair{"context.domain", &c.domain}, std::pair{"context.language", &c.language},
        std::pair{"context.framework", &c.framework}}) {
    if (value->has_value()) {
      if (Status s = ValidateText(field, **value, limits.max_tool_bytes); !s.ok()) return s;
    }
  }
  if (Status s = ValidateTags(c.tags, limits); !s.ok()) return s;
  if (Status s = ValidateMetadata(spec.metadata, limits); !s.ok()) return s;
  return ValidateStartedAt(spec.started_at);
}

Status ValidateAmendment(const EpisodeAmendment& a, const Limits& limits) {
  if (a.task) {
    if (Status s = ValidateTask(*a.task, limits); !s.ok()) return s;
  }
  if (a.domain) {
    if (Status s = ValidateText("context.domain", *a.domain, limits.max_tool_bytes); !s.ok()) {
      return s;
    }
  }
  if (Status s = ValidateTags(a.tags, limits); !s.ok()) return s;
  if (Status s = ValidateMetadata(a.metadata, limits); !s.ok()) return s;
  return ValidateStartedAt(a.started_at);
}

Status ValidateOutcome(const Outcome& outcome, const Limits& limits) {
  if (Status s = ValidateText("summary", outcome.summary, limits.max_task_bytes); !s.ok()) {
    return s;
  }
  for (const auto& [field, list] :
       {std::pair{"artifacts", &outcome.artifacts}, std::pair{"completed", &outcome.completed},
        std::pair{"failed", &outcome.failed}}) {
    for (const auto& item : *list) {
      if (Status s = ValidateText(field, item, limits.max_action_bytes); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status ValidateEpisodeId(std::string_view id) {
  if (IsUuid(id)) return Status::Ok();
  return Status::InvalidArgument(fmt::format(
      "episode id \"{}\" is malformed: expected a UUID like 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f",
      id.substr(0, 64)));
}

Result<std::string> NormalizeEpisodeId(std::string_view id) {
  if (Status s = ValidateEpisodeId(id); !s.ok()) return s;
  std::string out(id);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Status ValidatePruneAge(std::string_view field, std::chrono::seconds age) {
  if (age < std::chrono::seconds(0) || age > kMaxPruneAge) {
    return Status::InvalidArgument(fmt::format("{} must be from 0 to {} seconds, got {}", field,
                                               kMaxPruneAge.count(), age.count()));
  }
  return Status::Ok();
}

}  // namespace engram
