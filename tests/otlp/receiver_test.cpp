// GenAI spans recorded as episodes, on both stores: the mapping field by field, exports split
// and sent again, late spans, bad ids, traces of no agent.
#include "otlp/receiver.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "engram/engram.h"
#include "store_param.h"
#include "test_util.h"

namespace engram::otlp {
namespace {

using testing::ValueOf;

constexpr uint64_t kT0 = 1764680000000000000;  // 2025-12-02T12:53:20Z, in nanoseconds
constexpr uint64_t kMs = 1000000;

std::string Bytes(uint64_t high, uint64_t low, size_t n) {
  std::string out;
  for (int i = 7; i >= 0; --i) out += static_cast<char>((high >> (8 * i)) & 0xff);
  for (int i = 7; i >= 0; --i) out += static_cast<char>((low >> (8 * i)) & 0xff);
  return out.substr(16 - n);
}
std::string TraceId(uint64_t n) {
  return Bytes(0x0af7651916cd43dd, n, 16);
}
std::string SpanId(uint64_t n) {
  return Bytes(0, 0xb7ad6b7169200000 + n, 8);
}

// A span of trace `trace`: its id, parent (0 for a root), name, start and end in ms after kT0.
struct SpanSpec {
  uint64_t trace = 1, id = 0, parent = 1;
  std::string name;
  uint64_t start_ms = 0, end_ms = 0;
  std::vector<std::pair<std::string, std::string>> strings = {};
  std::vector<std::pair<std::string, int64_t>> ints = {};
  bool error = false;
  std::string status_message = "";
};

void Add(collector::ExportTraceServiceRequest& request, const SpanSpec& s) {
  if (request.resource_spans_size() == 0) {
    auto* rs = request.add_resource_spans();
    auto* attr = rs->mutable_resource()->add_attributes();
    attr->set_key("service.name");
    attr->mutable_value()->set_string_value("travel-agent");
    rs->add_scope_spans();
  }
  trace::Span& span = *request.mutable_resource_spans(0)->mutable_scope_spans(0)->add_spans();
  span.set_trace_id(TraceId(s.trace));
  span.set_span_id(SpanId(s.id));
  if (s.parent) span.set_parent_span_id(SpanId(s.parent));
  span.set_name(s.name);
  span.set_start_time_unix_nano(kT0 + s.start_ms * kMs);
  span.set_end_time_unix_nano(kT0 + s.end_ms * kMs);
  for (const auto& [k, v] : s.strings) {
    auto* a = span.add_attributes();
    a->set_key(k);
    a->mutable_value()->set_string_value(v);
  }
  for (const auto& [k, v] : s.ints) {
    auto* a = span.add_attributes();
    a->set_key(k);
    a->mutable_value()->set_int_value(v);
  }
  if (s.error) span.mutable_status()->set_code(trace::Status::STATUS_CODE_ERROR);
  if (!s.status_message.empty()) span.mutable_status()->set_message(s.status_message);
}

SpanSpec Root(bool failed = false) {
  return {1,
          1,
          0,
          "invoke_agent travel",
          0,
          2000,
          {{"gen_ai.operation.name", "invoke_agent"},
           {"gen_ai.agent.name", "travel"},
           {"gen_ai.conversation.id", "conv-42"}},
          {},
          failed,
          failed ? "the agent gave up" : ""};
}
SpanSpec Chat() {
  return {1,
          2,
          1,
          "chat gpt-4o",
          100,
          1100,
          {{"gen_ai.operation.name", "chat"},
           {"gen_ai.request.model", "gpt-4o"},
           {"gen_ai.input.messages",
            R"([{"role":"system","parts":[{"type":"text","content":"Be brief"}]},)"
            R"({"role":"user","parts":[{"type":"text","content":"Book me a flight to Paris"}]}])"},
           {"gen_ai.output.messages",
            R"([{"role":"assistant","parts":[{"type":"text","content":"Searching."}]}])"}},
          {{"gen_ai.usage.input_tokens", 120}, {"gen_ai.usage.output_tokens", 30}}};
}
SpanSpec Tool(uint64_t id, uint64_t start_ms, bool failed) {
  SpanSpec s{1,
             id,
             1,
             "execute_tool search_flights",
             start_ms,
             start_ms + 300,
             {{"gen_ai.operation.name", "execute_tool"},
              {"gen_ai.tool.name", "search_flights"},
              {"gen_ai.tool.call.id", "call_" + std::to_string(id)},
              {"gen_ai.tool.call.arguments", R"({"to": "CDG"})"}}};
  if (failed) {
    s.error = true;
    s.status_message = "upstream timed out";
  } else {
    s.strings.push_back({"gen_ai.tool.call.result", "AF1234 at 09:10"});
  }
  return s;
}
SpanSpec HttpClient() {  // not an agent's span: not stored
  return {1, 9, 3, "GET", 1250, 1400, {{"http.request.method", "GET"}}};
}

class Receiver : public testing::OnEachStore {
 protected:
  void SetUp() override {
    ENGRAM_REQUIRE_STORE(stores_);
    memory_ = ValueOf(Memory::open(stores_.url("otlp.db")));
    ASSERT_TRUE(memory_);
    receiver_ = std::make_unique<TraceReceiver>(*memory_, std::chrono::milliseconds(0));
  }
  ExportOutcome Send(const std::vector<SpanSpec>& spans) {
    collector::ExportTraceServiceRequest request;
    for (const auto& s : spans) Add(request, s);
    return ValueOf(receiver_->Export(request));
  }
  std::vector<Episode> Episodes() {
    return ValueOf(memory_->list_episodes(EpisodeFilter{})).episodes;
  }
  Episode Only() {
    auto all = Episodes();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Episode{} : ValueOf(memory_->get_episode(all[0].id));
  }
  std::unique_ptr<Memory> memory_;
  std::unique_ptr<TraceReceiver> receiver_;
};

TEST_P(Receiver, AnAgentRunIsOneEpisodeMappedFieldByField) {
  const ExportOutcome out =
      Send({Chat(), Tool(3, 1200, true), HttpClient(), Tool(4, 1600, false), Root()});
  EXPECT_EQ(out.rejected_spans, 0);
  const Episode e = Only();
  EXPECT_EQ(e.task, "Book me a flight to Paris");
  EXPECT_EQ(e.metadata["otel.trace_id"], "0af7651916cd43dd0000000000000001");
  EXPECT_EQ(e.metadata["gen_ai.conversation.id"], "conv-42");
  EXPECT_EQ(e.metadata["gen_ai.agent.name"], "travel");
  EXPECT_EQ(e.metadata["service.name"], "travel-agent");
  EXPECT_EQ(e.context.domain, "travel-agent");
  EXPECT_EQ(e.context.tags, std::vector<std::string>{"travel"});
  ASSERT_EQ(e.steps.size(), 3u);
  const ExecutionStep& llm = e.steps[0];
  EXPECT_EQ(llm.tool, "llm");
  EXPECT_EQ(llm.action, "gpt-4o");
  EXPECT_EQ(llm.tokens, 150);
  EXPECT_EQ(llm.latency_ms, 1000);
  EXPECT_EQ(llm.observation, "Searching.");
  EXPECT_TRUE(llm.success);
  EXPECT_EQ(llm.timestamp, "2025-12-02T12:53:20.100Z");
  EXPECT_EQ(llm.metadata["otel.span_id"], "b7ad6b7169200002");
  const ExecutionStep& failed = e.steps[1];
  EXPECT_EQ(failed.tool, "search_flights");
  EXPECT_EQ(failed.action, R"({"to":"CDG"})");
  EXPECT_EQ(failed.parameters, nlohmann::json({{"to", "CDG"}}));
  EXPECT_FALSE(failed.success);
  EXPECT_EQ(failed.observation, "upstream timed out");
  EXPECT_EQ(failed.latency_ms, 300);
  EXPECT_EQ(failed.tokens, std::nullopt);
  EXPECT_EQ(failed.metadata["gen_ai.tool.call.id"], "call_3");
  EXPECT_EQ(failed.metadata["otel.span_id"], "b7ad6b7169200003");
  EXPECT_TRUE(e.steps[2].success);
  EXPECT_EQ(e.steps[2].observation, "AF1234 at 09:10");
  EXPECT_EQ(e.status, EpisodeStatus::kCompleted);
  ASSERT_TRUE(e.outcome);
  EXPECT_EQ(e.outcome->kind, OutcomeKind::kSuccess);
  EXPECT_FALSE(e.reflection.is_null());  // learnt from, as any completion
  // The run's own times: the root's start and end, not when the export arrived.
  EXPECT_EQ(e.started_at, "2025-12-02T12:53:20.000Z");
  EXPECT_EQ(e.ended_at, "2025-12-02T12:53:22.000Z");
}

TEST_P(Receiver, AnExportSentAgainStoresNothingTwice) {
  const std::vector<SpanSpec> run = {Chat(), Tool(3, 1200, true), Tool(4, 1600, false), Root()};
  Send(run);
  const ExportOutcome again = Send(run);
  EXPECT_EQ(again.rejected_spans, 0) << again.error_message;
  EXPECT_EQ(Only().steps.size(), 3u);
  // A span twice in one export, too.
  SpanSpec other = Tool(7, 100, false);
  other.trace = 2;
  Send({other, other});
  EXPECT_EQ(ValueOf(memory_->get_episode(ValueOf(memory_->find_named_episode(
                                                     "otel.trace:0af7651916cd43dd0000000000000002"))
                                             .id))
                .steps.size(),
            1u);
}

TEST_P(Receiver, AnExportSentAgainToAnotherNodeStoresNothingTwice) {
  // Two servers on one store: an exporter's retry may reach either.
  auto other_memory = ValueOf(Memory::open(stores_.url("otlp.db")));
  TraceReceiver other(*other_memory, std::chrono::milliseconds(0));
  Send({Chat(), Tool(3, 1200, true)});
  collector::ExportTraceServiceRequest request;
  Add(request, Tool(4, 1600, false));
  ASSERT_EQ(ValueOf(other.Export(request)).rejected_spans, 0);
  // The first node did not see tool 4 stored; its retry must not store it twice.
  Send({Tool(4, 1600, false), Tool(5, 1800, false)});
  Send({Tool(5, 1800, false), Root()});
  const Episode e = Only();
  ASSERT_EQ(e.steps.size(), 4u);
  EXPECT_EQ(e.steps[2].metadata["otel.span_id"], "b7ad6b7169200004");
  EXPECT_EQ(e.steps[3].metadata["otel.span_id"], "b7ad6b7169200005");
  EXPECT_EQ(e.status, EpisodeStatus::kCompleted);
}

TEST_P(Receiver, AServiceWithNoNameAndAnAgentWithAnEmptyOneLeaveTheContextEmpty) {
  collector::ExportTraceServiceRequest request;
  SpanSpec chat = Chat();
  chat.strings.push_back({"gen_ai.agent.name", ""});
  Add(request, chat);
  request.mutable_resource_spans(0)
      ->mutable_resource()
      ->mutable_attributes(0)
      ->mutable_value()
      ->set_string_value("unknown_service:node");
  ASSERT_EQ(ValueOf(receiver_->Export(request)).rejected_spans, 0);
  const Episode e = Only();
  EXPECT_EQ(e.context.domain, std::nullopt);
  EXPECT_TRUE(e.context.tags.empty());
  EXPECT_FALSE(e.metadata.contains("service.name"));
}

TEST_P(Receiver, AnEmptyOrOverlongConversationIdLeavesEachTraceItsOwnEpisode) {
  const std::string overlong(600, 'c');
  for (uint64_t trace : {1, 2, 3, 4}) {
    SpanSpec chat = Chat();
    chat.trace = trace;
    chat.strings.push_back({"gen_ai.conversation.id", trace <= 2 ? "" : overlong});
    EXPECT_EQ(Send({chat}).rejected_spans, 0);
  }
  const auto episodes = Episodes();
  ASSERT_EQ(episodes.size(), 4u);
  size_t kept = 0;
  for (const Episode& e : episodes)
    kept += e.metadata.value("gen_ai.conversation.id", "") == overlong;
  EXPECT_EQ(kept, 2u);
}

TEST_P(Receiver, SpansExportedInBatchesJoinTheirEpisodeAndTheRootCompletesIt) {
  // A batch processor sends the children first; only the root names the conversation.
  SpanSpec chat = Chat();
  Send({chat, Tool(3, 1200, true)});
  Episode open = Only();
  EXPECT_EQ(open.status, EpisodeStatus::kOpen);
  EXPECT_EQ(open.steps.size(), 2u);
  EXPECT_EQ(open.started_at, "2025-12-02T12:53:20.100Z");  // the earliest span's start so far
  EXPECT_FALSE(open.metadata.contains("gen_ai.conversation.id"));
  EXPECT_TRUE(open.context.tags.empty());
  Send({Tool(4, 1600, false)});
  Send({Root(/*failed=*/true)});
  const Episode e = Only();
  EXPECT_EQ(e.id, open.id);
  EXPECT_EQ(e.steps.size(), 3u);
  // What only the root says reaches the episode when it arrives: the conversation, the agent
  // (metadata and tag), the start and the end.
  EXPECT_EQ(e.metadata["gen_ai.conversation.id"], "conv-42");
  EXPECT_EQ(e.metadata["gen_ai.agent.name"], "travel");
  EXPECT_EQ(e.context.tags, std::vector<std::string>{"travel"});
  EXPECT_EQ(e.started_at, "2025-12-02T12:53:20.000Z");
  EXPECT_EQ(e.ended_at, "2025-12-02T12:53:22.000Z");
  EpisodeFilter by_agent;
  by_agent.tag = "travel";
  EXPECT_EQ(ValueOf(memory_->list_episodes(by_agent)).episodes.size(), 1u);
  ASSERT_TRUE(e.outcome);
  EXPECT_EQ(e.outcome->kind, OutcomeKind::kFailure);
  EXPECT_EQ(e.outcome->summary, "the agent gave up");
  // Both names find it.
  EXPECT_EQ(ValueOf(memory_->find_named_episode("otel.conversation:conv-42")).id, e.id);
  const NamedEpisode by_trace =
      ValueOf(memory_->find_named_episode("otel.trace:0af7651916cd43dd0000000000000001"));
  EXPECT_EQ(by_trace.id, e.id);
  EXPECT_EQ(by_trace.status, EpisodeStatus::kCompleted);
  EXPECT_EQ(by_trace.steps, 3);
}

TEST_P(Receiver, StepsOfExportsThatRacedAreInStartOrderOnceTheRootCompletes) {
  // A simple span processor sends each span as it ends, and its exports race: here the last
  // tool call arrives first and the model call last.
  Send({Tool(4, 1600, false)});
  Send({Tool(3, 1200, true)});
  Send({Chat()});
  EXPECT_EQ(Only().steps.front().metadata["otel.span_id"], "b7ad6b7169200004");  // arrival order
  Send({Root()});
  const Episode e = Only();
  std::vector<std::string> spans;
  for (const auto& step : e.steps) spans.push_back(step.metadata["otel.span_id"]);
  EXPECT_EQ(spans,
            (std::vector<std::string>{"b7ad6b7169200002", "b7ad6b7169200003", "b7ad6b7169200004"}));
  EXPECT_EQ(e.steps[1].step_number, 2);
  EXPECT_EQ(e.task, "Book me a flight to Paris");  // the user's message, arrived last
  // The reflection was learnt from the steps in that order: it cites the failed call as step 2.
  EXPECT_NE(e.reflection.dump().find("step 2"), std::string::npos) << e.reflection.dump();
}

TEST_P(Receiver, SpansArrivingAfterTheirEpisodeCompletedAreRefused) {
  Send({Chat(), Root()});
  const ExportOutcome late = Send({Tool(5, 1500, false), Tool(6, 1700, false)});
  EXPECT_EQ(late.rejected_spans, 2);
  EXPECT_EQ(late.error_message,
            fmt::format("2 span(s) of trace 0af7651916cd43dd0000000000000001 arrived after "
                        "episode {} completed",
                        Only().id));
  EXPECT_EQ(Only().steps.size(), 1u);
}

TEST_P(Receiver, SpansWithBadIdsAreRefusedAndTheRestKept) {
  collector::ExportTraceServiceRequest request;
  Add(request, Chat());
  request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_span_id("abc");
  Add(request, Tool(3, 1200, false));
  const ExportOutcome out = ValueOf(receiver_->Export(request));
  EXPECT_EQ(out.rejected_spans, 1);
  EXPECT_EQ(out.error_message,
            "span \"chat gpt-4o\" has a trace id of 16 bytes and a span id of 3 bytes; they must "
            "be 16 and 8");
  EXPECT_EQ(Only().steps.size(), 1u);
}

TEST_P(Receiver, ATraceOfNoAgentStoresNothing) {
  SpanSpec root{2, 1, 0, "GET /health", 0, 5, {{"http.request.method", "GET"}}};
  EXPECT_EQ(Send({root, HttpClient()}).rejected_spans, 0);
  EXPECT_TRUE(Episodes().empty());
}

TEST_P(Receiver, OlderAttributeNamesAreReadAndLongTextsCut) {
  SpanSpec chat{1,
                2,
                1,
                "chat",
                0,
                10,
                {{"gen_ai.operation.name", "chat"},
                 {"gen_ai.system", "openai"},
                 {"gen_ai.response.model", "gpt-4o-mini"}},
                {{"gen_ai.usage.prompt_tokens", 7}, {"gen_ai.usage.completion_tokens", 5}}};
  SpanSpec tool = Tool(3, 20, false);
  tool.strings.push_back({"gen_ai.tool.call.result", std::string(70000, 'x')});
  tool.strings.erase(tool.strings.begin() + 4);  // the short result
  Send({chat, tool});
  const Episode e = Only();
  ASSERT_EQ(e.steps.size(), 2u);
  EXPECT_EQ(e.steps[0].tokens, 12);
  EXPECT_EQ(e.steps[0].action, "gpt-4o-mini");
  EXPECT_EQ(e.steps[0].metadata["gen_ai.provider.name"], "openai");
  EXPECT_EQ(e.steps[1].observation.size(), 64u * 1024);
  EXPECT_EQ(e.steps[1].metadata["truncated"], "observation was 70000 bytes");
  EXPECT_EQ(e.task, "chat");  // no user message, no root: the earliest span's name
  // The root, arriving later, names the run (its agent and name); a user message still would.
  Send({Root()});
  EXPECT_EQ(Only().task, "travel invoke_agent travel");
  EXPECT_EQ(Only().metadata["otel.task_fallback"], "travel invoke_agent travel");
}

TEST_P(Receiver, UnstorableValuesAreMadeFitRatherThanRefused) {
  using namespace std::string_literals;
  SpanSpec chat = Chat();
  chat.ints = {{"gen_ai.usage.input_tokens", INT64_MAX}, {"gen_ai.usage.output_tokens", INT64_MAX}};
  chat.strings[3].second =  // gen_ai.output.messages, a NUL escaped in its JSON
      R"([{"role":"assistant","parts":[{"type":"text","content":"a\u0000b"}]}])";
  SpanSpec tool = Tool(3, 1200, false);
  tool.strings[1].second = std::string(300, 't');  // gen_ai.tool.name past 128 bytes
  tool.strings[3].second = "rm -rf \0/"s;          // arguments with a NUL, not JSON
  collector::ExportTraceServiceRequest request;
  Add(request, chat);
  Add(request, tool);
  auto& spans = *request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans();
  spans[0].set_start_time_unix_nano(0);           // unset
  spans[1].set_start_time_unix_nano(UINT64_MAX);  // past what a timestamp holds
  const ExportOutcome out = ValueOf(receiver_->Export(request));
  EXPECT_EQ(out.rejected_spans, 0) << out.error_message;
  const Episode e = Only();
  ASSERT_EQ(e.steps.size(), 2u);
  const ExecutionStep& llm = e.steps[1].tool == "llm" ? e.steps[1] : e.steps[0];
  const ExecutionStep& cut = e.steps[1].tool == "llm" ? e.steps[0] : e.steps[1];
  EXPECT_EQ(llm.tokens, kMaxStepCount);
  EXPECT_EQ(llm.observation,
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(llm.timestamp.substr(0, 2), "20");  // stamped when stored
  EXPECT_EQ(cut.tool, std::string(128, 't'));
  EXPECT_EQ(cut.action, "rm -rf \xEF\xBF\xBD/");
  EXPECT_EQ(cut.latency_ms, 0);  // ends before it starts
  EXPECT_EQ(cut.metadata["truncated"], "tool was 300 bytes");

  // A root without a start, which ended before the time stamped on arrival: completed all the
  // same, at the time of completion.
  collector::ExportTraceServiceRequest root;
  Add(root, Root());
  root.mutable_resource_spans(0)
      ->mutable_scope_spans(0)
      ->mutable_spans(0)
      ->set_start_time_unix_nano(0);
  EXPECT_EQ(ValueOf(receiver_->Export(root)).rejected_spans, 0);
  const Episode done = Only();
  EXPECT_EQ(done.status, EpisodeStatus::kCompleted);
  EXPECT_GE(done.ended_at.value_or(""), done.started_at);
}

// Exports race: the root's may arrive before its children's. The episode waits for them.
TEST_P(Receiver, TheRootWaitsForTheSpansStillOnTheirWay) {
  receiver_ = std::make_unique<TraceReceiver>(*memory_, std::chrono::milliseconds(300));
  Send({Root()});
  Send({Tool(4, 1600, false)});
  Send({Chat(), Tool(3, 1200, true)});
  Episode e = Only();
  EXPECT_EQ(e.status, EpisodeStatus::kOpen);
  EXPECT_EQ(e.steps.size(), 3u);  // in arrival order across exports
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (e.status == EpisodeStatus::kOpen && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    e = Only();
  }
  EXPECT_EQ(e.status, EpisodeStatus::kCompleted);
  EXPECT_EQ(e.steps.size(), 3u);
  // And a receiver that goes completes what waits, at once.
  receiver_ = std::make_unique<TraceReceiver>(*memory_, std::chrono::hours(1));
  SpanSpec other = Root();
  other.trace = 2;
  other.strings.pop_back();  // no conversation: its own episode
  SpanSpec chat = Chat();
  chat.trace = 2;
  chat.strings.erase(chat.strings.begin() + 1, chat.strings.end());
  Send({chat, other});
  receiver_.reset();
  for (const Episode& listed : Episodes()) EXPECT_EQ(listed.status, EpisodeStatus::kCompleted);
  EXPECT_EQ(Episodes().size(), 2u);
}

TEST_P(Receiver, ExportsSentAtOnceStoreEachSpanOnce) {
  // Four exporters at once, each sending the same three traces' tool spans in batches, each
  // batch twice; traces 1 and 2 share a conversation, trace 3 has one of its own.
  constexpr uint64_t kTools = 30;
  auto span = [](uint64_t trace, uint64_t id) {
    SpanSpec s = Tool(id, id * 10, id % 7 == 0);
    s.trace = trace;
    s.strings.push_back({"gen_ai.conversation.id", trace == 3 ? "conv-3" : "conv-12"});
    return s;
  };
  std::vector<std::thread> exporters;
  for (int e = 0; e < 4; ++e) {
    exporters.emplace_back([&, e] {
      for (uint64_t from = 2; from < 2 + kTools; from += 5) {
        for (uint64_t trace : {1 + (e % 3), 1 + ((e + 1) % 3), 1 + ((e + 2) % 3)}) {
          collector::ExportTraceServiceRequest request;
          for (uint64_t id = from; id < from + 5; ++id) Add(request, span(trace, id));
          for (int again = 0; again < 2; ++again) {
            auto out = receiver_->Export(request);
            EXPECT_TRUE(out.ok() && out->rejected_spans == 0);
          }
        }
      }
    });
  }
  for (auto& t : exporters) t.join();
  const auto episodes = Episodes();
  ASSERT_EQ(episodes.size(), 2u);
  for (const Episode& listed : episodes) {
    const Episode e = ValueOf(memory_->get_episode(listed.id));
    const size_t traces = e.metadata["gen_ai.conversation.id"] == "conv-3" ? 1 : 2;
    EXPECT_EQ(e.steps.size(), traces * kTools);
    std::set<std::string> spans;
    for (const auto& step : e.steps) spans.insert(step.metadata.dump());
    EXPECT_EQ(spans.size(), e.steps.size());  // none twice
  }
}

ENGRAM_ON_BOTH_STORES(Receiver);

}  // namespace
}  // namespace engram::otlp
