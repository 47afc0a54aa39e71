#include "otlp/decode.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/strutil.h>
#include <google/protobuf/util/json_util.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace engram::otlp {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// An id of OTLP's JSON encoding, which protobuf's JSON parser read as base64: its hex digits are
// base64 characters too, in groups of four, so encoding the bytes again gives the digits back.
// An id already `bytes` long was sent in base64 (protobuf's own JSON mapping) and is kept.
Status HexIdFromJson(std::string& id, size_t bytes, const std::string& where) {
  if (id.empty()) return Status::Ok();
  std::string text;
  google::protobuf::Base64Escape(id, &text);
  if (text.size() == 2 * bytes &&
      std::all_of(text.begin(), text.end(), [](char c) { return HexValue(c) >= 0; })) {
    std::string raw(bytes, '\0');
    for (size_t i = 0; i < bytes; ++i) {
      raw[i] = static_cast<char>(HexValue(text[2 * i]) * 16 + HexValue(text[2 * i + 1]));
    }
    id = std::move(raw);
    return Status::Ok();
  }
  if (id.size() == bytes) return Status::Ok();
  return Status::InvalidArgument(
      fmt::format("{} must be {} hexadecimal digits, got \"{}\"", where, 2 * bytes, text));
}

Status HexIdsFromJson(collector::ExportTraceServiceRequest& request) {
  for (int r = 0; r < request.resource_spans_size(); ++r) {
    auto& rs = *request.mutable_resource_spans(r);
    for (int s = 0; s < rs.scope_spans_size(); ++s) {
      auto& ss = *rs.mutable_scope_spans(s);
      for (int i = 0; i < ss.spans_size(); ++i) {
        trace::Span& span = *ss.mutable_spans(i);
        const std::string where =
            fmt::format("resourceSpans[{}].scopeSpans[{}].spans[{}].", r, s, i);
        Status st = HexIdFromJson(*span.mutable_trace_id(), 16, where + "traceId");
        if (st.ok()) st = HexIdFromJson(*span.mutable_span_id(), 8, where + "spanId");
        if (st.ok()) st = HexIdFromJson(*span.mutable_parent_span_id(), 8, where + "parentSpanId");
        for (int l = 0; st.ok() && l < span.links_size(); ++l) {
          auto& link = *span.mutable_links(l);
          const std::string at = fmt::format("{}links[{}].", where, l);
          st = HexIdFromJson(*link.mutable_trace_id(), 16, at + "traceId");
          if (st.ok()) st = HexIdFromJson(*link.mutable_span_id(), 8, at + "spanId");
        }
        if (!st.ok()) return st;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::optional<Encoding> EncodingOf(std::string_view content_type) {
  const std::string_view type = Trim(content_type.substr(0, content_type.find(';')));
  if (EqualsNoCase(type, "application/x-protobuf")) return Encoding::kProtobuf;
  if (EqualsNoCase(type, "application/json")) return Encoding::kJson;
  return std::nullopt;
}

const char* ContentTypeOf(Encoding encoding) {
  return encoding == Encoding::kProtobuf ? "application/x-protobuf" : "application/json";
}

Result<std::string> Gunzip(std::string_view body, size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Status::Internal("zlib: inflateInit2");
  struct End {
    z_stream* z;
    ~End() { inflateEnd(z); }
  } end{&z};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  z.avail_in = static_cast<uInt>(body.size());
  std::string out;
  char buffer[64 * 1024];
  while (true) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    const int rc = inflate(&z, Z_NO_FLUSH);
    const size_t produced = sizeof buffer - z.avail_out;
    if (out.size() + produced > limit) {
      return Status::ResourceExhausted(
          fmt::format("the gzip body inflates past {} bytes, the limit", limit));
    }
    out.append(buffer, produced);
    if (rc == Z_STREAM_END) {
      if (z.avail_in == 0) return out;
      if (inflateReset(&z) != Z_OK) return Status::Internal("zlib: inflateReset");
      continue;  // another gzip member follows
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      return Status::InvalidArgument("the gzip body ends before its stream does");
    }
    if (rc != Z_OK) {
      return Status::InvalidArgument(
          fmt::format("the body is not valid gzip: {}", z.msg ? z.msg : "inflate failed"));
    }
  }
}

Result<collector::ExportTraceServiceRequest> DecodeTraceRequest(std::string_view body,
                                                                Encoding encoding) {
  collector::ExportTraceServiceRequest request;
  if (encoding == Encoding::kProtobuf) {
    if (body.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
        !request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Status::InvalidArgument("the body is not a valid protobuf ExportTraceServiceRequest");
    }
    return request;
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // as OTLP asks of receivers
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), &request, options);
  if (!parsed.ok()) {
    return Status::InvalidArgument(
        fmt::format("the body is not a valid OTLP/JSON ExportTraceServiceRequest: {}",
                    std::string_view(parsed.message().data(), parsed.message().size())));
  }
  if (Status s = HexIdsFromJson(request); !s.ok()) return s;
  return request;
}

std::string EncodeTraceResponse(const collector::ExportTraceServiceResponse& response,
                                Encoding encoding) {
  if (encoding == Encoding::kProtobuf) return response.SerializeAsString();
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(response, &out);
  return out;
}

std::string EncodeStatus(int grpc_code, std::string_view message, Encoding encoding) {
  if (encoding == Encoding::kJson) {
    return nlohmann::json{{"code", grpc_code}, {"message", message}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  // google.rpc.Status: code = 1 (int32), message = 2 (string).
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.WriteTag(1 << 3 | 0);
    coded.WriteVarint32SignExtended(grpc_code);
    coded.WriteTag(2 << 3 | 2);
    coded.WriteVarint32(static_cast<uint32_t>(message.size()));
    coded.WriteRaw(message.data(), static_cast<int>(message.size()));
  }
  return out;
}

std::string HexId(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace engram::otlp
