#include "engine/memory_impl.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/timestamp.h"
#include "core/uuid.h"
#include "learn/learner.h"
#include "store/url.h"

namespace engram {
namespace {

constexpr size_t kMaxCachedEpisodes = 4096;

}  // namespace

Result<std::unique_ptr<Memory>> Memory::open(std::string_view url, Options options) {
  if (options.max_batch_steps == 0) {
    return Status::InvalidArgument("max_batch_steps must be at least 1, got 0");
  }
  if (options.max_pending_steps == 0) {
    return Status::InvalidArgument("max_pending_steps must be at least 1, got 0");
  }
  if (options.retention) {
    if (Status s = ValidatePruneAge("retention.older_than", options.retention->older_than);
        !s.ok()) {
      return s;
    }
    if (options.retention->every <= std::chrono::milliseconds(0)) {
      return Status::InvalidArgument(fmt::format("retention.every must be above 0 ms, got {} ms",
                                                 options.retention->every.count()));
    }
  }
  auto redactor = Redactor::Make(options.redaction);
  if (!redactor.ok()) return redactor.status();
  auto store = OpenStore(url, options);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Memory>(
      new MemoryImpl(std::move(*store), std::move(options), std::move(*redactor)));
}

namespace {

Options WithDefaults(Options options) {
  if (!options.clock) options.clock = SystemClock();
  options.max_batch_steps = std::max<size_t>(options.max_batch_steps, 1);
  options.max_pending_steps = std::max<size_t>(options.max_pending_steps, 1);
  return options;
}

}  // namespace

MemoryImpl::MemoryImpl(std::unique_ptr<Store> store, Options options,
                       std::shared_ptr<const Redactor> redactor)
    : store_(std::move(store)),
      options_(WithDefaults(std::move(options))),
      redactor_(std::move(redactor)) {
  writer_ = std::thread([this] { WriterLoop(); });
  if (options_.retention) retention_ = std::thread([this] { RetentionLoop(); });
}

MemoryImpl::~MemoryImpl() {
  (void)close();
}

Status MemoryImpl::CheckOpen() const {
  if (closed_) return Status::Aborted("memory is closed");
  return Status::Ok();
}

Episode MemoryImpl::NewEpisode(const EpisodeSpec& spec) const {
  const auto now = options_.clock->now();
  Episode e;
  e.id = NewUuidV7(now);
  e.task = spec.task;
  e.task_type = spec.task_type;
  e.context = spec.context;
  e.status = EpisodeStatus::kOpen;
  // Validated with the spec: the time normalized, so stored times compare as text.
  e.started_at = spec.started_at ? NormalizeTimestamp("started_at", *spec.started_at).value()
                                 : FormatTimestamp(now);
  e.metadata = spec.metadata.is_null() ? nlohmann::json::object() : spec.metadata;
  return e;
}

void MemoryImpl::Remember(int64_t key, const std::string& id) {
  std::lock_guard lock(mu_);
  if (episodes_.size() < kMaxCachedEpisodes) {
    episodes_[key] = EpisodeState{id, EpisodeStatus::kOpen, false, 1, 0, Status::Ok()};
    key_by_id_[id] = key;
  }
}

Result<std::string> MemoryImpl::start_episode(const EpisodeSpec& sent) {
  EpisodeSpec spec = sent;
  redactor_->Redact(spec);
  if (Status s = ValidateEpisodeSpec(spec, options_.limits); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  const Episode e = NewEpisode(spec);
  auto key = store_->insert_episode(e);
  if (!NoteWrite(key.ok() ? Status::Ok() : key.status()).ok()) return key.status();
  Remember(*key, e.id);
  return e.id;
}

Result<NamedEpisode> MemoryImpl::start_named_episode(std::string_view name,
                                                     const EpisodeSpec& sent) {
  if (Status s = ValidateEpisodeName(name); !s.ok()) return s;
  EpisodeSpec spec = sent;
  redactor_->Redact(spec);
  if (Status s = ValidateEpisodeSpec(spec, options_.limits); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  const Episode e = NewEpisode(spec);
  auto named = store_->insert_named_episode(e, name);
  if (!NoteWrite(named.ok() ? Status::Ok() : named.status()).ok()) return named.status();
  if (named->inserted) Remember(named->key, named->id);
  return NamedEpisode{named->id, named->inserted, named->status, named->last_step,
                      std::move(named->task)};
}

Result<NamedEpisode> MemoryImpl::find_named_episode(std::string_view name) {
  if (Status s = ValidateEpisodeName(name); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  auto named = store_->find_named_episode(name);
  if (!named.ok()) return named.status();
  return NamedEpisode{named->id, false, named->status, named->last_step, std::move(named->task)};
}

Result<std::pair<std::string, int64_t>> MemoryImpl::StoredKey(std::string_view episode_id) {
  auto id = NormalizeEpisodeId(episode_id);
  if (!id.ok()) return id.status();
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  auto head = store_->find_episode(*id);
  if (!head.ok()) return head.status();
  return std::pair{*id, head->key};
}

Status MemoryImpl::amend_episode(std::string_view episode_id, const EpisodeAmendment& sent) {
  EpisodeAmendment a = sent;
  redactor_->Redact(a);
  if (Status s = ValidateAmendment(a, options_.limits); !s.ok()) return s;
  auto stored = StoredKey(episode_id);
  if (!stored.ok()) return stored.status();
  const auto& [id, key] = *stored;
  Status s = store_->amend_episode(key, a, options_.limits.max_parameters_bytes);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("episode {} not found", id));
  if (s.IsFailedPrecondition()) {
    return Status::FailedPrecondition(
        fmt::format("episode {} is completed: it stays as it is", id));
  }
  if (s.IsInvalidArgument()) return s;
  return NoteWrite(s);
}

Status MemoryImpl::name_episode(std::string_view episode_id, std::string_view name) {
  if (Status s = ValidateEpisodeName(name); !s.ok()) return s;
  auto stored = StoredKey(episode_id);
  if (!stored.ok()) return stored.status();
  const auto& [id, key] = *stored;
  Status s = store_->name_episode(key, name);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("episode {} not found", id));
  if (s.IsAlreadyExists()) return s;
  return NoteWrite(s);
}

Result<MemoryImpl::EpisodeState*> MemoryImpl::State(std::unique_lock<std::mutex>& lock,
                                                    std::string_view episode_id, int64_t* key) {
  AssertHeld(lock, mu_);
  auto normalized = NormalizeEpisodeId(episode_id);
  if (!normalized.ok()) return normalized.status();
  const std::string& id = *normalized;
  if (auto it = key_by_id_.find(id); it != key_by_id_.end()) {
    *key = it->second;
    return &episodes_.at(it->second);
  }
  lock.unlock();
  auto head = store_->find_episode(id);
  lock.lock();
  if (!head.ok()) return head.status();
  if (auto it = key_by_id_.find(id); it != key_by_id_.end()) {  // another thread loaded it
    *key = it->second;
    return &episodes_.at(it->second);
  }
  if (episodes_.size() >= kMaxCachedEpisodes) {
    // Forget episodes with nothing in flight; the store can tell us about them again.
    for (auto it = episodes_.begin(); it != episodes_.end();) {
      if (it->second.uncommitted == 0 && !it->second.closing) {
        key_by_id_.erase(it->second.id);
        it = episodes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  *key = head->key;
  key_by_id_[id] = head->key;
  auto& state = episodes_[head->key];
  state = EpisodeState{id, head->status, false, head->last_step + 1, 0, Status::Ok()};
  return &state;
}

Result<std::vector<StepTicket>> MemoryImpl::Enqueue(bool caller_waits, std::string_view episode_id,
                                                    std::vector<PreparedStep> steps) {
  std::unique_lock lock(mu_);
  // Back-pressure first: the state checks below must hold when the steps are queued.
  drained_cv_.wait(lock, [&] { return closed_ || queued_steps_ < options_.max_pending_steps; });
  if (Status s = CheckOpen(); !s.ok()) return s;
  int64_t key = 0;
  auto state_or = State(lock, episode_id, &key);
  if (!state_or.ok()) return state_or.status();
  if (Status s = CheckOpen(); !s.ok()) return s;
  EpisodeState& state = **state_or;
  if (state.status == EpisodeStatus::kCompleted || state.closing) {
    return CompletedEpisodeRefusesSteps(state.id);
  }
  if (!caller_waits && !state.stream_failure.ok()) return state.stream_failure;
  const int64_t limit = options_.limits.max_steps_per_episode;
  if (state.next_step - 1 + static_cast<int64_t>(steps.size()) > limit) {
    return Status::ResourceExhausted(
        fmt::format("episode {} has {} steps, limit {} steps: {} more do not fit", state.id,
                    state.next_step - 1, limit, steps.size()));
  }

  // A batch stays open to new steps until it is full or max_batch_delay old; the writer takes
  // the front batch the moment it is free, so a lone step never waits for the timer. The steps
  // of one call always share a batch, even past max_batch_steps: they commit all or none.
  const auto now = std::chrono::steady_clock::now();
  if (queue_.empty() || queue_.back().steps.size() + steps.size() > options_.max_batch_steps ||
      now - queue_.back().opened >= options_.max_batch_delay) {
    queue_.push_back(Batch{{}, now});
    queue_.back().steps.reserve(std::max<size_t>(steps.size(), 16));
  }
  Batch& batch = queue_.back();
  std::vector<StepTicket> tickets;
  tickets.reserve(steps.size());
  for (auto& prepared : steps) {
    PendingStep& p = batch.steps.emplace_back();
    p.episode_key = key;
    p.step_number = state.next_step++;
    p.step = std::move(prepared);
    p.step.step.step_number = p.step_number;
    p.caller_waits = caller_waits;
    tickets.push_back(StepTicket{p.step_number, p.committed.get_future().share()});
  }
  state.uncommitted += static_cast<int64_t>(steps.size());
  queued_steps_ += steps.size();
  accepted_ += steps.size();
  lock.unlock();
  work_cv_.notify_one();
  return tickets;
}

Result<StepTicket> MemoryImpl::LogOne(bool caller_waits, std::string_view episode_id,
                                      ExecutionStep step) {
  redactor_->Redact(step);
  auto prepared = PrepareStep(std::move(step), options_.limits, options_.clock->now());
  if (!prepared.ok()) return prepared.status();
  std::vector<PreparedStep> one;
  one.push_back(std::move(*prepared));
  auto tickets = Enqueue(caller_waits, episode_id, std::move(one));
  if (!tickets.ok()) return tickets.status();
  return std::move(tickets->front());
}

Result<StepTicket> MemoryImpl::log_step_async(std::string_view episode_id, ExecutionStep step) {
  return LogOne(/*caller_waits=*/false, episode_id, std::move(step));
}

Result<int64_t> MemoryImpl::log_step(std::string_view episode_id, ExecutionStep step) {
  auto ticket = LogOne(/*caller_waits=*/true, episode_id, std::move(step));
  if (!ticket.ok()) return ticket.status();
  return ticket->wait();
}

Result<std::vector<int64_t>> MemoryImpl::log_steps(std::string_view episode_id,
                                                   std::vector<ExecutionStep> steps) {
  std::vector<PreparedStep> prepared;
  prepared.reserve(steps.size());
  const std::string now = FormatTimestamp(options_.clock->now());
  for (size_t i = 0; i < steps.size(); ++i) {
    redactor_->Redact(steps[i]);
    auto p = PrepareStep(std::move(steps[i]), options_.limits, now);
    if (!p.ok()) {
      return Status::InvalidArgument(fmt::format("steps[{}]: {}", i, p.status().message()));
    }
    prepared.push_back(std::move(*p));
  }
  auto tickets = Enqueue(/*caller_waits=*/true, episode_id, std::move(prepared));
  if (!tickets.ok()) return tickets.status();
  std::vector<int64_t> numbers;
  numbers.reserve(tickets->size());
  Status first_error;
  for (const auto& t : *tickets) {
    auto n = t.wait();
    if (!n.ok() && first_error.ok()) first_error = n.status();
    if (n.ok()) numbers.push_back(*n);
  }
  if (!first_error.ok()) return first_error;
  return numbers;
}

Status MemoryImpl::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = accepted_;
  drained_cv_.wait(lock, [&] { return finished_ >= target; });
  Status s = std::move(first_error_);
  first_error_ = Status::Ok();
  for (auto& [key, state] : episodes_) state.stream_failure = Status::Ok();
  return s;
}

Result<int64_t> MemoryImpl::CloseEpisode(std::unique_lock<std::mutex>& lock,
                                         std::string_view episode_id) {
  AssertHeld(lock, mu_);
  if (Status s = CheckOpen(); !s.ok()) return s;
  int64_t key = 0;
  auto state = State(lock, episode_id, &key);
  if (!state.ok()) return state.status();
  if ((*state)->status == EpisodeStatus::kCompleted || (*state)->closing) {
    return Status::FailedPrecondition(fmt::format("episode {} is already completed", (*state)->id));
  }
  (*state)->closing = true;
  drained_cv_.wait(lock, [&] {
    auto it = episodes_.find(key);
    return it == episodes_.end() || it->second.uncommitted == 0;
  });
  return key;
}

Result<Episode> MemoryImpl::complete_episode(std::string_view episode_id, const Outcome& outcome) {
  return complete_episode(episode_id, outcome, CompletionOptions{});
}

Result<Episode> MemoryImpl::complete_episode(std::string_view episode_id, const Outcome& sent,
                                             const CompletionOptions& options) {
  std::optional<std::chrono::system_clock::time_point> at;
  if (options.ended_at) {
    auto parsed = ParseTimestamp("ended_at", *options.ended_at);
    if (!parsed.ok()) return parsed.status();
    at = *parsed;
  }
  Outcome outcome = sent;
  RedactionCounts redacted;
  redactor_->Redact(outcome, redacted);
  if (Status s = ValidateOutcome(outcome, options_.limits); !s.ok()) return s;
  std::unique_lock lock(mu_);
  auto key = CloseEpisode(lock, episode_id);
  if (!key.ok()) return key.status();
  lock.unlock();
  // Every step of this process is committed now: learn from the whole episode, then store what
  // was learnt with the outcome in one transaction. Steps another process committed in between
  // are learnt from too, inside that transaction.
  const std::string id = *NormalizeEpisodeId(episode_id);  // CloseEpisode validated it
  const Status s = [&]() -> Status {
    if (options.order_steps_by_time) {
      if (Status ordered = store_->order_steps_by_time(*key); !ordered.ok()) return ordered;
    }
    auto episode = store_->load_episode(id);
    if (!episode.ok()) return episode.status();
    auto history =
        store_->recent_costs(episode->task_type, episode->context.domain, kHistoryEpisodes);
    if (!history.ok()) return history.status();
    const auto ended_at = at.value_or(options_.clock->now());
    if (at) {
      auto started = ParseTimestamp("started_at", episode->started_at);
      if (started.ok() && *at < *started) {
        return Status::InvalidArgument(
            fmt::format("ended_at {} is before the episode's started_at {}", FormatTimestamp(*at),
                        episode->started_at));
      }
    }
    return store_->complete_episode(
        *key, Learn(*episode, outcome, ended_at, *history), [&](std::vector<ExecutionStep> later) {
          Episode whole = *episode;  // a store may call this again should its transaction retry
          for (auto& step : later) whole.steps.push_back(std::move(step));
          return Learn(whole, outcome, ended_at, *history);
        });
  }();
  NoteWrite(s);
  lock.lock();
  if (auto it = episodes_.find(*key); it != episodes_.end()) {
    it->second.closing = false;
    if (s.ok() || s.IsFailedPrecondition()) it->second.status = EpisodeStatus::kCompleted;
  }
  lock.unlock();
  if (s.IsFailedPrecondition()) {
    return Status::FailedPrecondition(fmt::format("episode {} is already completed", id));
  }
  if (s.IsNotFound()) return Status::NotFound(fmt::format("episode {} not found", id));
  if (!s.ok()) return s;
  return get_episode(id);
}

const Status& MemoryImpl::NoteWrite(const Status& s) {
  if (s.ok() || s.IsNoSpace() || s.IsIOError() || s.IsUnavailable() || s.IsCorruption()) {
    std::lock_guard lock(fault_mu_);
    fault_ = s;
  }
  return s;
}

Status MemoryImpl::health() {
  if (Status s = store_->writable(); !s.ok()) return s;
  std::lock_guard lock(fault_mu_);
  return fault_;
}

Status MemoryImpl::delete_episode(std::string_view episode_id) {
  std::unique_lock lock(mu_);
  auto key = CloseEpisode(lock, episode_id);
  // A completed episode may be deleted too.
  if (!key.ok() && !key.status().IsFailedPrecondition()) return key.status();
  lock.unlock();
  const std::string id = *NormalizeEpisodeId(episode_id);  // CloseEpisode validated it
  Status s = NoteWrite(store_->delete_episode(id));
  lock.lock();
  if (auto it = key_by_id_.find(id); it != key_by_id_.end()) {
    episodes_.erase(it->second);
    key_by_id_.erase(it);
  }
  return s;
}

Result<std::map<int64_t, ExecutionStep>> MemoryImpl::Uncommitted(const std::string& id,
                                                                 int64_t after) {
  std::map<int64_t, ExecutionStep> uncommitted;
  std::lock_guard lock(mu_);
  if (Status s = CheckOpen(); !s.ok()) return s;
  if (auto it = key_by_id_.find(id); it != key_by_id_.end()) {
    const int64_t key = it->second;
    auto collect = [&](const Batch& b) {
      for (const auto& p : b.steps) {
        if (p.episode_key == key && p.step_number > after) {
          uncommitted.emplace(p.step_number, p.step.step);
        }
      }
    };
    if (in_flight_) collect(*in_flight_);
    for (const auto& b : queue_) collect(b);
  }
  return uncommitted;
}

Result<Episode> MemoryImpl::get_episode(std::string_view episode_id) {
  auto id = NormalizeEpisodeId(episode_id);
  if (!id.ok()) return id.status();
  auto uncommitted = Uncommitted(*id, 0);
  if (!uncommitted.ok()) return uncommitted.status();
  auto episode = store_->load_episode(*id);
  if (!episode.ok()) return episode.status();
  const int64_t last = episode->steps.empty() ? 0 : episode->steps.back().step_number;
  for (auto& [number, step] : *uncommitted) {
    if (number > last) episode->steps.push_back(std::move(step));
  }
  return episode;
}

Result<StepPage> MemoryImpl::list_steps(std::string_view episode_id, const StepRange& range) {
  auto id = NormalizeEpisodeId(episode_id);
  if (!id.ok()) return id.status();
  if (range.limit < 1 || range.limit > kMaxStepPage) {
    return Status::InvalidArgument(
        fmt::format("limit must be between 1 and {}, got {}", kMaxStepPage, range.limit));
  }
  if (range.after < 0) {
    return Status::InvalidArgument(fmt::format("after must be 0 or more, got {}", range.after));
  }
  auto uncommitted = Uncommitted(*id, range.after);
  if (!uncommitted.ok()) return uncommitted.status();
  auto head = store_->find_episode(*id);
  if (!head.ok()) return head.status();
  auto steps = store_->load_steps(head->key, range.after, range.limit);
  if (!steps.ok()) return steps.status();
  StepPage page;
  page.steps = std::move(*steps);
  const int64_t last = page.steps.empty() ? range.after : page.steps.back().step_number;
  for (auto& [number, step] : *uncommitted) {
    if (static_cast<int64_t>(page.steps.size()) == range.limit) break;
    if (number > last) page.steps.push_back(std::move(step));
  }
  if (static_cast<int64_t>(page.steps.size()) == range.limit) {
    page.next_after = page.steps.back().step_number;
  }
  return page;
}

Result<EpisodePage> MemoryImpl::list_episodes(const EpisodeFilter& filter) {
  if (filter.limit < 1 || filter.limit > kMaxListLimit) {
    return Status::InvalidArgument(
        fmt::format("limit must be between 1 and {}, got {}", kMaxListLimit, filter.limit));
  }
  EpisodeFilter f = filter;
  for (auto* bound : {&f.since, &f.until}) {
    if (!bound->has_value()) continue;
    auto ts = NormalizeBound(bound == &f.since ? "since" : "until", **bound);
    if (!ts.ok()) return ts.status();
    *bound = std::move(*ts);
  }
  if (f.ids.size() > kMaxListIds) {
    return Status::InvalidArgument(
        fmt::format("ids must hold at most {} episode ids, got {}", kMaxListIds, f.ids.size()));
  }
  for (auto& one : f.ids) {
    auto normal = NormalizeEpisodeId(one);
    if (!normal.ok()) return normal.status();
    one = std::move(*normal);
  }
  if (f.outcome && f.status == EpisodeStatus::kOpen) {
    return Status::InvalidArgument(
        "outcome applies to completed episodes: status must not be open");
  }
  if (!f.cursor.empty() && !ValidateEpisodeId(f.cursor).ok()) {
    return Status::InvalidArgument(fmt::format(
        "cursor \"{}\" is malformed: pass the next_cursor of the previous page", f.cursor));
  }
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  return store_->list_episodes(f);
}

Result<std::vector<Pattern>> MemoryImpl::list_patterns(const PatternFilter& filter) {
  if (filter.min_support < 1) {
    return Status::InvalidArgument(
        fmt::format("min_support must be at least 1, got {}", filter.min_support));
  }
  if (!(filter.min_success >= 0 && filter.min_success <= 1)) {
    return Status::InvalidArgument(
        fmt::format("min_success must be between 0 and 1, got {}", filter.min_success));
  }
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  if (!filter.episode) return store_->list_patterns(filter);
  if (filter.domain) {
    return Status::InvalidArgument("episode and domain cannot be combined: pass one of them");
  }
  // An unknown episode is NotFound rather than a pattern-less one.
  PatternFilter f = filter;
  auto id = NormalizeEpisodeId(*f.episode);
  if (!id.ok()) return id.status();
  if (auto head = store_->find_episode(*id); !head.ok()) return head.status();
  f.episode = std::move(*id);
  return store_->list_patterns(f);
}

Result<Pattern> MemoryImpl::get_pattern(std::string_view pattern_id) {
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  return store_->get_pattern(pattern_id);
}

Result<std::map<std::string, int64_t>> MemoryImpl::backup(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("the backup's path is empty");
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  return store_->backup(std::string(path));
}

Status MemoryImpl::close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
  }
  work_cv_.notify_all();
  drained_cv_.notify_all();
  retention_cv_.notify_all();
  if (retention_.joinable()) retention_.join();  // a prune stops after its current batch
  if (writer_.joinable()) writer_.join();        // the writer drains the queue before it exits
  std::lock_guard lock(mu_);
  return std::move(first_error_);
}

}  // namespace engram
