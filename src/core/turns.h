// The steps that are turns of a conversation rather than tool calls, as engram's transcript
// importers record them: the assistant's messages and the user's.
#pragma once

#include <string_view>

namespace engram {

inline constexpr std::string_view kAssistantTurnTool = "llm";
inline constexpr std::string_view kUserTurnTool = "user";

inline bool IsConversationTurn(std::string_view tool) {
  return tool == kAssistantTurnTool || tool == kUserTurnTool;
}

}  // namespace engram
