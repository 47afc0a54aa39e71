// Claude Code as engram records it: the events its hooks send (engram hook claude-code) and the
// session transcripts it writes (engram import --format claude-code). Both make the same steps
// of the same tool calls; the README's "Claude Code" section has the mapping.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engram/options.h"
#include "engram/status.h"
#include "engram/types.h"

namespace engram::claude_code {

// The episode name a session goes by (Memory::start_named_episode): "claude-code:<session id>".
std::string SessionName(std::string_view session_id);
// The task of a session started before its first prompt, replaced by that prompt.
std::string PendingTask(std::string_view session_id);

// A one-line summary of a tool call's input, the step's action: the Bash command, the file
// path, the pattern searched, the URL, ...; compact JSON for a tool it does not know.
std::string InputSummary(std::string_view tool, const nlohmann::json& input);
// The text of a tool's response: a string as it is; the text blocks of a list of content blocks;
// a Bash result's stdout and stderr; a read file's content; compact JSON for anything else.
std::string ResponseText(const nlohmann::json& response);
// Whether a response reports an error: "is_error" true, "error" set, "interrupted" true, a
// non-zero exit code, "success" false; a text response that reads as an error (ReadsAsError).
bool ResponseFailed(const nlohmann::json& response);

// How a finished session's outcome is judged: failure when its last tool call failed (or was
// interrupted), else success; the summary counts the calls.
Outcome SessionOutcome(const std::vector<ExecutionStep>& steps, std::string_view ended_why);

// One hook event, as Claude Code documents it.
struct HookEvent {
  std::string name;  // hook_event_name
  std::string session_id, transcript_path, cwd;
  std::string prompt;                  // UserPromptSubmit
  std::string tool_name, tool_use_id;  // PreToolUse, PostToolUse, PostToolUseFailure
  nlohmann::json tool_input, tool_response;
  std::string error;         // PostToolUseFailure
  bool interrupted = false;  // PostToolUseFailure's is_interrupt
  std::string agent_type;    // set inside a sub-agent
  std::string reason;        // SessionEnd's reason, SessionStart's source
};
// Reads an event. InvalidArgument naming the field when a field it needs is missing or of the
// wrong type; other fields are ignored.
Result<HookEvent> ReadHookEvent(const nlohmann::json& j);

// The step a PostToolUse or PostToolUseFailure event records, its texts cut to `limits` (the
// cut noted in its metadata), latency_ms left to the caller.
ExecutionStep ToolStep(const HookEvent& e, const Limits& limits);
// The step a later prompt records: tool "user", action "reply", the prompt its observation.
ExecutionStep PromptStep(std::string prompt, const Limits& limits);
// The episode a session starts: the task, and the session's id, cwd and transcript path in its
// metadata.
EpisodeSpec SessionSpec(const HookEvent& e, std::string task, const Limits& limits);

// A session transcript (JSON Lines) read a line at a time into one episode.
class TranscriptReader {
 public:
  explicit TranscriptReader(const Limits& limits) : limits_(limits) {}

  // Reads one line. A line it cannot use is InvalidArgument naming the field (the caller
  // reports it by place); the rest of the transcript is read on. Lines of other types
  // (summary, system, snapshots) hold no steps: their summary is kept in the metadata.
  Status Add(const nlohmann::json& line);
  // The session: completed, its outcome by SessionOutcome. InvalidArgument when no line had
  // user text (no task).
  Result<Episode> Finish();

 private:
  struct PendingCall {
    size_t step;
    std::optional<std::chrono::system_clock::time_point> at;
  };
  Status Read(const nlohmann::json& line);
  Status AddUser(const nlohmann::json& content,
                 std::optional<std::chrono::system_clock::time_point> at, bool sidechain);
  Status AddAssistant(const nlohmann::json& message,
                      std::optional<std::chrono::system_clock::time_point> at, bool sidechain);

  const Limits limits_;
  Episode episode_;
  bool have_task_ = false;
  std::map<std::string, PendingCall> calls_;   // tool_use id -> its step, awaiting a result
  std::map<std::string, size_t> model_turns_;  // message id -> its llm step
  std::optional<std::chrono::system_clock::time_point> first_, last_;
  std::optional<std::chrono::system_clock::time_point> previous_;  // the line before's time
};

}  // namespace engram::claude_code
