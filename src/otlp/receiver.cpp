#include "otlp/receiver.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/timestamp.h"
#include "core/utf8.h"
#include "core/validation.h"
#include "otlp/mapping.h"

namespace engram::otlp {

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

namespace {

// A span's key in an episode: span ids are unique within their trace, and an episode (a
// conversation) may hold several traces.
std::string SpanKey(std::string_view trace_hex, std::string_view span_hex) {
  return fmt::format("{}/{}", trace_hex, span_hex);
}

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

// The default service.name of an SDK not told one ("unknown_service:node"), which says nothing.
bool UnknownService(std::string_view name) {
  return name.starts_with("unknown_service");
}

// What the spans of one trace in an export say of their episode.
struct TraceFacts {
  std::optional<std::string> conversation;  // gen_ai.conversation.id, not empty
  std::optional<std::string> agent;         // gen_ai.agent.name of the earliest span with one
  std::optional<std::string> service;       // the resource's service.name, not an SDK default
  uint64_t earliest = 0;                    // the earliest start, ns since the epoch; 0 none
  const trace::Span* root = nullptr;
  bool gen_ai = false;  // a span has a gen_ai.* attribute
};

TraceFacts FactsOf(const TraceSpans& t) {
  TraceFacts f;
  const resource::Resource* resource = nullptr;
  uint64_t agent_start = 0;
  for (const SpanRef& ref : t.spans) {
    const trace::Span& span = *ref.span;
    if (IsRoot(span)) f.root = &span;
    if (!resource || IsRoot(span)) resource = ref.resource;
    f.gen_ai = f.gen_ai || IsGenAi(span);
    if (!f.conversation) f.conversation = Attribute(span, "gen_ai.conversation.id");
    const uint64_t start = span.start_time_unix_nano();
    if (!SpanTime(start).empty() && (f.earliest == 0 || start < f.earliest)) f.earliest = start;
    if (!f.agent || start < agent_start) {
      if (auto agent = Attribute(span, "gen_ai.agent.name")) {
        f.agent = std::move(agent);
        agent_start = start;
      }
    }
  }
  if (f.conversation && f.conversation->empty()) f.conversation.reset();
  if (resource) {
    auto service = Attribute(resource->attributes(), "service.name");
    if (service && !service->empty() && !UnknownService(*service)) f.service = std::move(service);
  }
  return f;
}

// The task of an agent run that has no user message (yet): the root's agent name and name, or
// with no root among the spans, the earliest span's.
std::string FallbackTask(const TraceSpans& t, const TraceFacts& f, const Limits& limits) {
  const trace::Span* named = f.root;
  for (const SpanRef& ref : t.spans) {
    if (f.root) break;
    if (!named || ref.span->start_time_unix_nano() < named->start_time_unix_nano()) {
      named = ref.span;
    }
  }
  const auto& agent = f.agent;
  std::string task = agent && *agent != named->name() ? fmt::format("{} {}", *agent, named->name())
                                                      : named->name();
  task = StorableText(std::move(task));
  if (task.empty()) task = "an OpenTelemetry trace";
  return Cut(std::move(task), limits.max_task_bytes);
}

// The episode a trace's first spans start: the task is the first user message of the
// earliest span that has input messages, else FallbackTask (kept in the metadata as
// otel.task_fallback, for the user message, or the root when it comes later, to replace).
EpisodeSpec SpecOf(const TraceSpans& t, const TraceFacts& f, const Limits& limits) {
  EpisodeSpec spec;
  spec.task = UserTask(t, limits);
  const bool fallback = spec.task.empty();
  if (fallback) spec.task = FallbackTask(t, f, limits);
  spec.metadata = nlohmann::json::object();
  spec.metadata["otel.trace_id"] = t.hex;
  if (f.conversation) spec.metadata["gen_ai.conversation.id"] = *f.conversation;
  if (f.agent) spec.metadata["gen_ai.agent.name"] = *f.agent;
  if (fallback) spec.metadata["otel.task_fallback"] = spec.task;
  if (f.agent && !f.agent->empty()) {
    spec.context.tags.push_back(Cut(*f.agent, limits.max_tool_bytes));
  }
  if (f.service) {
    spec.metadata["service.name"] = *f.service;
    spec.context.domain = Cut(*f.service, limits.max_tool_bytes);
  }
  if (f.earliest) spec.started_at = SpanTime(f.earliest);
  return spec;
}

// What an episode the receiver starts for these facts knows of itself.
TraceReceiver::Known KnownOf(const TraceFacts& f, const std::string& trace, bool fallback) {
  TraceReceiver::Known known;
  known.trace = trace;
  known.task_fallback = fallback;
  known.root_named = fallback && f.root;
  known.conversation = f.conversation.has_value();
  known.agent = f.agent.has_value();
  known.service = f.service.has_value();
  known.earliest = f.earliest ? f.earliest : TraceReceiver::Known::kStamped;
  return known;
}

// What the facts add to an episode that knows `known` (the user's message, when it arrives
// after the episode started without it; a conversation id, agent or service not seen before;
// an earlier start): the amendment, and `known` as it will be. Nothing set when nothing is new.
EpisodeAmendment AmendmentOf(const TraceSpans& t, const TraceFacts& f, TraceReceiver::Known& known,
                             const Limits& limits) {
  EpisodeAmendment a;
  if (known.task_fallback) {
    if (std::string task = UserTask(t, limits); !task.empty()) {
      a.task = std::move(task);
      known.task_fallback = false;
    } else if (f.root && !known.root_named) {  // the root names the run better than a child
      a.task = FallbackTask(t, f, limits);
      a.metadata["otel.task_fallback"] = *a.task;
      known.root_named = true;
    }
  }
  if (f.conversation && !known.conversation) {
    a.metadata["gen_ai.conversation.id"] = *f.conversation;
    known.conversation = true;
  }
  if (f.agent && !known.agent) {
    a.metadata["gen_ai.agent.name"] = *f.agent;
    if (!f.agent->empty()) a.tags.push_back(Cut(*f.agent, limits.max_tool_bytes));
    known.agent = true;
  }
  if (f.service && !known.service) {
    a.metadata["service.name"] = *f.service;
    a.domain = Cut(*f.service, limits.max_tool_bytes);
    known.service = true;
  }
  if (f.earliest && f.earliest < known.earliest) {
    a.started_at = SpanTime(f.earliest);
    known.earliest = f.earliest;
  }
  return a;
}

// Completes the episode at `ended_at` (now when it is "", a root span without an end), its
// steps put in the order they started: exports race, so they may have arrived out of it.
Result<Episode> Complete(Memory& memory, const std::string& id, const Outcome& outcome,
                         const std::string& ended_at) {
  CompletionOptions options;
  if (!ended_at.empty()) options.ended_at = ended_at;
  options.order_steps_by_time = true;
  auto done = memory.complete_episode(id, outcome, options);
  if (done.ok() || !done.status().IsInvalidArgument() || !options.ended_at) return done;
  // The root ended before a start stamped on arrival (spans that said no start): now, then.
  options.ended_at.reset();
  return memory.complete_episode(id, outcome, options);
}

bool Empty(const EpisodeAmendment& a) {
  return !a.task && !a.started_at && !a.domain && a.tags.empty() && a.metadata.empty();
}

// What the receiver knows of an episode it found by name rather than started: read from it.
Result<TraceReceiver::Known> Read(Memory& memory, const std::string& id) {
  auto episode = memory.get_episode(id);
  if (!episode.ok()) return episode.status();
  TraceReceiver::Known known;
  known.steps = episode->steps.empty() ? 0 : episode->steps.back().step_number;
  for (const ExecutionStep& step : episode->steps) {
    if (step.metadata.is_object()) {
      known.spans.insert(SpanKey(step.metadata.value("otel.trace_id", ""),
                                 step.metadata.value("otel.span_id", "")));
    }
  }
  if (episode->metadata.is_object()) {
    const nlohmann::json& m = episode->metadata;
    known.trace = m.value("otel.trace_id", "");
    known.task_fallback = episode->status == EpisodeStatus::kOpen &&
                          m.value("otel.task_fallback", "") == episode->task;
    known.conversation = m.contains("gen_ai.conversation.id");
    known.agent = m.contains("gen_ai.agent.name");
    known.service = m.contains("service.name");
  }
  if (auto started = ParseTimestamp("started_at", episode->started_at); started.ok()) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(started->time_since_epoch());
    if (ns.count() > 0) known.earliest = static_cast<uint64_t>(ns.count());
  }
  return known;
}

// The episode the trace's spans go to, found by its names (and named by those it lacks) or
// started; nullopt when the trace is not an agent's or its names are refused.
Result<std::optional<NamedEpisode>> EpisodeOf(Memory& memory, const Limits& limits,
                                              const TraceSpans& t, const TraceFacts& facts,
                                              bool& fallback, Refusals& refused) {
  const std::optional<std::string>& conversation = facts.conversation;
  std::vector<std::string> names;
  // A conversation id too long to be a name leaves its episode to the trace (the id is kept in
  // the metadata all the same).
  constexpr std::string_view kConversation = "otel.conversation:";
  if (conversation && kConversation.size() + conversation->size() <= kMaxEpisodeNameBytes) {
    names.push_back(std::string(kConversation) + *conversation);
  }
  names.push_back("otel.trace:" + t.hex);

  // Each name looked up (reads), and written only where it is new.
  std::optional<NamedEpisode> episode;
  std::vector<const std::string*> unnamed;
  for (const std::string& name : names) {
    auto found = memory.find_named_episode(name);
    if (found.ok()) {
      if (!episode) episode = std::move(*found);
      continue;
    }
    if (!found.status().IsNotFound()) return found.status();
    unnamed.push_back(&name);
  }
  if (!episode) {
    if (!facts.gen_ai) return std::optional<NamedEpisode>();  // not an agent's: none of it stored
    const EpisodeSpec spec = SpecOf(t, facts, limits);
    auto started = memory.start_named_episode(names.front(), spec);
    if (!started.ok()) {
      if (!Refusable(started.status())) return started.status();
      refused.Add(static_cast<int64_t>(t.spans.size()), started.status().message());
      return std::optional<NamedEpisode>();
    }
    fallback = spec.metadata.contains("otel.task_fallback");
    episode = std::move(*started);
    unnamed.erase(unnamed.begin());  // names.front(), named by starting
  }
  for (const std::string* name : unnamed) {  // both, for the spans that carry only one
    Status s = memory.name_episode(episode->id, *name);
    if (!s.ok() && !s.IsAlreadyExists()) return s;
  }
  return episode;
}

}  // namespace

// Records one trace's spans. Returns a failure of the store; refusals go to `refused`. An
// episode whose root arrived waits in the pending episodes for the rest of its spans (its due
// time moves with each span that arrives), or completes at once with no delay.
Status TraceReceiver::Record(const TraceSpans& t, Refusals& refused) {
  const TraceFacts facts = FactsOf(t);
  bool fallback = false;
  auto named = EpisodeOf(memory_, limits_, t, facts, fallback, refused);
  if (!named.ok()) return named.status();
  if (!*named) return Status::Ok();
  const NamedEpisode& episode = **named;
  const std::string& id = episode.id;

  // What is known of it: kept from an earlier export while its step count holds, else read.
  std::optional<Known> kept;
  {
    std::lock_guard lock(shared_.mu);
    if (auto it = shared_.known.find(id); it != shared_.known.end()) {
      if (it->second.steps == episode.steps) kept = std::move(it->second);
      shared_.known.erase(it);
    }
  }
  Known known;
  if (kept) {
    known = std::move(*kept);
  } else if (episode.started) {
    known = KnownOf(facts, t.hex, fallback);
  } else {
    auto read = Read(memory_, id);
    if (!read.ok()) return read.status();
    known = std::move(*read);
  }

  const trace::Span* root = facts.root;
  std::vector<const trace::Span*> fresh;
  for (const SpanRef& ref : t.spans) {
    // insert: a span twice in one export is stored once too.
    if (RoleOf(*ref.span) != SpanRole::kOther &&
        known.spans.insert(SpanKey(t.hex, HexId(ref.span->span_id()))).second) {
      fresh.push_back(ref.span);
    }
  }
  std::stable_sort(fresh.begin(), fresh.end(), [](const auto* a, const auto* b) {
    return a->start_time_unix_nano() < b->start_time_unix_nano();
  });
  if (episode.status == EpisodeStatus::kCompleted) {
    // The root that completed the episode, sent again, is no news; another trace's root is.
    const int64_t late = static_cast<int64_t>(fresh.size()) + (root && known.trace != t.hex);
    refused.Add(late, fmt::format("{} span(s) of trace {} arrived after episode {} completed", late,
                                  t.hex, id));
    return Status::Ok();
  }
  // What these spans say that the episode lacks: one write, and none when nothing is new.
  if (EpisodeAmendment a = AmendmentOf(t, facts, known, limits_); !Empty(a)) {
    Status s = memory_.amend_episode(id, a);
    if (!s.ok() && !Refusable(s)) return s;
  }
  bool keep = true;  // whether `known` still tells the episode's steps
  if (!fresh.empty()) {
    std::vector<ExecutionStep> steps;
    for (const trace::Span* span : fresh) steps.push_back(StepOf(*span, RoleOf(*span), limits_));
    auto logged = memory_.log_steps(id, std::move(steps));
    if (!logged.ok()) {
      if (!Refusable(logged.status())) return logged.status();
      refused.Add(static_cast<int64_t>(fresh.size()), logged.status().message());
      keep = false;
    } else {
      // Numbered right after the known steps: no other writer came between.
      keep = logged->front() == known.steps + 1 &&
             logged->back() == known.steps + static_cast<int64_t>(logged->size());
      known.steps = logged->back();
    }
  }

  // The root's end, never before the episode's start (the clocks of several services differ);
  // "" (the time of completion) for a root without an end.
  const std::string ended_at =
      root && !SpanTime(root->end_time_unix_nano()).empty()
          ? SpanTime(known.earliest == Known::kStamped
                         ? root->end_time_unix_nano()
                         : std::max<uint64_t>(root->end_time_unix_nano(), known.earliest))
          : "";
  std::optional<Outcome> complete_now;
  {
    std::lock_guard lock(shared_.mu);
    const auto due = std::chrono::steady_clock::now() + delay_;
    auto pending = shared_.pending.find(id);
    if (pending != shared_.pending.end()) pending->second.due = due;
    if (root && pending == shared_.pending.end()) {
      Outcome outcome;
      outcome.kind = Failed(*root) ? OutcomeKind::kFailure : OutcomeKind::kSuccess;
      if (Failed(*root)) {
        outcome.summary = Cut(StorableText(root->status().message()), limits_.max_task_bytes);
      }
      if (delay_.count() > 0) {
        shared_.pending.emplace(id, Pending{std::move(outcome), ended_at, due});
        wake_.notify_all();
      } else {
        complete_now = std::move(outcome);
      }
    }
    if (keep && !complete_now) {
      if (shared_.known.size() >= kMaxKnown) shared_.known.erase(shared_.known.begin());
      shared_.known.insert_or_assign(id, std::move(known));
    }
  }
  if (complete_now) {
    auto done = Complete(memory_, id, *complete_now, ended_at);
    if (!done.ok()) {
      if (done.status().IsFailedPrecondition()) return Status::Ok();  // completed meanwhile
      if (!Refusable(done.status())) return done.status();
      refused.Add(1, done.status().message());
    }
  }
  return Status::Ok();
}

TraceReceiver::TraceReceiver(Memory& memory, std::chrono::milliseconds completion_delay,
                             Limits limits)
    : memory_(memory), delay_(completion_delay), limits_(limits) {
  if (delay_.count() <= 0) return;
  completer_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(shared_.mu);
        const auto& pending = shared_.pending;
        const auto next = pending.empty() ? std::chrono::steady_clock::now() + delay_
                                          : std::min_element(pending.begin(), pending.end(),
                                                             [](const auto& a, const auto& b) {
                                                               return a.second.due < b.second.due;
                                                             })
                                                ->second.due;
        wake_.wait_until(lock, stop, next, [] { return false; });
      }
      CompleteDue(std::chrono::steady_clock::now());
    }
  });
}

TraceReceiver::~TraceReceiver() {
  completer_.request_stop();
  if (completer_.joinable()) completer_.join();
  CompletePending();
}

void TraceReceiver::CompletePending() {
  CompleteDue(std::chrono::steady_clock::time_point::max());
}

void TraceReceiver::CompleteDue(std::chrono::steady_clock::time_point now) {
  std::vector<std::pair<std::string, Pending>> due;
  {
    std::lock_guard lock(shared_.mu);
    for (auto it = shared_.pending.begin(); it != shared_.pending.end();) {
      if (it->second.due > now) {
        ++it;
        continue;
      }
      shared_.known.erase(it->first);
      due.emplace_back(it->first, std::move(it->second));
      it = shared_.pending.erase(it);
    }
  }
  for (const auto& [id, pending] : due) {
    // A failure of the store leaves the episode open with all its steps: nothing is lost but
    // the outcome, which the root's export said.
    (void)Complete(memory_, id, pending.outcome, pending.ended_at);
  }
}

Result<ExportOutcome> TraceReceiver::Export(const collector::ExportTraceServiceRequest& request) {
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
    std::lock_guard lock(trace_mu_[std::hash<std::string>()(t.hex) % trace_mu_.size()]);
    if (Status s = Record(t, refused); !s.ok()) return s;
  }
  return refused.Take();
}

}  // namespace engram::otlp
