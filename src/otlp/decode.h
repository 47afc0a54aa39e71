// OTLP/HTTP trace exports as exporters send them to POST /v1/traces: protobuf or OTLP's JSON
// encoding (ids in hex, 64-bit integers as strings or numbers, enums as integers), gzip or not;
// and the answers, in the request's own encoding as OTLP requires.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engram/status.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace engram::otlp {

namespace collector = opentelemetry::proto::collector::trace::v1;
namespace trace = opentelemetry::proto::trace::v1;
namespace common = opentelemetry::proto::common::v1;

enum class Encoding { kProtobuf, kJson };

// The encoding a Content-Type names: application/x-protobuf or application/json (parameters
// and case aside); nullopt for any other.
std::optional<Encoding> EncodingOf(std::string_view content_type);
// The Content-Type of an answer in that encoding.
const char* ContentTypeOf(Encoding encoding);

// A gzip stream inflated. InvalidArgument when it is not gzip or ends early ("the gzip body is
// ..."); ResourceExhausted when it inflates past `limit` bytes (read no further).
Result<std::string> Gunzip(std::string_view body, size_t limit);

// An export request. InvalidArgument saying what is wrong: "not a valid protobuf
// ExportTraceServiceRequest", or for JSON where and why ("resourceSpans[0].scopeSpans[0].
// spans[2].traceId must be 32 hexadecimal digits, got \"xyz\"").
Result<collector::ExportTraceServiceRequest> DecodeTraceRequest(std::string_view body,
                                                                Encoding encoding);

// The answer to an export: partial_success set when spans were refused.
std::string EncodeTraceResponse(const collector::ExportTraceServiceResponse& response,
                                Encoding encoding);
// The body of a refusal (4xx, 5xx): OTLP's google.rpc.Status with a gRPC code and a message.
std::string EncodeStatus(int grpc_code, std::string_view message, Encoding encoding);

// An id as lowercase hexadecimal ("" for an empty one).
std::string HexId(std::string_view bytes);

}  // namespace engram::otlp
