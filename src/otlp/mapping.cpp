#include "otlp/mapping.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "core/timestamp.h"
#include "core/utf8.h"
#include "core/validation.h"

namespace engram::otlp {
namespace {

using nlohmann::json;

json ToJson(const common::AnyValue& v) {
  switch (v.value_case()) {
    case common::AnyValue::kStringValue:
      return v.string_value();
    case common::AnyValue::kBoolValue:
      return v.bool_value();
    case common::AnyValue::kIntValue:
      return v.int_value();
    case common::AnyValue::kDoubleValue:
      return v.double_value();
    case common::AnyValue::kArrayValue: {
      json out = json::array();
      for (const auto& item : v.array_value().values()) out.push_back(ToJson(item));
      return out;
    }
    case common::AnyValue::kKvlistValue: {
      json out = json::object();
      for (const auto& kv : v.kvlist_value().values()) out[kv.key()] = ToJson(kv.value());
      return out;
    }
    case common::AnyValue::kBytesValue:
      return HexId(v.bytes_value());
    default:
      return nullptr;
  }
}

const common::AnyValue* Find(const google::protobuf::RepeatedPtrField<common::KeyValue>& attributes,
                             std::string_view key) {
  for (const auto& kv : attributes) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

std::optional<int64_t> IntAttribute(const trace::Span& span, std::string_view key) {
  const common::AnyValue* v = Find(span.attributes(), key);
  if (!v) return std::nullopt;
  if (v->value_case() == common::AnyValue::kIntValue) return v->int_value();
  if (v->value_case() == common::AnyValue::kDoubleValue && v->double_value() >= 0 &&
      v->double_value() < 9e15) {
    return static_cast<int64_t>(v->double_value());
  }
  if (v->value_case() == common::AnyValue::kStringValue) {
    try {
      size_t used = 0;
      const int64_t n = std::stoll(v->string_value(), &used);
      if (used == v->string_value().size()) return n;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

// The text parts of a message ({"role", "parts": [{"type": "text", "content"}]}, or a legacy
// {"role", "content": "..."}), joined by new lines.
std::string TextOf(const json& message) {
  if (!message.is_object()) return "";
  if (auto c = message.find("content"); c != message.end() && c->is_string()) return *c;
  std::string out;
  if (auto parts = message.find("parts"); parts != message.end() && parts->is_array()) {
    for (const auto& part : *parts) {
      if (!part.is_object() || part.value("type", "") != "text") continue;
      auto content = part.find("content");
      if (content == part.end() || !content->is_string()) continue;
      if (!out.empty()) out += '\n';
      out += content->get<std::string>();
    }
  }
  return out;
}

}  // namespace

SpanRole RoleOf(const trace::Span& span) {
  const auto op = Attribute(span, "gen_ai.operation.name");
  if (!op) return SpanRole::kOther;
  if (*op == "execute_tool") return SpanRole::kTool;
  if (*op == "chat" || *op == "text_completion" || *op == "generate_content") {
    return SpanRole::kModel;
  }
  return SpanRole::kOther;
}

bool IsGenAi(const trace::Span& span) {
  for (const auto& kv : span.attributes()) {
    if (kv.key().rfind("gen_ai.", 0) == 0) return true;
  }
  return false;
}

std::optional<std::string> Attribute(
    const google::protobuf::RepeatedPtrField<common::KeyValue>& attributes, std::string_view key) {
  const common::AnyValue* v = Find(attributes, key);
  if (!v || v->value_case() == common::AnyValue::VALUE_NOT_SET) return std::nullopt;
  if (v->value_case() == common::AnyValue::kStringValue) return StorableText(v->string_value());
  return ToJson(*v).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::string> Attribute(const trace::Span& span, std::string_view key) {
  return Attribute(span.attributes(), key);
}

json JsonAttribute(const trace::Span& span, std::string_view key) {
  const common::AnyValue* v = Find(span.attributes(), key);
  if (!v) return nullptr;
  if (v->value_case() == common::AnyValue::kStringValue) {
    json parsed = json::parse(v->string_value(), nullptr, /*allow_exceptions=*/false);
    return parsed.is_discarded() ? json(v->string_value()) : parsed;
  }
  return ToJson(*v);
}

bool Failed(const trace::Span& span) {
  return span.status().code() == trace::Status::STATUS_CODE_ERROR ||
         Attribute(span, "error.type").has_value();
}

std::string SpanTime(uint64_t unix_nano) {
  constexpr uint64_t kYear2262 = 9'214'646'400ull * 1'000'000'000ull;
  if (unix_nano == 0 || unix_nano >= kYear2262) return "";
  const auto since_epoch = std::chrono::nanoseconds(static_cast<int64_t>(unix_nano));
  return FormatTimestamp(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)));
}

std::string FirstUserMessage(const trace::Span& span) {
  const json messages = JsonAttribute(span, "gen_ai.input.messages");
  if (!messages.is_array()) return "";
  for (const auto& m : messages) {
    if (m.is_object() && m.value("role", "") == "user") return StorableText(TextOf(m));
  }
  return "";
}

ExecutionStep StepOf(const trace::Span& span, SpanRole role, const Limits& limits) {
  ExecutionStep s;
  s.timestamp = StartTimestamp(span);
  const uint64_t start = span.start_time_unix_nano(), end = span.end_time_unix_nano();
  s.latency_ms = end > start ? std::min<int64_t>(static_cast<int64_t>((end - start) / 1'000'000),
                                                 kMaxStepCount)
                             : 0;
  s.success = !Failed(span);
  s.metadata = json::object();
  s.metadata["otel.trace_id"] = HexId(span.trace_id());
  s.metadata["otel.span_id"] = HexId(span.span_id());
  if (role == SpanRole::kTool) {
    s.tool = Attribute(span, "gen_ai.tool.name").value_or(span.name());
    const json args = JsonAttribute(span, "gen_ai.tool.call.arguments");
    if (args.is_string()) {
      s.action = args.get<std::string>();
    } else if (!args.is_null()) {
      s.action = args.dump(-1, ' ', false, json::error_handler_t::replace);
    } else {
      s.action = span.name();
    }
    if (args.is_object() && s.action.size() <= limits.max_parameters_bytes) s.parameters = args;
    s.observation = Attribute(span, "gen_ai.tool.call.result").value_or(span.status().message());
    if (auto id = Attribute(span, "gen_ai.tool.call.id")) s.metadata["gen_ai.tool.call.id"] = *id;
  } else {
    s.tool = "llm";
    s.action = Attribute(span, "gen_ai.request.model")
                   .value_or(Attribute(span, "gen_ai.response.model").value_or(span.name()));
    auto in = IntAttribute(span, "gen_ai.usage.input_tokens");
    if (!in) in = IntAttribute(span, "gen_ai.usage.prompt_tokens");
    auto out = IntAttribute(span, "gen_ai.usage.output_tokens");
    if (!out) out = IntAttribute(span, "gen_ai.usage.completion_tokens");
    auto count = [](std::optional<int64_t> n) {
      return std::clamp<int64_t>(n.value_or(0), 0, kMaxStepCount);
    };
    if (in || out) s.tokens = std::min(count(in) + count(out), kMaxStepCount);
    const json output = JsonAttribute(span, "gen_ai.output.messages");
    if (output.is_array()) {
      for (const auto& m : output) {
        const std::string text = TextOf(m);
        if (text.empty()) continue;
        if (!s.observation.empty()) s.observation += '\n';
        s.observation += text;
      }
    }
    if (s.observation.empty() && Failed(span)) s.observation = span.status().message();
    const auto provider = Attribute(span, "gen_ai.provider.name");
    const auto system = provider ? provider : Attribute(span, "gen_ai.system");
    if (system) s.metadata["gen_ai.provider.name"] = *system;
  }
  FitStep(s, limits);
  return s;
}

}  // namespace engram::otlp
