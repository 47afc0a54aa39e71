// Agent transcripts in the OpenAI chat messages format, read as episodes to import.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "engram/options.h"
#include "engram/status.h"
#include "engram/types.h"

namespace engram {

// The episode metadata key that holds a conversation's system and developer messages.
inline constexpr const char* kSystemPromptKey = "system_prompt";

// One conversation: a bare list of messages, or {"messages": [...], "reward": number,
// "outcome": Outcome, "metadata": {string: string}} (all but messages optional; other fields
// are ignored). Nothing in the messages is dropped. The first user message, verbatim, is the
// task; each later user message is a step with tool "user" (action "reply", observation its
// text); the system and developer messages, joined by blank lines, are the episode's metadata
// "system_prompt" (instructions, not work: not steps, so not searched or mined); each assistant
// message is a step with tool "llm"; each tool call paired with its reply (the latest unanswered
// call with the reply's tool_call_id) is a step: tool = function name, action = the arguments
// (parameters too, when they are a JSON object), observation = the reply, success = the reply does
// not read as an error (ReadsAsError). A call without reply is a failed step with metadata
// {"reply": "missing"}. An action or observation over its limit is cut to the limit on a UTF-8
// boundary and marked in the step's metadata ("truncated"). A reward (1 success, 0 failure,
// between partial) or an outcome makes the episode completed; without either it stays open.
// Errors name the message: "messages[4]: tool reply to unknown tool_call_id \"call_9\"".
Result<Episode> EpisodeFromOpenAiChat(const nlohmann::json& conversation, const Limits& limits);

// Whether a tool reply reads as an error: it begins with error, exception, traceback, fatal or
// failed (any case), contains "Traceback (most recent call last)" or "error:" / "exception:"
// at a word start, or is a JSON object with a non-null "error" or "is_error": true.
bool ReadsAsError(std::string_view reply);

}  // namespace engram
