// The MCP tools engram offers an agent: their names, descriptions and JSON Schemas, and what
// calling each does. Independent of the transport (stdio or Streamable HTTP).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engram/memory.h"

namespace engram::mcp {

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema;
  nlohmann::json output_schema;
  // The structured result, or the error an agent is shown (isError: true). The arguments are
  // the call's to take apart.
  std::function<Result<nlohmann::ordered_json>(Memory&, nlohmann::json& arguments)> call;
};

// Every tool, in the order tools/list gives them.
const std::vector<Tool>& Tools();

// The tool with this name; nullptr when there is none.
const Tool* FindTool(std::string_view name);

}  // namespace engram::mcp
