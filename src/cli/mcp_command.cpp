// engram mcp: the MCP server over stdio, one JSON-RPC message a line each way.
#include <iostream>
#include <string>

#include "cli/cli.h"
#include "mcp/session.h"

namespace engram::cli {

void AddMcpCommand(CLI::App& app, GlobalFlags& flags) {
  auto* cmd = app.add_subcommand(
      "mcp", "Serve the Model Context Protocol over stdio (register this with an MCP client)");
  cmd->callback([&flags] {
    auto memory = OpenMemory(flags);
    mcp::Session session(*memory);
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (auto reply = session.handle_text(line)) {
        std::cout << *reply << '\n';
        std::cout.flush();
      }
    }
    Check(memory->close());
  });
}

}  // namespace engram::cli
