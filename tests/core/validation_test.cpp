// Every bad-input case of docs/design.md section 3, at the validation layer: each error names the
// field, the limit and the value. Limits are inclusive.
#include "core/validation.h"

#include <gtest/gtest.h>

namespace engram {
namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795621620123));

ExecutionStep Step() {
  ExecutionStep s;
  s.tool = "cargo";
  s.action = "build";
  return s;
}

std::string ErrorOf(const ExecutionStep& s, const Limits& limits = {}) {
  auto r = PrepareStep(s, limits, kNow);
  if (r.ok()) return "accepted";
  EXPECT_TRUE(r.status().IsInvalidArgument());
  return r.status().message();
}

TEST(Validation, AcceptsAPlainStepAndStampsIt) {
  auto r = PrepareStep(Step(), {}, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->step.timestamp, "2026-11-25T15:47:00.123Z");
  EXPECT_EQ(r->parameters_json, "{}");
  EXPECT_EQ(r->metadata_json, "{}");
}

TEST(Validation, KeepsAndNormalizesACallersTimestamp) {
  ExecutionStep s = Step();
  s.timestamp = "2026-01-02T03:04:05+02:00";
  EXPECT_EQ(PrepareStep(s, {}, kNow)->step.timestamp, "2026-01-02T01:04:05.000Z");
  s.timestamp = "soon";
  EXPECT_EQ(ErrorOf(s),
            "timestamp must be an RFC 3339 timestamp like 2026-11-24T15:47:00.123Z, got \"soon\"");
}

TEST(Validation, EmptyToolIsRejected) {
  ExecutionStep s = Step();
  s.tool = "";
  EXPECT_EQ(ErrorOf(s), "tool is empty");
}

TEST(Validation, SizeLimitsAreInclusiveAndNamed) {
  ExecutionStep s = Step();
  s.observation = std::string(65536, 'x');
  EXPECT_EQ(ErrorOf(s), "accepted");
  s.observation = std::string(70000, 'x');
  EXPECT_EQ(ErrorOf(s), "observation is 70000 bytes, limit 65536 bytes");

  s = Step();
  s.tool = std::string(128, 't');
  EXPECT_EQ(ErrorOf(s), "accepted");
  s.tool = std::string(129, 't');
  EXPECT_EQ(ErrorOf(s), "tool is 129 bytes, limit 128 bytes");

  s = Step();
  s.action = std::string(4096, 'a');
  EXPECT_EQ(ErrorOf(s), "accepted");
  s.action = std::string(4097, 'a');
  EXPECT_EQ(ErrorOf(s), "action is 4097 bytes, limit 4096 bytes");
}

TEST(Validation, ParametersLimitCountsTheCompactJson) {
  ExecutionStep s = Step();
  // {"k":"…"} is 8 bytes of framing around the value.
  s.parameters = {{"k", std::string(1024 * 1024 - 8, 'p')}};
  EXPECT_EQ(ErrorOf(s), "accepted");
  s.parameters = {{"k", std::string(1024 * 1024 - 7, 'p')}};
  EXPECT_EQ(ErrorOf(s), "parameters is 1048577 bytes, limit 1048576 bytes");
}

TEST(Validation, LimitsAreConfigurable) {
  Limits small;
  small.max_observation_bytes = 10;
  ExecutionStep s = Step();
  s.observation = "12345678901";
  EXPECT_EQ(ErrorOf(s, small), "observation is 11 bytes, limit 10 bytes");
}

TEST(Validation, ParametersMustBeAnObject) {
  ExecutionStep s = Step();
  s.parameters = nlohmann::json::array({1, 2});
  EXPECT_EQ(ErrorOf(s), "parameters must be a JSON object, got an array");
  s.parameters = "text";
  EXPECT_EQ(ErrorOf(s), "parameters must be a JSON object, got a string");
  s.parameters = nullptr;  // null is the default: {}
  EXPECT_EQ(PrepareStep(s, {}, kNow)->parameters_json, "{}");
}

TEST(Validation, InvalidUtf8IsRejectedWithItsOffset) {
  ExecutionStep s = Step();
  s.observation = "fine\xFFthen";
  EXPECT_EQ(ErrorOf(s), "observation is not valid UTF-8: byte 0xff at offset 4");
  s = Step();
  s.tool = "\xC3(";
  EXPECT_EQ(ErrorOf(s), "tool is not valid UTF-8: byte 0xc3 at offset 0");
  s = Step();
  s.parameters = {{"path", "bad\xFE"}};
  EXPECT_EQ(ErrorOf(s), "parameters contains a string that is not valid UTF-8");
  s = Step();
  s.metadata["run"] = "\xFF";
  EXPECT_EQ(ErrorOf(s), "metadata[\"run\"] is not valid UTF-8: byte 0xff at offset 0");
}

TEST(Validation, StepMetadataIsAnObjectOfStrings) {
  ExecutionStep s = Step();
  s.metadata = {{"host", "ci-3"}, {"run", "7"}};
  EXPECT_EQ(PrepareStep(s, {}, kNow)->metadata_json, R"({"host":"ci-3","run":"7"})");
  s.metadata = nullptr;
  EXPECT_EQ(PrepareStep(s, {}, kNow)->metadata_json, "{}");
  s.metadata = {{"run", 7}};
  EXPECT_EQ(ErrorOf(s), "metadata[\"run\"] must be a string, got a number");
  s.metadata = nlohmann::json::array({"a"});
  EXPECT_EQ(ErrorOf(s), "metadata must be an object of strings, got an array");
  Limits small;
  small.max_observation_bytes = 4;
  s.metadata = {{"big", "12345"}};
  EXPECT_EQ(ErrorOf(s, small), "metadata[\"big\"] is 5 bytes, limit 4 bytes");
}

TEST(Validation, NulCharactersAreRejectedWithTheirOffset) {
  ExecutionStep s = Step();
  s.observation = std::string("bin\0ary", 7);
  EXPECT_EQ(ErrorOf(s),
            "observation contains a NUL character (U+0000) at offset 3, which engram does not "
            "store");
  s = Step();
  s.metadata["run"] = std::string("\0", 1);
  EXPECT_EQ(ErrorOf(s),
            "metadata[\"run\"] contains a NUL character (U+0000) at offset 0, which engram "
            "does not store");
  // Inside parameters it is JSON's \u0000 escape, which every store keeps.
  s = Step();
  s.parameters = {{"raw", std::string("a\0b", 3)}};
  EXPECT_EQ(PrepareStep(s, {}, kNow)->parameters_json, R"({"raw":"a\u0000b"})");
}

TEST(Validation, NegativeNumbersAreRejected) {
  ExecutionStep s = Step();
  s.latency_ms = -5;
  EXPECT_EQ(ErrorOf(s), "latency_ms must be an integer from 0 to 9007199254740991, got -5");
  s = Step();
  s.tokens = -1;
  EXPECT_EQ(ErrorOf(s), "tokens must be an integer from 0 to 9007199254740991 or null, got -1");
  s.tokens = 0;
  EXPECT_EQ(ErrorOf(s), "accepted");
}

TEST(Validation, EpisodeIdsMustBeUuids) {
  EXPECT_TRUE(ValidateEpisodeId("0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f").ok());
  Status s = ValidateEpisodeId("42");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(),
            "episode id \"42\" is malformed: expected a UUID like "
            "0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f");
  EXPECT_EQ(*NormalizeEpisodeId("0192F0C1-7C4E-7D3A-9B1E-4F2A6C8D0E1F"),
            "0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f");
}

TEST(Validation, EpisodeSpecAndOutcome) {
  EpisodeSpec spec;
  EXPECT_EQ(ValidateEpisodeSpec(spec, {}).message(), "task is empty");
  spec.task = "fix it";
  EXPECT_TRUE(ValidateEpisodeSpec(spec, {}).ok());
  spec.metadata = 3;
  EXPECT_EQ(ValidateEpisodeSpec(spec, {}).message(),
            "metadata must be a JSON object, got a number");
  spec.metadata = nlohmann::json::object();
  spec.context.tags = {"ok", ""};
  EXPECT_EQ(ValidateEpisodeSpec(spec, {}).message(), "context.tags contains an empty tag");

  Outcome o;
  o.summary = std::string(64 * 1024 + 1, 's');
  EXPECT_EQ(ValidateOutcome(o, {}).message(), "summary is 65537 bytes, limit 65536 bytes");
}

}  // namespace
}  // namespace engram
