// OpenTelemetry in: the GenAI spans of OTLP trace exports recorded as episodes (README, "Send
// OpenTelemetry traces", has the mapping field by field).
//
// One episode per conversation: gen_ai.conversation.id when a span of the trace has one, else
// the trace. The episode is named by both (Memory names "otel.conversation:<id>" and
// "otel.trace:<hex>"), so that spans exported later, by any node, find it again. Tool and
// model spans become steps, in start order within an export. The root span completes the
// episode once no span of it has arrived for the completion delay: exporters send spans in
// several exports at once, and the root's may overtake its children's. A span already stored
// (the same span id in the episode) is skipped, so an export sent again stores nothing twice; a
// span for a completed episode is refused.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "engram/memory.h"
#include "otlp/decode.h"

namespace engram::otlp {

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
    std::chrono::steady_clock::time_point due;
  };

 private:
  // Completes the pending episodes due by `now` (all with `now` at its maximum).
  // REQUIRES: `lock` holds mu_.
  void CompleteDue(std::unique_lock<std::mutex>& lock, std::chrono::steady_clock::time_point now);

  Memory& memory_;
  const std::chrono::milliseconds delay_;
  const Limits limits_;
  // One export at a time: two exports of one trace at once would both find its spans new.
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::map<std::string, Pending> pending_;  // by episode id, guarded by mu_
  std::jthread completer_;                  // last: started once the rest is
};

}  // namespace engram::otlp
