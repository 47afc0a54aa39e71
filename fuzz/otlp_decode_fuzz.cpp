// An OTLP/HTTP trace export as POST /v1/traces reads it: the first byte picks the encoding
// (protobuf or JSON) and whether the rest is gzip; what decodes must encode and decode again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "otlp/decode.h"

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
  return 0;
}
