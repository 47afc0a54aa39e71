#include "core/openai_chat.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "core/turns.h"
#include "core/utf8.h"
#include "core/validation.h"
#include "engram/json.h"

namespace engram {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Where a message is, for errors: "messages[3]".
std::string Where(size_t message) {
  return fmt::format("messages[{}]", message);
}

// A message's content as text: a string, null, or a list of parts whose text parts are joined.
Result<std::string> ContentText(const json& m, size_t message) {
  auto it = m.find("content");
  if (it == m.end() || it->is_null()) return std::string();
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    std::string out;
    for (const auto& part : *it) {
      if (part.is_string()) {
        out += (out.empty() ? "" : "\n") + part.get<std::string>();
      } else if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        out += (out.empty() ? "" : "\n") + part["text"].get<std::string>();
      }
    }
    return out;
  }
  return Status::InvalidArgument(
      fmt::format("{}.content must be a string, a list of parts or null", Where(message)));
}

}  // namespace

bool ReadsAsError(std::string_view reply) {
  size_t start = 0;
  while (start < reply.size() && std::isspace(static_cast<unsigned char>(reply[start]))) ++start;
  const std::string head = Lower(reply.substr(start, 2000));
  for (const char* prefix : {"error", "exception", "traceback", "fatal", "failed"}) {
    if (head.rfind(prefix, 0) == 0) return true;
  }
  if (head.find("traceback (most recent call last)") != std::string::npos) return true;
  for (const char* marker : {"error:", "exception:"}) {
    for (size_t pos = head.find(marker); pos != std::string::npos;
         pos = head.find(marker, pos + 1)) {
      if (pos == 0 || !std::isalnum(static_cast<unsigned char>(head[pos - 1]))) return true;
    }
  }
  if (!head.empty() && head.front() == '{') {
    const json j = json::parse(reply, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      if (auto e = j.find("error"); e != j.end() && !e->is_null() && *e != false) return true;
      if (auto e = j.find("is_error"); e != j.end() && *e == true) return true;
    }
  }
  return false;
}

Result<Episode> EpisodeFromOpenAiChat(const json& conversation, const Limits& limits) {
  const json* messages = &conversation;
  Episode e;
  std::optional<Outcome> outcome;
  if (conversation.is_object()) {
    auto m = conversation.find("messages");
    if (m == conversation.end()) return Status::InvalidArgument("conversation has no messages");
    messages = &*m;
    if (auto meta = conversation.find("metadata"); meta != conversation.end() && !meta->is_null()) {
      if (!meta->is_object()) {
        return Status::InvalidArgument("metadata must be an object of strings");
      }
      for (const auto& [k, v] : meta->items()) {
        if (!v.is_string()) {
          return Status::InvalidArgument(
              fmt::format("metadata.{} must be a string, got {}", k, v.dump()));
        }
      }
      e.metadata = *meta;
    }
    if (auto o = conversation.find("outcome"); o != conversation.end() && !o->is_null()) {
      auto parsed = outcome_from_json(*o);
      if (!parsed.ok()) return Status::InvalidArgument("outcome: " + parsed.status().message());
      outcome = std::move(*parsed);
    } else if (auto r = conversation.find("reward"); r != conversation.end() && !r->is_null()) {
      if (!r->is_number() || r->get<double>() < 0 || r->get<double>() > 1) {
        return Status::InvalidArgument(
            fmt::format("reward must be a number from 0 to 1, got {}", r->dump()));
      }
      const double reward = r->get<double>();
      outcome = Outcome{};
      outcome->kind = reward >= 1   ? OutcomeKind::kSuccess
                      : reward <= 0 ? OutcomeKind::kFailure
                                    : OutcomeKind::kPartialSuccess;
      outcome->summary = fmt::format("imported with reward {}", reward);
    }
  } else if (!conversation.is_array()) {
    return Status::InvalidArgument(
        "a conversation must be a list of messages or an object with \"messages\"");
  }
  if (!messages->is_array()) return Status::InvalidArgument("messages must be a list");

  std::map<std::string, std::vector<size_t>> unanswered;  // call id -> steps awaiting a reply
  bool have_task = false;
  std::string system_prompt;          // the system and developer messages, in order
  e.steps.reserve(messages->size());  // a step per message or tool call, about
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    // Built only for an error: most records have none.
    auto where = [i] { return Where(i); };
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      return Status::InvalidArgument(where() + " must be an object with a role");
    }
    const std::string role = m["role"].get<std::string>();
    auto content = ContentText(m, i);
    if (!content.ok()) return content.status();
    if (role == "user") {
      if (have_task) {
        // The user's later turns (an account id, "no, the other flight") are work too.
        ExecutionStep reply;
        reply.tool = kUserTurnTool;
        reply.action = "reply";
        reply.observation = *content;
        FitToLimit(reply.observation, limits.max_observation_bytes, "observation", reply);
        e.steps.push_back(std::move(reply));
      } else {
        e.task = *content;
      }
      have_task = true;
    } else if (role == "system" || role == "developer") {
      if (!content->empty()) system_prompt += (system_prompt.empty() ? "" : "\n\n") + *content;
    } else if (role == "assistant") {
      ExecutionStep llm;
      llm.tool = kAssistantTurnTool;
      std::vector<std::string> called;
      const json* calls = nullptr;
      if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null()) {
        if (!tc->is_array()) return Status::InvalidArgument(where() + ".tool_calls must be a list");
        calls = &*tc;
      }
      std::vector<ExecutionStep> call_steps;
      std::vector<std::string> call_ids;
      for (size_t c = 0; calls && c < calls->size(); ++c) {
        const json& call = (*calls)[c];
        auto cw = [&] { return fmt::format("{}.tool_calls[{}]", where(), c); };
        if (!call.is_object() || !call.contains("function") || !call["function"].is_object() ||
            !call["function"].contains("name") || !call["function"]["name"].is_string()) {
          return Status::InvalidArgument(cw() + " needs function.name");
        }
        const json& fn = call["function"];
        ExecutionStep s;
        s.tool = fn["name"].get<std::string>();
        if (s.tool.empty()) return Status::InvalidArgument(cw() + ".function.name is empty");
        if (auto a = fn.find("arguments"); a != fn.end() && !a->is_null()) {
          s.action = a->is_string() ? a->get<std::string>() : a->dump();
          json args;
          if (!a->is_string()) {
            args = *a;
          } else if (auto parsed = parse_json(s.action); parsed.ok()) {
            args = std::move(*parsed);
          }
          if (args.is_object() && s.action.size() <= limits.max_parameters_bytes) {
            s.parameters = std::move(args);
          }
        }
        FitToLimit(s.action, limits.max_action_bytes, "action", s);
        s.success = false;
        s.metadata["reply"] = "missing";
        called.push_back(s.tool);
        call_ids.push_back(call.contains("id") && call["id"].is_string()
                               ? call["id"].get<std::string>()
                               : std::string());
        call_steps.push_back(std::move(s));
      }
      llm.action = called.empty() ? "reply" : fmt::format("call {}", fmt::join(called, ", "));
      llm.observation = *content;
      FitToLimit(llm.action, limits.max_action_bytes, "action", llm);
      FitToLimit(llm.observation, limits.max_observation_bytes, "observation", llm);
      e.steps.push_back(std::move(llm));
      for (size_t c = 0; c < call_steps.size(); ++c) {
        unanswered[call_ids[c]].push_back(e.steps.size());
        e.steps.push_back(std::move(call_steps[c]));
      }
    } else if (role == "tool") {
      if (!m.contains("tool_call_id") || !m["tool_call_id"].is_string()) {
        return Status::InvalidArgument(where() + " (a tool reply) has no tool_call_id");
      }
      const std::string id = m["tool_call_id"].get<std::string>();
      auto it = unanswered.find(id);
      if (it == unanswered.end() || it->second.empty()) {
        return Status::InvalidArgument(
            fmt::format("{}: tool reply to unknown tool_call_id \"{}\"", where(), id));
      }
      ExecutionStep& s = e.steps[it->second.back()];  // the latest unanswered call of that id
      it->second.pop_back();
      s.metadata.erase("reply");
      s.observation = *content;
      s.success = !ReadsAsError(s.observation);
      FitToLimit(s.observation, limits.max_observation_bytes, "observation", s);
    } else {
      return Status::InvalidArgument(fmt::format(
          "{}.role must be system, developer, user, assistant or tool, got \"{}\"", where(), role));
    }
  }
  if (!have_task) return Status::InvalidArgument("the conversation has no user message");
  if (!system_prompt.empty()) {
    // The agent's instructions, not its work: kept with the episode, not searched or mined.
    if (e.metadata.contains(kSystemPromptKey)) {
      return Status::InvalidArgument(
          fmt::format("metadata.{} is set, and the conversation has a system message of its own",
                      kSystemPromptKey));
    }
    if (system_prompt.size() > limits.max_observation_bytes) {
      // Beside what the record's own metadata says under that key, never over it.
      const std::string said = e.metadata.value("truncated", "");
      e.metadata["truncated"] = fmt::format("{}{}{} was {} bytes", said, said.empty() ? "" : "; ",
                                            kSystemPromptKey, system_prompt.size());
      system_prompt = std::string(Utf8Prefix(system_prompt, limits.max_observation_bytes));
    }
    e.metadata[kSystemPromptKey] = std::move(system_prompt);
  }
  if (outcome) {
    e.status = EpisodeStatus::kCompleted;
    e.outcome = std::move(outcome);
  }
  return e;
}

}  // namespace engram
