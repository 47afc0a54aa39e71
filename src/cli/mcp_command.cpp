// engram mcp: the MCP server over stdio, one JSON-RPC message a line each way.
#include <iostream>
#include <string>

#include "cli/cli.h"
#include "cli/line_reader.h"
#include "mcp/session.h"

namespace engram::cli {

void AddMcpCommand(CLI::App& app, GlobalFlags& flags) {
  auto* cmd = app.add_subcommand(
      "mcp", "Serve the Model Context Protocol over stdio (register this with an MCP client)");
  cmd->callback([&flags] {
    auto memory = OpenMemory(flags);
    mcp::Session session(*memory);
    std::ios::sync_with_stdio(false);
    InputLine line;
    while (ReadLine(std::cin, line)) {
      if (line.too_long) {
        // Refused by its size, unread: its id is not known.
        std::cout << mcp::Session::ParseErrorReply("the message is " + TooLong(line)) << '\n';
        std::cout.flush();
        continue;
      }
      if (line.text.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (auto reply = session.handle_text(line.text)) {
        std::cout << *reply << '\n';
        std::cout.flush();
      }
    }
    Check(memory->close());
  });
}

}  // namespace engram::cli
