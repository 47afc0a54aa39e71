// OpenTelemetry in: the GenAI spans of OTLP trace exports recorded as episodes (README, "Send
// OpenTelemetry traces", has the mapping field by field).
//
// One episode per conversation: gen_ai.conversation.id when a span of the trace has one, else
// the trace. The episode is named by both (Memory names "otel.conversation:<id>" and
// "otel.trace:<hex>"), so that spans exported later, by any node, find it again. Tool and
// model spans become steps, in start order within an export. The root span completes the
// episode once no span of it has arrived for the completion delay: exporters send spans in
// several exports at once, and the root's may overtake its children's. A span already stored
// (the same trace and span id in the episode) is skipped, so an export sent again stores nothing
// twice; a span for a completed episode is refused.
//
// Exports of different traces are recorded at once; those of one trace one after the other. The
// span ids an episode holds are kept between exports, checked against its step count (read
// with its name), so that an export reads the episode's steps only when another writer (a
// second node, another door) added some.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "engram/memory.h"
#include "otlp/decode.h"

namespace engram::otlp {

class Refusals;     // what an export refuses, and why
struct TraceSpans;  // the spans of one trace in an export

// What an export did not store, for its answer's partial_success.
struct ExportOutcome {
  int64_t rejected_spans = 0;
  std::string error_message;  // why, for the first few; empty when none was refused
};

class TraceReceiver {
 public:
  // With a completion delay of 0, the root span completes its episode at once.
  explicit TraceReceiver(Memory& memory, std::chrono::milliseconds completion_delay = kDelay,
                         Limits limits = {});
  // Completes the episodes whose root has arrived, without waiting further.
  ~TraceReceiver();
  TraceReceiver(const TraceReceiver&) = delete;
  TraceReceiver& operator=(const TraceReceiver&) = delete;

  static constexpr std::chrono::milliseconds kDelay{2000};

  // Records the export. Spans it refuses are counted in the outcome; a failure of the store
  // (IOError, NoSpace, Unavailable, Busy) is returned, and nothing after it is stored: the
  // exporter sends the export again, and what was stored is skipped then.
  Result<ExportOutcome> Export(const collector::ExportTraceServiceRequest& request);
  // Completes now the episodes whose root has arrived.
  void CompletePending();

  // An episode whose root has arrived, waiting for the rest of its spans.
  struct Pending {
    Outcome outcome;
    std::string ended_at;  // when the root span ended; "" when it did not say
    std::chrono::steady_clock::time_point due;
  };
  // What the receiver knows of an episode it records, true while the episode has `steps` steps.
  struct Known {
    int64_t steps = 0;
    std::unordered_set<std::string> spans;  // "trace/span" hex ids of the spans it stores
    std::string trace;                      // hex id of the trace that started it
    bool task_fallback = false;             // its task awaits the first user message
    bool root_named = false;                // ... and was named after the trace's root
    bool conversation = false;              // its metadata has gen_ai.conversation.id
    bool agent = false;                     // ... gen_ai.agent.name
    bool service = false;                   // ... service.name
    // Its start, ns since the epoch: the earliest span's, or kStamped when none said.
    static constexpr uint64_t kStamped = UINT64_MAX;
    uint64_t earliest = kStamped;
  };
  // What the receiver shares between exports, under one lock.
  struct Shared {
    std::mutex mu;
    std::map<std::string, Pending> pending;        // by episode id
    std::unordered_map<std::string, Known> known;  // by episode id, at most kMaxKnown
  };
  static constexpr size_t kMaxKnown = 4096;

 private:
  Status Record(const TraceSpans& t, Refusals& refused);
  // Completes the pending episodes due by `now` (all with `now` at its maximum).
  void CompleteDue(std::chrono::steady_clock::time_point now);

  Memory& memory_;
  const std::chrono::milliseconds delay_;
  const Limits limits_;
  // Exports of one trace one at a time (by its id's hash): two at once would both find its
  // spans new.
  std::array<std::mutex, 64> trace_mu_;
  Shared shared_;
  std::condition_variable_any wake_;  // with shared_.mu
  std::jthread completer_;            // last: started once the rest is
};

}  // namespace engram::otlp
