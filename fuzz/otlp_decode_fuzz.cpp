// An OTLP/HTTP trace export as POST /v1/traces reads it: the first byte picks the encoding
// (protobuf or JSON) and whether the rest is gzip; what decodes must encode and decode again,
// every span's step must pass engram's own validation, and the receiver must record the export
// (or refuse spans, saying why) on an in-memory store.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/validation.h"
#include "otlp/decode.h"
#include "otlp/mapping.h"
#include "otlp/receiver.h"
#include "renewed.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto encoding = data[0] & 1 ? otlp::Encoding::kJson : otlp::Encoding::kProtobuf;
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string inflated;
  if (data[0] & 2) {
    auto r = otlp::Gunzip(body, 1 << 20);
    if (!r.ok()) return 0;
    inflated = std::move(*r);
    body = inflated;
  }
  auto request = otlp::DecodeTraceRequest(body, encoding);
  if (!request.ok()) {
    if (request.status().message().empty()) __builtin_trap();  // every refusal says why
    return 0;
  }
  auto again = otlp::DecodeTraceRequest(request->SerializeAsString(), otlp::Encoding::kProtobuf);
  if (!again.ok() || again->SerializeAsString() != request->SerializeAsString()) __builtin_trap();

  const Limits limits;
  const auto now = std::chrono::system_clock::now();
  for (const auto& rs : request->resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) {
        const otlp::SpanRole role = otlp::RoleOf(span);
        if (role == otlp::SpanRole::kOther) continue;
        // The mapping cuts what it takes to the limits: its steps are never refused for size.
        auto step = PrepareStep(otlp::StepOf(span, role, limits), limits, now);
        if (!step.ok()) __builtin_trap();
      }
    }
  }
  static fuzz::Renewed<otlp::TraceReceiver> receiver;
  auto& r = receiver.Get([](Memory& memory) {
    return std::make_unique<otlp::TraceReceiver>(memory, std::chrono::milliseconds(0));
  });
  auto out = r.Export(*request);
  if (!out.ok()) __builtin_trap();  // an in-memory store does not fail
  if (out->rejected_spans > 0 && out->error_message.empty()) __builtin_trap();
  return 0;
}
