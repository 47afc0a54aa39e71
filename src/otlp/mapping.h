// What OpenTelemetry GenAI spans say about an agent's run, as engram records it: tool calls and
// model calls become steps, the first user message the task, the root span the outcome. The
// attribute names are the OpenTelemetry GenAI semantic conventions' (and the older ones that
// instrumentations still send: gen_ai.system, gen_ai.usage.prompt_tokens and completion_tokens).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engram/options.h"
#include "engram/types.h"
#include "otlp/decode.h"

namespace engram::otlp {

namespace resource = opentelemetry::proto::resource::v1;

// A span with the resource it came from.
struct SpanRef {
  const trace::Span* span = nullptr;
  const resource::Resource* resource = nullptr;
};

// What a span is to an episode.
enum class SpanRole {
  kTool,   // gen_ai.operation.name execute_tool: a step
  kModel,  // chat, text_completion, generate_content: a step with tool "llm"
  kOther,  // anything else (agent invocations, HTTP clients, databases): not stored
};
SpanRole RoleOf(const trace::Span& span);
// True for a span with any gen_ai.* attribute: the traces engram records have one.
bool IsGenAi(const trace::Span& span);
// A root span has no parent.
inline bool IsRoot(const trace::Span& span) {
  return span.parent_span_id().empty();
}

// The attribute's value: a string as it is, other scalars printed, arrays and maps as JSON;
// nullopt when the span has no such attribute.
std::optional<std::string> Attribute(
    const google::protobuf::RepeatedPtrField<common::KeyValue>& attributes, std::string_view key);
std::optional<std::string> Attribute(const trace::Span& span, std::string_view key);
// The attribute as JSON: a string holding JSON parsed, anything else converted.
nlohmann::json JsonAttribute(const trace::Span& span, std::string_view key);

// The step a tool or model span records, its texts cut to `limits` (the cut noted in its
// metadata "truncated"), with the trace and span ids, and for tools gen_ai.tool.call.id, in its
// metadata.
ExecutionStep StepOf(const trace::Span& span, SpanRole role, const Limits& limits);

// The text of the first user message in gen_ai.input.messages ("" when none): the parts of type
// text (or a message's content when it is a string), joined by new lines.
std::string FirstUserMessage(const trace::Span& span);

// Whether the span failed: status ERROR, or error.type set.
bool Failed(const trace::Span& span);

// A span's time (nanoseconds since the epoch) as engram writes timestamps; "" when it is unset
// (0) or past the year 2261, which engram does not store.
std::string SpanTime(uint64_t unix_nano);
// The span's start: SpanTime, "" stamped when stored.
inline std::string StartTimestamp(const trace::Span& span) {
  return SpanTime(span.start_time_unix_nano());
}

}  // namespace engram::otlp
