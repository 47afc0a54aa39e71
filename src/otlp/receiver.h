// OpenTelemetry in: the GenAI spans of OTLP trace exports recorded as episodes (README, "Send
// OpenTelemetry traces", has the mapping field by field).
//
// One episode per conversation: gen_ai.conversation.id when a span of the trace has one, else
// the trace. The episode is named by both (Memory names "otel.conversation:<id>" and
// "otel.trace:<hex>"), so that spans exported later, by any node, find it again. Tool and
// model spans become steps, in start order within an export; the root span completes the
// episode. A span already stored (the same span id in the episode) is skipped, so an export
// sent again stores nothing twice; a span for a completed episode is refused.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

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
  explicit TraceReceiver(Memory& memory, Limits limits = {}) : memory_(memory), limits_(limits) {}

  // Records the export. Spans it refuses are counted in the outcome; a failure of the store
  // (IOError, NoSpace, Unavailable, Busy) is returned, and nothing after it is stored: the
  // exporter sends the export again, and what was stored is skipped then.
  Result<ExportOutcome> Export(const collector::ExportTraceServiceRequest& request);

 private:
  Memory& memory_;
  const Limits limits_;
  // One export at a time: two exports of one trace at once would both find its spans new.
  std::mutex mu_;
};

}  // namespace engram::otlp
