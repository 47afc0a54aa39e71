#include "core/claude_code.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/openai_chat.h"
#include "core/timestamp.h"
#include "core/turns.h"
#include "core/utf8.h"
#include "core/validation.h"

namespace engram::claude_code {
namespace {

using nlohmann::json;

std::string Compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The string at `key`, "" when absent or not a string.
std::string StringAt(const json& j, std::string_view key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// A line of a summary: its first line, with " …" when there was more.
std::string OneLine(std::string text) {
  const size_t end = text.find('\n');
  if (end == std::string::npos) return text;
  text.resize(end);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text + " …";
}

// The text of a list of content blocks (or a string): text blocks joined by new lines; other
// blocks (images) named.
std::string BlocksText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return content.is_null() ? "" : Compact(content);
  std::string out;
  for (const auto& block : content) {
    std::string part;
    if (block.is_string()) {
      part = block.get<std::string>();
    } else if (block.is_object() && block.contains("text") && block["text"].is_string()) {
      part = block["text"].get<std::string>();
    } else if (block.is_object() && block.contains("type") && block["type"].is_string()) {
      part = fmt::format("[{}]", block["type"].get<std::string>());
    }
    if (part.empty()) continue;
    if (!out.empty()) out += '\n';
    out += part;
  }
  return out;
}

void Mark(ExecutionStep& s, bool sidechain) {
  if (sidechain) s.metadata["sidechain"] = "true";
}

std::optional<std::chrono::system_clock::time_point> TimeOf(const json& line) {
  const std::string text = StringAt(line, "timestamp");
  if (text.empty()) return std::nullopt;
  auto t = ParseTimestamp("timestamp", text);
  if (!t.ok()) return std::nullopt;
  return *t;
}

int64_t MillisBetween(std::optional<std::chrono::system_clock::time_point> from,
                      std::optional<std::chrono::system_clock::time_point> to) {
  if (!from || !to || *to < *from) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*to - *from).count();
}

// Parameters: the tool's input when it is an object that fits.
void SetParameters(ExecutionStep& s, const json& input, const Limits& limits) {
  if (!input.is_object()) return;
  if (Compact(input).size() <= limits.max_parameters_bytes) s.parameters = input;
}

}  // namespace

std::string SessionName(std::string_view session_id) {
  return fmt::format("claude-code:{}", session_id);
}

std::string PendingTask(std::string_view session_id) {
  return fmt::format("Claude Code session {}", session_id);
}

std::string InputSummary(std::string_view tool, const json& input) {
  if (!input.is_object()) return input.is_null() ? std::string(tool) : OneLine(Compact(input));
  // The field that says what the call is about, by the tool's own words for it.
  for (const char* key : {"command", "file_path", "notebook_path", "pattern", "url", "query",
                          "path", "description", "prompt", "skill"}) {
    std::string value = StringAt(input, key);
    if (value.empty()) continue;
    if (std::string_view(key) == "pattern") {
      const std::string where = StringAt(input, "path");
      if (!where.empty()) value += " in " + where;
    }
    return OneLine(std::move(value));
  }
  if (auto todos = input.find("todos"); todos != input.end() && todos->is_array()) {
    return fmt::format("{} todo(s)", todos->size());
  }
  return OneLine(Compact(input));
}

std::string ResponseText(const json& response) {
  if (response.is_string()) return response.get<std::string>();
  if (response.is_array()) return BlocksText(response);
  if (!response.is_object()) return response.is_null() ? "" : Compact(response);
  const std::string out = StringAt(response, "stdout"), err = StringAt(response, "stderr");
  if (response.contains("stdout") || response.contains("stderr")) {
    return out.empty() || err.empty() ? out + err : out + "\n" + err;
  }
  if (auto file = response.find("file"); file != response.end() && file->is_object()) {
    if (std::string content = StringAt(*file, "content"); !content.empty()) return content;
  }
  for (const char* key : {"content", "output", "result", "text", "message", "error"}) {
    auto it = response.find(key);
    if (it == response.end() || it->is_null()) continue;
    std::string text = BlocksText(*it);
    if (!text.empty()) return text;
  }
  return Compact(response);
}

bool ResponseFailed(const json& response) {
  if (response.is_string()) return ReadsAsError(response.get<std::string>());
  if (!response.is_object()) return false;
  if (auto e = response.find("is_error"); e != response.end() && *e == true) return true;
  if (auto e = response.find("interrupted"); e != response.end() && *e == true) return true;
  if (auto e = response.find("success"); e != response.end() && *e == false) return true;
  if (auto e = response.find("error");
      e != response.end() && !e->is_null() && *e != false && *e != "") {
    return true;
  }
  for (const char* key : {"exitCode", "exit_code", "returncode", "returnCode"}) {
    auto it = response.find(key);
    if (it != response.end() && it->is_number_integer() && *it != 0) return true;
  }
  return false;
}

Outcome SessionOutcome(const std::vector<ExecutionStep>& steps, std::string_view ended_why) {
  int64_t calls = 0, failed = 0;
  const ExecutionStep* last = nullptr;
  for (const ExecutionStep& s : steps) {
    if (IsConversationTurn(s.tool)) continue;
    ++calls;
    if (!s.success) ++failed;
    last = &s;
  }
  Outcome o;
  o.kind = last && !last->success ? OutcomeKind::kFailure : OutcomeKind::kSuccess;
  o.summary = fmt::format("session ended{}; {} tool call(s), {} failed{}",
                          ended_why.empty() ? "" : fmt::format(" ({})", ended_why), calls, failed,
                          last && !last->success ? ", the last one among them" : "");
  return o;
}

Result<HookEvent> ReadHookEvent(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a hook event must be a JSON object");
  HookEvent e;
  auto text = [&](const char* key, std::string& out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) return Status::InvalidArgument(fmt::format("{} is missing", key));
      return Status::Ok();
    }
    if (!it->is_string()) {
      return Status::InvalidArgument(
          fmt::format("{} must be a string, got {}", key, ClipLine(Compact(*it), 60)));
    }
    out = it->get<std::string>();
    if (required && out.empty()) return Status::InvalidArgument(fmt::format("{} is empty", key));
    return Status::Ok();
  };
  for (auto [key, out, required] :
       {std::tuple{"hook_event_name", &e.name, true}, std::tuple{"session_id", &e.session_id, true},
        std::tuple{"transcript_path", &e.transcript_path, false}, std::tuple{"cwd", &e.cwd, false},
        std::tuple{"agent_type", &e.agent_type, false}}) {
    if (Status s = text(key, *out, required); !s.ok()) return s;
  }
  const bool tool_event =
      e.name == "PreToolUse" || e.name == "PostToolUse" || e.name == "PostToolUseFailure";
  if (e.name == "UserPromptSubmit") {
    if (Status s = text("prompt", e.prompt, false); !s.ok()) return s;
  } else if (tool_event) {
    if (Status s = text("tool_name", e.tool_name, true); !s.ok()) return s;
    if (Status s = text("tool_use_id", e.tool_use_id, false); !s.ok()) return s;
    if (auto it = j.find("tool_input"); it != j.end()) e.tool_input = *it;
    if (auto it = j.find("tool_response"); it != j.end()) e.tool_response = *it;
    if (e.name == "PostToolUseFailure") {
      if (auto it = j.find("error"); it != j.end() && !it->is_null()) {
        e.error = it->is_string() ? it->get<std::string>() : Compact(*it);
      }
      if (auto it = j.find("is_interrupt"); it != j.end()) e.interrupted = *it == true;
    }
  } else if (e.name == "SessionEnd") {
    if (Status s = text("reason", e.reason, false); !s.ok()) return s;
  } else if (e.name == "SessionStart") {
    if (Status s = text("source", e.reason, false); !s.ok()) return s;
  }
  return e;
}

ExecutionStep ToolStep(const HookEvent& e, const Limits& limits) {
  ExecutionStep s;
  s.tool = e.tool_name;  // MCP tools (mcp__server__tool) keep their full name
  s.action = InputSummary(e.tool_name, e.tool_input);
  SetParameters(s, e.tool_input, limits);
  if (e.name == "PostToolUseFailure") {
    s.success = false;
    s.observation = e.error.empty() && e.interrupted ? "interrupted" : e.error;
    if (e.interrupted) s.metadata["interrupted"] = "true";
  } else {
    s.observation = ResponseText(e.tool_response);
    s.success = !ResponseFailed(e.tool_response);
  }
  if (!e.tool_use_id.empty()) s.metadata["tool_use_id"] = StorableText(e.tool_use_id);
  if (!e.agent_type.empty()) s.metadata["agent_type"] = StorableText(e.agent_type);
  FitStep(s, limits);
  return s;
}

ExecutionStep PromptStep(std::string prompt, const Limits& limits) {
  ExecutionStep s;
  s.tool = std::string(kUserTurnTool);
  s.action = "reply";
  s.observation = std::move(prompt);
  FitStep(s, limits);
  return s;
}

EpisodeSpec SessionSpec(const HookEvent& e, std::string task, const Limits& limits) {
  EpisodeSpec spec;
  spec.task = StorableText(std::move(task));
  if (spec.task.size() > limits.max_task_bytes) {
    spec.task = std::string(Utf8Prefix(spec.task, limits.max_task_bytes));
  }
  spec.task_type = TaskType::kOther;
  spec.context.tags = {"claude-code"};
  spec.metadata = json::object();
  spec.metadata["session_id"] = StorableText(e.session_id);
  if (!e.cwd.empty()) spec.metadata["cwd"] = StorableText(e.cwd);
  if (!e.transcript_path.empty())
    spec.metadata["transcript_path"] = StorableText(e.transcript_path);
  return spec;
}

Status TranscriptReader::Add(const json& line) {
  Status s = Read(line);
  if (auto at = TimeOf(line)) previous_ = at;
  return s;
}

Status TranscriptReader::Read(const json& line) {
  if (!line.is_object()) return Status::InvalidArgument("a transcript line must be a JSON object");
  const std::string type = StringAt(line, "type");
  if (type.empty()) return Status::InvalidArgument("type is missing");
  const auto at = TimeOf(line);
  if (at) {
    if (!first_ || *at < *first_) first_ = at;
    if (!last_ || *at > *last_) last_ = at;
  }
  json& meta = episode_.metadata;
  for (const auto& [from, to] :
       {std::pair{"sessionId", "session_id"}, std::pair{"cwd", "cwd"},
        std::pair{"gitBranch", "git_branch"}, std::pair{"version", "claude_code_version"}}) {
    if (std::string v = StringAt(line, from); !v.empty() && !meta.contains(to)) {
      meta[to] = StorableText(std::move(v));
    }
  }
  if (type == "summary") {
    if (std::string v = StringAt(line, "summary"); !v.empty()) {
      meta["summary"] = StorableText(std::move(v));
    }
    return Status::Ok();
  }
  if (type != "user" && type != "assistant") return Status::Ok();  // no steps in it
  auto m = line.find("message");
  if (m == line.end() || !m->is_object()) {
    return Status::InvalidArgument(fmt::format("a \"{}\" line needs a message object", type));
  }
  const bool sidechain = line.contains("isSidechain") && line["isSidechain"] == true;
  if (type == "user") {
    auto content = m->find("content");
    if (content == m->end()) return Status::InvalidArgument("message.content is missing");
    const bool meta_line = line.contains("isMeta") && line["isMeta"] == true;
    if (meta_line && content->is_string()) return Status::Ok();  // Claude Code's own notes
    return AddUser(*content, at, sidechain);
  }
  return AddAssistant(*m, at, sidechain);
}

Status TranscriptReader::AddUser(const json& content,
                                 std::optional<std::chrono::system_clock::time_point> at,
                                 bool sidechain) {
  std::string text;
  if (content.is_string()) {
    text = content.get<std::string>();
  } else if (content.is_array()) {
    for (size_t i = 0; i < content.size(); ++i) {
      const json& block = content[i];
      const std::string type = StringAt(block, "type");
      if (type == "text") {
        if (!text.empty()) text += '\n';
        text += StringAt(block, "text");
      } else if (type == "tool_result") {
        const std::string id = StringAt(block, "tool_use_id");
        auto call = calls_.find(id);
        if (call == calls_.end()) {
          return Status::InvalidArgument(
              fmt::format("message.content[{}]: a tool_result for unknown tool_use_id \"{}\"", i,
                          ClipLine(id, 80)));
        }
        ExecutionStep& s = episode_.steps[call->second.step];
        s.metadata.erase("reply");
        const json empty;
        s.observation =
            StorableText(BlocksText(block.contains("content") ? block["content"] : empty));
        s.success = !(block.contains("is_error") && block["is_error"] == true);
        s.latency_ms = MillisBetween(call->second.at, at);
        FitToLimit(s.observation, limits_.max_observation_bytes, "observation", s);
        calls_.erase(call);
      }
    }
  } else {
    return Status::InvalidArgument("message.content must be a string or a list of blocks");
  }
  if (text.empty()) return Status::Ok();
  if (!have_task_ && !sidechain) {
    episode_.task = StorableText(std::move(text));
    if (episode_.task.size() > limits_.max_task_bytes) {
      episode_.task = std::string(Utf8Prefix(episode_.task, limits_.max_task_bytes));
    }
    have_task_ = !episode_.task.empty();
    return Status::Ok();
  }
  ExecutionStep s = PromptStep(std::move(text), limits_);
  if (at) s.timestamp = FormatTimestamp(*at);
  Mark(s, sidechain);
  episode_.steps.push_back(std::move(s));
  return Status::Ok();
}

Status TranscriptReader::AddAssistant(const json& message,
                                      std::optional<std::chrono::system_clock::time_point> at,
                                      bool sidechain) {
  auto content = message.find("content");
  if (content == message.end()) return Status::InvalidArgument("message.content is missing");
  // Claude Code writes a model turn as several lines, one per block, each with the turn's id
  // and usage: one llm step per turn, its tokens counted once.
  const std::string id = StringAt(message, "id");
  size_t llm;
  if (auto it = model_turns_.find(id); !id.empty() && it != model_turns_.end()) {
    llm = it->second;
  } else {
    ExecutionStep s;
    s.tool = std::string(kAssistantTurnTool);
    s.action = StringAt(message, "model");
    if (s.action.empty()) s.action = "reply";
    if (at) s.timestamp = FormatTimestamp(*at);
    s.latency_ms = MillisBetween(previous_, at);  // the model's time since the line before
    if (auto usage = message.find("usage"); usage != message.end() && usage->is_object()) {
      int64_t tokens = 0;
      bool any = false;
      for (const char* key : {"input_tokens", "cache_creation_input_tokens",
                              "cache_read_input_tokens", "output_tokens"}) {
        auto n = usage->find(key);
        if (n == usage->end() || !n->is_number_integer() || n->get<int64_t>() < 0) continue;
        tokens = std::min(tokens + std::min(n->get<int64_t>(), kMaxStepCount), kMaxStepCount);
        any = true;
      }
      if (any) s.tokens = tokens;
    }
    Mark(s, sidechain);
    llm = episode_.steps.size();
    episode_.steps.push_back(std::move(s));
    if (!id.empty()) model_turns_[id] = llm;
  }
  std::vector<std::string> called;
  if (content->is_string()) {
    std::string& obs = episode_.steps[llm].observation;
    obs += (obs.empty() ? "" : "\n") + content->get<std::string>();
  } else if (content->is_array()) {
    for (size_t i = 0; i < content->size(); ++i) {
      const json& block = (*content)[i];
      const std::string type = StringAt(block, "type");
      if (type == "text") {
        std::string& obs = episode_.steps[llm].observation;
        obs += (obs.empty() ? "" : "\n") + StringAt(block, "text");
      } else if (type == "tool_use") {
        const std::string call_id = StringAt(block, "id");
        const std::string name = StringAt(block, "name");
        if (name.empty()) {
          return Status::InvalidArgument(
              fmt::format("message.content[{}]: a tool_use without a name", i));
        }
        const json input = block.contains("input") ? block["input"] : json();
        ExecutionStep s;
        s.tool = name;
        s.action = InputSummary(name, input);
        SetParameters(s, input, limits_);
        s.success = false;  // until its result says otherwise
        s.metadata["reply"] = "missing";
        if (!call_id.empty()) s.metadata["tool_use_id"] = StorableText(call_id);
        if (at) s.timestamp = FormatTimestamp(*at);
        Mark(s, sidechain);
        FitStep(s, limits_);
        called.push_back(s.tool);
        calls_[call_id] = PendingCall{episode_.steps.size(), at};
        episode_.steps.push_back(std::move(s));
      }
    }
  }
  ExecutionStep& turn = episode_.steps[llm];
  if (!called.empty() && turn.observation.empty()) {
    turn.observation = fmt::format("call {}", fmt::join(called, ", "));
  }
  turn.observation = StorableText(std::move(turn.observation));
  FitToLimit(turn.observation, limits_.max_observation_bytes, "observation", turn);
  return Status::Ok();
}

Result<Episode> TranscriptReader::Finish() {
  if (!have_task_) return Status::InvalidArgument("the transcript has no user text (no task)");
  Episode e = std::move(episode_);
  e.metadata["source"] = "claude-code";
  if (first_) e.started_at = FormatTimestamp(*first_);
  if (last_) e.ended_at = FormatTimestamp(*last_);
  e.context.tags = {"claude-code"};
  e.status = EpisodeStatus::kCompleted;
  e.outcome = SessionOutcome(e.steps, "transcript imported");
  return e;
}

}  // namespace engram::claude_code
