#include "core/swe_agent.h"

#include <fmt/format.h>

#include <cmath>
#include <string_view>

#include "core/openai_chat.h"
#include "core/utf8.h"
#include "core/validation.h"

namespace engram {
namespace {

using nlohmann::json;

std::string Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const size_t end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

// A message's content as text: a string, or the text of its parts.
std::string ContentOf(const json& m) {
  auto c = m.find("content");
  if (c == m.end() || c->is_null()) return "";
  if (c->is_string()) return c->get<std::string>();
  std::string out;
  if (c->is_array()) {
    for (const auto& part : *c) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        if (!out.empty()) out += '\n';
        out += part["text"].get_ref<const std::string&>();
      }
    }
  }
  return out;
}

// The message's role; "" when it has none (or not a string).
std::string RoleOf(const json& m) {
  auto role = m.find("role");
  return role != m.end() && role->is_string() ? role->get<std::string>() : "";
}

bool IsDemonstration(const json& m) {
  if (auto demo = m.find("is_demo"); demo != m.end() && *demo == true) return true;
  auto type = m.find("message_type");
  if (type != m.end() && type->is_string() && *type == "demonstration") return true;
  return ContentOf(m).find("--- DEMONSTRATION ---") != std::string::npos;
}

// The issue in the instance message: after "ISSUE:", up to "INSTRUCTIONS:".
std::string IssueText(const std::string& message) {
  std::string_view text = message;
  if (size_t end = text.find("INSTRUCTIONS:"); end != std::string_view::npos) {
    text = text.substr(0, end);
  }
  if (size_t start = text.find("ISSUE:"); start != std::string_view::npos) {
    text = text.substr(start + 6);
  }
  std::string out = Trim(text);
  return out.empty() ? Trim(message) : out;
}

std::string Field(const json& entry, const char* key, const std::string& where) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  throw Status::InvalidArgument(fmt::format("{}.{} must be a string", where, key));
}

ExecutionStep StepOf(const std::string& command, std::string observation,
                     const std::string& thought, const Limits& limits) {
  ExecutionStep s;
  const std::string action = Trim(command);
  const size_t name_end = action.find_first_of(" \t\r\n");
  s.tool = action.substr(0, name_end);
  s.action = action;
  s.observation = std::move(observation);
  s.success = !ReadsAsError(s.observation);
  if (!thought.empty()) {
    std::string t = StorableText(Trim(thought));
    if (t.size() > limits.max_observation_bytes) {
      t = std::string(Utf8Prefix(t, limits.max_observation_bytes));
    }
    s.metadata["thought"] = std::move(t);
  }
  FitStep(s, limits);
  return s;
}

Result<Episode> Read(const json& traj, const Limits& limits) {
  if (!traj.is_object()) return Status::InvalidArgument("a trajectory must be a JSON object");
  Episode e;
  e.context.tags = {"swe-agent"};
  e.metadata["source"] = "swe-agent";

  const json empty = json::array();
  const json& history = traj.contains("history") ? traj["history"] : empty;
  if (!history.is_array()) return Status::InvalidArgument("history must be a list");
  size_t task_at = history.size();
  for (size_t i = 0; i < history.size(); ++i) {
    const json& m = history[i];
    if (!m.is_object())
      return Status::InvalidArgument(fmt::format("history[{}] must be an object", i));
    if (RoleOf(m) != "user" || IsDemonstration(m)) continue;
    e.task = IssueText(ContentOf(m));
    task_at = i;
    break;
  }
  if (e.task.empty()) {
    return Status::InvalidArgument("the history has no user message with the task");
  }
  e.task = StorableText(std::move(e.task));
  if (e.task.size() > limits.max_task_bytes) {
    e.task = std::string(Utf8Prefix(e.task, limits.max_task_bytes));
  }

  const json& trajectory = traj.contains("trajectory") ? traj["trajectory"] : empty;
  if (!trajectory.is_array()) return Status::InvalidArgument("trajectory must be a list");
  for (size_t i = 0; i < trajectory.size(); ++i) {
    const json& entry = trajectory[i];
    const std::string where = fmt::format("trajectory[{}]", i);
    if (!entry.is_object()) return Status::InvalidArgument(where + " must be an object");
    const std::string action = Field(entry, "action", where);
    if (Trim(action).empty()) return Status::InvalidArgument(where + ".action is empty");
    ExecutionStep s =
        StepOf(action, Field(entry, "observation", where), Field(entry, "thought", where), limits);
    if (auto t = entry.find("execution_time"); t != entry.end() && t->is_number()) {
      const double ms = t->get<double>() * 1000;
      if (std::isfinite(ms) && ms >= 0) {
        s.latency_ms = static_cast<int64_t>(std::min(ms, static_cast<double>(kMaxStepCount)));
      }
    }
    e.steps.push_back(std::move(s));
  }
  if (trajectory.empty()) {
    // Steps from the history: an assistant message with an action, the observation after it.
    for (size_t i = task_at + 1; i < history.size(); ++i) {
      const json& m = history[i];
      const std::string where = fmt::format("history[{}]", i);
      if (!m.is_object() || RoleOf(m) != "assistant" || IsDemonstration(m)) continue;
      const std::string action = Field(m, "action", where);
      if (Trim(action).empty()) continue;
      std::string observation;
      if (i + 1 < history.size() && history[i + 1].is_object() &&
          RoleOf(history[i + 1]) != "assistant") {
        observation = ContentOf(history[i + 1]);
      }
      e.steps.push_back(StepOf(action, std::move(observation), Field(m, "thought", where), limits));
    }
  }

  const json& info = traj.contains("info") ? traj["info"] : json::object();
  if (!info.is_object()) return Status::InvalidArgument("info must be an object");
  if (auto stats = info.find("model_stats"); stats != info.end() && stats->is_object()) {
    for (const char* key :
         {"tokens_sent", "tokens_received", "instance_cost", "total_cost", "api_calls"}) {
      auto v = stats->find(key);
      if (v != stats->end() && v->is_number())
        e.metadata[fmt::format("model_stats.{}", key)] = v->dump();
    }
  }
  std::string submission = Field(info, "submission", "info");
  if (!submission.empty()) {
    submission = StorableText(std::move(submission));
    if (submission.size() > limits.max_observation_bytes) {
      e.metadata["truncated"] = fmt::format("submission was {} bytes", submission.size());
      submission = std::string(Utf8Prefix(submission, limits.max_observation_bytes));
    }
    e.metadata["submission"] = submission;
  }
  const std::string status = StorableText(Trim(Field(info, "exit_status", "info")));
  if (!status.empty()) {
    e.metadata["exit_status"] = status;
    Outcome o;
    if (status == "submitted" && !submission.empty()) {
      o.kind = OutcomeKind::kSuccess;
    } else if (status.rfind("submitted", 0) == 0 && !submission.empty()) {
      o.kind = OutcomeKind::kPartialSuccess;
    } else {
      o.kind = OutcomeKind::kFailure;
    }
    o.summary =
        fmt::format("exit status {}{}", status, submission.empty() ? ", no submission" : "");
    e.status = EpisodeStatus::kCompleted;
    e.outcome = std::move(o);
  }
  return e;
}

}  // namespace

Result<Episode> EpisodeFromSweAgent(const json& trajectory, const Limits& limits) {
  try {
    return Read(trajectory, limits);
  } catch (const Status& s) {
    return s;
  }
}

}  // namespace engram
