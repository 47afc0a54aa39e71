#include "otlp/receiver.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/lock_held.h"
#include "core/utf8.h"
#include "otlp/mapping.h"

namespace engram::otlp {
namespace {

constexpr size_t kMaxReasons = 3;  // reasons an answer names; the count covers the rest

// What an export refused, with the first few reasons.
class Refusals {
 public:
  void Add(int64_t spans, const std::string& why) {
    if (spans <= 0) return;
    out_.rejected_spans += spans;
    if (reasons_++ < kMaxReasons) {
      out_.error_message += (out_.error_message.empty() ? "" : "; ") + why;
    }
  }
  ExportOutcome Take() { return std::move(out_); }

 private:
  ExportOutcome out_;
  size_t reasons_ = 0;
};

// The spans of one trace in an export.
struct TraceSpans {
  std::string hex;
  std::vector<SpanRef> spans;
};

bool Refusable(const Status& s) {
  return s.IsInvalidArgument() || s.IsFailedPrecondition() || s.IsResourceExhausted() ||
         s.IsNotFound();
}

std::string Cut(std::string text, size_t limit) {
  if (text.size() > limit) text = std::string(Utf8Prefix(text, limit));
  return text;
}

// The first user message of the earliest span of these that has input messages; "" when none.
std::string UserTask(const TraceSpans& t, const Limits& limits) {
  const trace::Span* first = nullptr;
  std::string task;
  for (const SpanRef& ref : t.spans) {
    if (first && first->start_time_unix_nano() <= ref.span->start_time_unix_nano()) continue;
    std::string text = FirstUserMessage(*ref.span);
    if (text.empty()) continue;
    first = ref.span;
    task = std::move(text);
  }
  return Cut(std::move(task), limits.max_task_bytes);
}

// The episode a trace's first spans start: the task is the first user message of the
// earliest span that has input messages, else the root's agent name and name (kept in the
// metadata as otel.task_fallback, for the user message to replace when it arrives).
EpisodeSpec SpecOf(const TraceSpans& t, const std::optional<std::string>& conversation,
                   const Limits& limits) {
  EpisodeSpec spec;
  std::vector<const trace::Span*> by_start;
  const trace::Span* root = nullptr;
  const resource::Resource* resource = nullptr;
  for (const SpanRef& ref : t.spans) {
    by_start.push_back(ref.span);
    if (IsRoot(*ref.span)) root = ref.span;
    if (!resource || IsRoot(*ref.span)) resource = ref.resource;
  }
  std::stable_sort(by_start.begin(), by_start.end(), [](const auto* a, const auto* b) {
    return a->start_time_unix_nano() < b->start_time_unix_nano();
  });
  spec.task = UserTask(t, limits);
  const bool fallback = spec.task.empty();
  std::optional<std::string> agent;
  for (const trace::Span* span : by_start) {
    if ((agent = Attribute(*span, "gen_ai.agent.name"))) break;
  }
  if (spec.task.empty()) {
    const trace::Span* named = root ? root : by_start.front();
    spec.task = agent && *agent != named->name() ? fmt::format("{} {}", *agent, named->name())
                                                 : named->name();
  }
  if (spec.task.empty()) spec.task = "an OpenTelemetry trace";
  spec.task = Cut(std::move(spec.task), limits.max_task_bytes);
  spec.metadata = nlohmann::json::object();
  spec.metadata["otel.trace_id"] = t.hex;
  if (conversation) spec.metadata["gen_ai.conversation.id"] = *conversation;
  if (agent) spec.metadata["gen_ai.agent.name"] = *agent;
  if (fallback) spec.metadata["otel.task_fallback"] = spec.task;
  if (resource) {
    if (auto service = Attribute(resource->attributes(), "service.name")) {
      spec.metadata["service.name"] = *service;
    }
  }
  return spec;
}

// Records one trace's spans. Returns a failure of the store; refusals go to `refused`. An
// episode whose root arrived waits in `pending` for the rest of its spans (its due time moves
// with each span that arrives), or completes at once with no delay.
Status Record(Memory& memory, const Limits& limits, std::chrono::milliseconds delay,
              std::map<std::string, TraceReceiver::Pending>& pending, const TraceSpans& t,
              Refusals& refused) {
  const std::string trace_name = "otel.trace:" + t.hex;
  std::optional<std::string> conversation;
  const trace::Span* root = nullptr;
  bool gen_ai = false;
  for (const SpanRef& ref : t.spans) {
    if (!conversation) conversation = Attribute(*ref.span, "gen_ai.conversation.id");
    if (IsRoot(*ref.span)) root = ref.span;
    gen_ai = gen_ai || IsGenAi(*ref.span);
  }
  std::vector<std::string> names;
  if (conversation) names.push_back("otel.conversation:" + *conversation);
  names.push_back(trace_name);

  // Each name looked up (reads), and written only where it is new.
  std::optional<std::string> id;
  std::vector<const std::string*> unnamed;
  for (const std::string& name : names) {
    auto found = memory.find_named_episode(name);
    if (found.ok()) {
      if (!id) id = *found;
      continue;
    }
    if (found.status().IsInvalidArgument()) {  // a conversation id past a name's limit
      refused.Add(static_cast<int64_t>(t.spans.size()), found.status().message());
      return Status::Ok();
    }
    if (!found.status().IsNotFound()) return found.status();
    unnamed.push_back(&name);
  }
  if (!id) {
    if (!gen_ai) return Status::Ok();  // not an agent's trace: nothing of it is stored
    auto started = memory.start_named_episode(names.front(), SpecOf(t, conversation, limits));
    if (!started.ok()) {
      if (!Refusable(started.status())) return started.status();
      refused.Add(static_cast<int64_t>(t.spans.size()), started.status().message());
      return Status::Ok();
    }
    id = started->id;
    unnamed.erase(unnamed.begin());  // names.front(), named by starting
  }
  for (const std::string* name : unnamed) {  // both, for the spans that carry only one
    Status s = memory.name_episode(*id, *name);
    if (!s.ok() && !s.IsAlreadyExists()) return s;
  }

  auto episode = memory.get_episode(*id);
  if (!episode.ok()) return episode.status();
  // The user's message, when it arrives after the episode started without it.
  if (episode->status == EpisodeStatus::kOpen && episode->metadata.is_object() &&
      episode->metadata.value("otel.task_fallback", "") == episode->task) {
    if (std::string task = UserTask(t, limits); !task.empty()) {
      Status s = memory.set_task(*id, task);
      if (!s.ok() && !Refusable(s)) return s;
    }
  }
  std::unordered_set<std::string> stored;
  for (const ExecutionStep& step : episode->steps) {
    if (step.metadata.is_object()) stored.insert(step.metadata.value("otel.span_id", ""));
  }
  std::vector<const trace::Span*> fresh;
  for (const SpanRef& ref : t.spans) {
    // insert: a span twice in one export is stored once too.
    if (RoleOf(*ref.span) != SpanRole::kOther && stored.insert(HexId(ref.span->span_id())).second) {
      fresh.push_back(ref.span);
    }
  }
  std::stable_sort(fresh.begin(), fresh.end(), [](const auto* a, const auto* b) {
    return a->start_time_unix_nano() < b->start_time_unix_nano();
  });
  // The root that completed the episode, sent again, is no news; another trace's root is.
  const bool own_root = root && episode->metadata.is_object() &&
                        episode->metadata.value("otel.trace_id", "") == t.hex;
  if (episode->status == EpisodeStatus::kCompleted) {
    const int64_t late = static_cast<int64_t>(fresh.size()) + (root && !own_root ? 1 : 0);
    refused.Add(late, fmt::format("{} span(s) of trace {} arrived after episode {} completed", late,
                                  t.hex, *id));
    return Status::Ok();
  }
  if (!fresh.empty()) {
    std::vector<ExecutionStep> steps;
    for (const trace::Span* span : fresh) steps.push_back(StepOf(*span, RoleOf(*span), limits));
    auto logged = memory.log_steps(*id, std::move(steps));
    if (!logged.ok()) {
      if (!Refusable(logged.status())) return logged.status();
      refused.Add(static_cast<int64_t>(fresh.size()), logged.status().message());
    }
  }
  const auto due = std::chrono::steady_clock::now() + delay;
  if (auto it = pending.find(*id); it != pending.end()) it->second.due = due;
  if (root && !pending.count(*id)) {
    Outcome outcome;
    outcome.kind = Failed(*root) ? OutcomeKind::kFailure : OutcomeKind::kSuccess;
    if (Failed(*root)) outcome.summary = Cut(root->status().message(), limits.max_task_bytes);
    if (delay.count() > 0) {
      pending.emplace(*id, TraceReceiver::Pending{std::move(outcome), due});
      return Status::Ok();
    }
    auto done = memory.complete_episode(*id, outcome);
    if (!done.ok()) {
      if (done.status().IsFailedPrecondition()) return Status::Ok();  // completed meanwhile
      if (!Refusable(done.status())) return done.status();
      refused.Add(1, done.status().message());
    }
  }
  return Status::Ok();
}

}  // namespace

TraceReceiver::TraceReceiver(Memory& memory, std::chrono::milliseconds completion_delay,
                             Limits limits)
    : memory_(memory), delay_(completion_delay), limits_(limits) {
  if (delay_.count() <= 0) return;
  completer_ = std::jthread([this](std::stop_token stop) {
    std::unique_lock lock(mu_);
    while (!stop.stop_requested()) {
      const auto next = pending_.empty() ? std::chrono::steady_clock::now() + delay_
                                         : std::min_element(pending_.begin(), pending_.end(),
                                                            [](const auto& a, const auto& b) {
                                                              return a.second.due < b.second.due;
                                                            })
                                               ->second.due;
      wake_.wait_until(lock, stop, next, [] { return false; });
      CompleteDue(lock, std::chrono::steady_clock::now());
    }
  });
}

TraceReceiver::~TraceReceiver() {
  completer_.request_stop();
  if (completer_.joinable()) completer_.join();
  CompletePending();
}

void TraceReceiver::CompletePending() {
  std::unique_lock lock(mu_);
  CompleteDue(lock, std::chrono::steady_clock::time_point::max());
}

void TraceReceiver::CompleteDue(std::unique_lock<std::mutex>& lock,
                                std::chrono::steady_clock::time_point now) {
  AssertHeld(lock, mu_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.due > now) {
      ++it;
      continue;
    }
    // A failure of the store leaves the episode open with all its steps: nothing is lost but
    // the outcome, which the root's export said.
    (void)memory_.complete_episode(it->first, it->second.outcome);
    it = pending_.erase(it);
  }
}

Result<ExportOutcome> TraceReceiver::Export(const collector::ExportTraceServiceRequest& request) {
  std::unique_lock lock(mu_);
  Refusals refused;
  std::vector<TraceSpans> traces;
  std::unordered_map<std::string, size_t> by_trace;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const trace::Span& span : ss.spans()) {
        if (span.trace_id().size() != 16 || span.span_id().size() != 8 ||
            (!span.parent_span_id().empty() && span.parent_span_id().size() != 8)) {
          refused.Add(
              1, fmt::format("span \"{}\" has a trace id of {} bytes and a span id of {} "
                             "bytes; they must be 16 and 8",
                             Cut(span.name(), 100), span.trace_id().size(), span.span_id().size()));
          continue;
        }
        const std::string hex = HexId(span.trace_id());
        auto [it, added] = by_trace.emplace(hex, traces.size());
        if (added) traces.push_back(TraceSpans{hex, {}});
        traces[it->second].spans.push_back(SpanRef{&span, &rs.resource()});
      }
    }
  }
  for (const TraceSpans& t : traces) {
    if (Status s = Record(memory_, limits_, delay_, pending_, t, refused); !s.ok()) return s;
  }
  return refused.Take();
}

}  // namespace engram::otlp
