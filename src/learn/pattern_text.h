// Patterns as people read them: what the doors print and the playbook says.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace engram {

// A pattern description's list of tools (`tools` of a tool_sequence, `recovery` of an
// error_recovery) as people read it: "cargo > claude > cargo". Empty when there is none.
std::string JoinTools(const nlohmann::json& description, const char* field);

}  // namespace engram
