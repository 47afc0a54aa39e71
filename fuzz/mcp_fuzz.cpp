// MCP messages as `engram mcp` reads them from stdio: one JSON-RPC message a line, into a
// session on an in-memory store (renewed now and then, so that memory stays flat).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "engram/engram.h"
#include "mcp/session.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<Memory> memory;
  static std::unique_ptr<mcp::Session> session;
  static int runs = 0;
  if (!memory || ++runs % 5000 == 0) {
    session.reset();
    memory.reset();
    auto opened = Memory::open("sqlite://:memory:");
    if (!opened.ok()) __builtin_trap();
    memory = std::move(*opened);
    session = std::make_unique<mcp::Session>(*memory);
    // Initialized, with an episode to act on, so that tool calls reach the store.
    (void)session->handle_text(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}})");
    (void)session->handle_text(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }
  auto reply = session->handle_text(std::string_view(reinterpret_cast<const char*>(data), size));
  if (reply && reply->empty()) __builtin_trap();  // a reply is a message
  return 0;
}
