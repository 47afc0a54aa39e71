// One MCP session: JSON-RPC 2.0 messages in, replies out, whatever carries them (stdio lines or
// Streamable HTTP posts).
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engram/memory.h"

namespace engram::mcp {

// The protocol versions engram speaks, newest first.
inline constexpr const char* kProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                    "2024-11-05"};

// The string at `key` of the object `j`; "" when `j` is not an object, or the key is absent or
// holds something else (json::value would throw on the last).
std::string StringField(const nlohmann::json& j, const char* key);

class Session {
 public:
  explicit Session(Memory& memory) : memory_(memory) {}

  // One message as received. The reply to send back, if the message wants one: none for
  // notifications and responses. Malformed JSON gets -32700, an invalid request -32600, an
  // unknown method -32601, bad params -32602; a failing tool is a result with isError: true.
  std::optional<std::string> handle_text(std::string_view text);
  // The reply to a message that cannot be read: JSON-RPC's parse error (-32700), "Parse error: "
  // and `why`, with a null id.
  static std::string ParseErrorReply(const std::string& why);
  // One parsed message. Its parts are moved into the call (a step's texts into the step), so
  // nothing of it is copied; the reply keeps its fields in the order the tool made them.
  std::optional<nlohmann::ordered_json> handle(nlohmann::json message);

  // The version agreed at initialize (the newest before that).
  std::string protocol_version() const { return version_.load(); }
  bool initialized() const { return initialized_.load(); }

 private:
  nlohmann::ordered_json Initialize(const nlohmann::json& params);
  nlohmann::ordered_json ListTools() const;
  // A tools/call result, or the JSON-RPC error (InvalidArgument: -32602, its message) when the
  // call cannot be made; a failing tool is a result with isError: true.
  Result<nlohmann::ordered_json> CallTool(nlohmann::json& params);
  // Structured output (outputSchema, structuredContent) exists from 2025-06-18 on.
  bool Structured() const;

  Memory& memory_;
  // Atomic: over HTTP, one session's requests may be handled on several threads at once.
  std::atomic<const char*> version_ = kProtocolVersions[0];  // one of kProtocolVersions
  std::atomic<bool> initialized_ = false;
};

}  // namespace engram::mcp
