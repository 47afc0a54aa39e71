#include "mcp/session.h"

#include <fmt/format.h>

#include "engram/json.h"
#include "mcp/tools.h"

namespace engram::mcp {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;

ordered_json Error(const json& id, int code, std::string message) {
  return {
      {"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::move(message)}}}};
}

ordered_json Reply(const json& id, ordered_json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

bool ValidId(const json& id) {
  return id.is_string() || id.is_number_integer() || id.is_number_unsigned();
}

}  // namespace

std::string StringField(const json& j, const char* key) {
  if (!j.is_object()) return "";
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string Session::ParseErrorReply(const std::string& why) {
  return Error(nullptr, kParseError, "Parse error: " + why)
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::string> Session::handle_text(std::string_view text) {
  auto message = parse_json(text);
  if (!message.ok()) return ParseErrorReply("the message is " + message.status().message());
  auto reply = handle(std::move(*message));
  if (!reply) return std::nullopt;
  return reply->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<ordered_json> Session::handle(json message) {
  if (message.is_array()) {
    // Batches exist in 2025-03-26 only.
    if (protocol_version() != "2025-03-26" || message.empty()) {
      return Error(nullptr, kInvalidRequest, "Invalid Request: batches are not supported");
    }
    ordered_json replies = ordered_json::array();
    for (auto& m : message) {
      if (auto r = handle(std::move(m))) replies.push_back(std::move(*r));
    }
    if (replies.empty()) return std::nullopt;
    return replies;
  }
  if (!message.is_object() || StringField(message, "jsonrpc") != "2.0") {
    return Error(nullptr, kInvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message");
  }
  const auto method_it = message.find("method");
  const auto id_it = message.find("id");
  const bool has_id = id_it != message.end();
  if (method_it == message.end()) {
    // A response to a request of ours (engram sends none) or garbage.
    if (has_id && (message.contains("result") || message.contains("error"))) return std::nullopt;
    return Error(has_id ? *id_it : json(nullptr), kInvalidRequest, "Invalid Request: no method");
  }
  if (!method_it->is_string()) {
    return Error(has_id ? *id_it : json(nullptr), kInvalidRequest,
                 "Invalid Request: method must be a string");
  }
  const std::string& method = method_it->get_ref<const std::string&>();
  if (!has_id) {  // a notification: never answered
    if (method == "notifications/initialized") initialized_ = true;
    return std::nullopt;
  }
  const json& id = *id_it;
  if (!ValidId(id))
    return Error(nullptr, kInvalidRequest, "Invalid Request: id must be a string or an integer");
  json no_params = json::object();
  const auto params_it = message.find("params");
  json& params = params_it == message.end() ? no_params : *params_it;
  if (!params.is_object())
    return Error(id, kInvalidParams, "Invalid params: params must be an object");

  if (method == "initialize") return Reply(id, Initialize(params));
  if (method == "ping") return Reply(id, ordered_json::object());
  if (method == "tools/list") return Reply(id, ListTools());
  if (method == "tools/call") {
    auto result = CallTool(params);
    if (!result.ok()) return Error(id, kInvalidParams, result.status().message());
    return Reply(id, std::move(*result));
  }
  return Error(id, kMethodNotFound, fmt::format("Method not found: {}", method));
}

ordered_json Session::Initialize(const json& params) {
  const std::string asked = StringField(params, "protocolVersion");
  const char* agreed = kProtocolVersions[0];
  for (const char* v : kProtocolVersions) {
    if (asked == v) agreed = v;
  }
  version_ = agreed;
  return {{"protocolVersion", agreed},
          {"capabilities", {{"tools", {{"listChanged", false}}}}},
          {"serverInfo", {{"name", "engram"}, {"version", ENGRAM_VERSION}}},
          {"instructions",
           "engram is your episodic memory. At the start of a task call recall with the task, "
           "then start_episode; log every tool call as a step as it happens (log_steps for "
           "bursts); finish with complete_episode and the outcome, so the next task can learn "
           "from this one."}};
}

bool Session::Structured() const {
  const std::string v = protocol_version();
  return v != "2024-11-05" && v != "2025-03-26";
}

ordered_json Session::ListTools() const {
  ordered_json tools = ordered_json::array();
  for (const auto& t : Tools()) {
    ordered_json tool = {
        {"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}};
    if (Structured()) {
      tool["title"] = t.title;
      tool["outputSchema"] = t.output_schema;
    }
    tools.push_back(std::move(tool));
  }
  return {{"tools", std::move(tools)}};
}

Result<ordered_json> Session::CallTool(json& params) {
  const auto name = params.find("name");
  if (name == params.end() || !name->is_string()) {
    return Status::InvalidArgument("Invalid params: name must be a string");
  }
  const Tool* tool = FindTool(name->get_ref<const std::string&>());
  if (!tool) {
    return Status::InvalidArgument(fmt::format("Invalid params: unknown tool {}", name->dump()));
  }
  json no_arguments = json::object();
  const auto args_it = params.find("arguments");
  json& args = args_it == params.end() ? no_arguments : *args_it;
  if (!args.is_object()) {
    return Status::InvalidArgument("Invalid params: arguments must be an object");
  }
  Result<ordered_json> out = [&]() -> Result<ordered_json> {
    try {
      return tool->call(memory_, args);
    } catch (const std::exception& e) {  // a JSON value of an unexpected shape
      return Status::InvalidArgument(e.what());
    }
  }();
  if (!out.ok()) {
    return ordered_json{{"content", {{{"type", "text"}, {"text", out.status().message()}}}},
                        {"isError", true}};
  }
  std::string text = out->dump(2, ' ', false, json::error_handler_t::replace);
  ordered_json result = {{"content", {{{"type", "text"}, {"text", std::move(text)}}}},
                         {"isError", false}};
  if (Structured()) result["structuredContent"] = std::move(*out);
  return result;
}

}  // namespace engram::mcp
