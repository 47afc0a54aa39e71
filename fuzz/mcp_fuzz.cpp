// MCP messages as `engram mcp` reads them from stdio: one JSON-RPC message a line, into a
// session on an in-memory store (renewed now and then, so that memory stays flat).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "mcp/session.h"
#include "renewed.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::Renewed<mcp::Session> renewed;
  mcp::Session& session = renewed.Get([](Memory& memory) {
    auto session = std::make_unique<mcp::Session>(memory);
    // Initialized, so that tool calls reach the store.
    (void)session->handle_text(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}})");
    (void)session->handle_text(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    return session;
  });
  auto reply = session.handle_text(std::string_view(reinterpret_cast<const char*>(data), size));
  if (reply && reply->empty()) __builtin_trap();  // a reply is a message
  return 0;
}
