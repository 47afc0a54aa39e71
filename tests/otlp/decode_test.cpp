// OTLP/HTTP trace exports decoded as exporters send them: protobuf and OTLP's JSON encoding (the
// specification's own example request), gzip, and the answers in each encoding.
#include "otlp/decode.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "otlp/gzip_test_util.h"
#include "test_util.h"

namespace engram::otlp {
namespace {

using otlp_test::Gzip;

std::string Example() {
  std::ifstream in(std::string(ENGRAM_TEST_DATA) + "/otlp/data/trace.json");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(OtlpDecode, TheContentTypeNamesTheEncoding) {
  EXPECT_EQ(EncodingOf("application/x-protobuf"), Encoding::kProtobuf);
  EXPECT_EQ(EncodingOf("Application/JSON; charset=utf-8"), Encoding::kJson);
  EXPECT_EQ(EncodingOf(" application/json "), Encoding::kJson);
  EXPECT_EQ(EncodingOf("text/plain"), std::nullopt);
  EXPECT_EQ(EncodingOf(""), std::nullopt);
}

TEST(OtlpDecode, TheSpecificationsJsonExampleReadsWithItsHexIds) {
  auto request = DecodeTraceRequest(Example(), Encoding::kJson);
  ASSERT_OK(request);
  ASSERT_EQ(request->resource_spans_size(), 1);
  const auto& rs = request->resource_spans(0);
  EXPECT_EQ(rs.resource().attributes(0).key(), "service.name");
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "my.service");
  const trace::Span& span = rs.scope_spans(0).spans(0);
  EXPECT_EQ(HexId(span.trace_id()), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(HexId(span.span_id()), "eee19b7ec3c1b174");
  EXPECT_EQ(HexId(span.parent_span_id()), "eee19b7ec3c1b173");
  EXPECT_EQ(span.start_time_unix_nano(), 1544712660000000000u);  // a string in the JSON
  EXPECT_EQ(span.end_time_unix_nano(), 1544712661000000000u);
  EXPECT_EQ(span.kind(), trace::Span::SPAN_KIND_SERVER);  // an integer in the JSON
  EXPECT_EQ(span.name(), "I'm a server span");
}

TEST(OtlpDecode, JsonTakesNumbersAsNumbersBase64IdsAndUnknownFields) {
  // 64-bit integers as numbers, ids in protobuf's own base64 mapping, a field of a newer OTLP.
  const std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{
      "traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","name":"x",
      "startTimeUnixNano":1544712660000000000,"status":{"code":2,"message":"boom"},
      "someFutureField":{"a":1}}]}]}]})";
  auto request = DecodeTraceRequest(body, Encoding::kJson);
  ASSERT_OK(request);
  const trace::Span& span = request->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(HexId(span.trace_id()), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(HexId(span.span_id()), "eee19b7ec3c1b174");
  EXPECT_EQ(span.start_time_unix_nano(), 1544712660000000000u);
  EXPECT_EQ(span.status().code(), trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(span.status().message(), "boom");
}

TEST(OtlpDecode, BadBodiesSayWhatIsWrong) {
  auto msg = [](std::string_view body, Encoding e) {
    auto r = DecodeTraceRequest(body, e);
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  EXPECT_EQ(msg(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcd"}]}]}]})",
                Encoding::kJson),
            "resourceSpans[0].scopeSpans[0].spans[0].traceId must be 32 hexadecimal digits, got "
            "\"abcd\"");
  EXPECT_EQ(
      msg(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"zz"}]}]}]})", Encoding::kJson)
          .rfind("the body is not a valid OTLP/JSON ExportTraceServiceRequest: ", 0),
      0u);
  EXPECT_EQ(msg("{not json", Encoding::kJson)
                .rfind("the body is not a valid OTLP/JSON ExportTraceServiceRequest", 0),
            0u);
  EXPECT_EQ(msg(R"({"resourceSpans":"no"})", Encoding::kJson)
                .rfind("the body is not a valid OTLP/JSON ExportTraceServiceRequest", 0),
            0u);
  EXPECT_EQ(msg("\x0a\xff\xff\xff\xff\x0f", Encoding::kProtobuf),
            "the body is not a valid protobuf ExportTraceServiceRequest");
  EXPECT_EQ(msg("", Encoding::kProtobuf), "accepted");  // an empty export
}

TEST(OtlpDecode, ProtobufReadsBack) {
  collector::ExportTraceServiceRequest sent;
  trace::Span& span = *sent.add_resource_spans()->add_scope_spans()->add_spans();
  span.set_trace_id(
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  span.set_span_id(std::string("\xaa\xbb\xcc\xdd\xee\xff\x00\x11", 8));
  span.set_name("execute_tool get_weather");
  auto read = DecodeTraceRequest(sent.SerializeAsString(), Encoding::kProtobuf);
  ASSERT_OK(read);
  const trace::Span& back = read->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(HexId(back.trace_id()), "0102030405060708090a0b0c0d0e0f10");
  EXPECT_EQ(HexId(back.span_id()), "aabbccddeeff0011");
  EXPECT_EQ(back.name(), "execute_tool get_weather");
}

TEST(OtlpDecode, GzipInflatesWithinItsLimit) {
  const std::string text = Example();
  auto inflated = Gunzip(Gzip(text), 1 << 20);
  ASSERT_OK(inflated);
  EXPECT_EQ(*inflated, text);
  // Two gzip members one after the other are one stream (RFC 1952).
  auto twice = Gunzip(Gzip("abc") + Gzip("def"), 100);
  ASSERT_OK(twice);
  EXPECT_EQ(*twice, "abcdef");
  // A small body that inflates to 64 MiB stops at the limit.
  auto bomb = Gunzip(Gzip(std::string(64 << 20, '\0')), 1 << 20);
  ASSERT_FALSE(bomb.ok());
  EXPECT_TRUE(bomb.status().IsResourceExhausted()) << bomb.status().message();
  EXPECT_EQ(bomb.status().message(), "the gzip body inflates past 1048576 bytes, the limit");
  const std::string whole = Gzip(text);
  auto cut = Gunzip(std::string_view(whole).substr(0, whole.size() / 2), 1 << 20);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().message(), "the gzip body ends before its stream does");
  auto plain = Gunzip(text, 1 << 20);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().message().rfind("the body is not valid gzip: ", 0), 0u);
}

TEST(OtlpDecode, AnswersAreInTheRequestsEncoding) {
  collector::ExportTraceServiceResponse response;
  EXPECT_EQ(EncodeTraceResponse(response, Encoding::kJson), "{}");
  EXPECT_EQ(EncodeTraceResponse(response, Encoding::kProtobuf), "");
  response.mutable_partial_success()->set_rejected_spans(2);
  response.mutable_partial_success()->set_error_message("2 spans arrived late");
  EXPECT_EQ(EncodeTraceResponse(response, Encoding::kJson),
            R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 spans arrived late"}})");
  collector::ExportTraceServiceResponse back;
  ASSERT_TRUE(back.ParseFromString(EncodeTraceResponse(response, Encoding::kProtobuf)));
  EXPECT_EQ(back.partial_success().rejected_spans(), 2);
  // google.rpc.Status {code: 3, message: "bad"}: field 1 varint, field 2 bytes.
  EXPECT_EQ(EncodeStatus(3, "bad", Encoding::kProtobuf), std::string("\x08\x03\x12\x03"
                                                                     "bad"));
  EXPECT_EQ(EncodeStatus(3, "bad", Encoding::kJson), R"({"code":3,"message":"bad"})");
}

}  // namespace
}  // namespace engram::otlp
