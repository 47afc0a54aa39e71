// The data model of docs/design.md section 2. JSON field names match the member names.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace engram {

enum class TaskType {
  kCodeGeneration,
  kDebugging,
  kRefactoring,
  kTesting,
  kAnalysis,
  kDocumentation,
  kOther,
};

enum class Complexity { kSimple, kModerate, kComplex };

enum class EpisodeStatus { kOpen, kCompleted };

enum class OutcomeKind { kSuccess, kPartialSuccess, kFailure, kAbstained };

enum class PatternType { kToolSequence, kErrorRecovery, kDecisionPoint, kContext };

// The largest latency_ms or tokens a step may carry: 2^53 - 1, the largest integer that every
// JSON reader holds exactly, and far from where sums over many steps could overflow.
inline constexpr int64_t kMaxStepCount = 9'007'199'254'740'991;

// One thing the agent did.
struct ExecutionStep {
  // Assigned by engram (1, 2, 3 … per episode, in arrival order); ignored on input.
  int64_t step_number = 0;
  // RFC 3339; empty means engram stamps the step when log_step accepts it. Always UTC with
  // milliseconds on output.
  std::string timestamp;
  std::string tool;               // e.g. "cargo", "git", "bash"; must not be empty
  std::string action;             // the command or operation
  int64_t latency_ms = 0;         // 0 to kMaxStepCount
  std::optional<int64_t> tokens;  // tokens used, when an LLM was involved; 0 to kMaxStepCount
  bool success = true;
  std::string observation;                               // outcome, output summary or error message
  nlohmann::json parameters = nlohmann::json::object();  // must be a JSON object
  nlohmann::json metadata = nlohmann::json::object();    // an object of strings
};

// What Memory::start_named_episode or find_named_episode found or started.
struct NamedEpisode {
  std::string id;
  bool started = false;  // started by the call, rather than found
  EpisodeStatus status = EpisodeStatus::kOpen;
  int64_t steps = 0;  // the highest step number committed when it was read, 0 when none
  std::string task;
};

struct Context {
  std::optional<std::string> domain;
  std::optional<std::string> language;
  std::optional<std::string> framework;
  std::optional<Complexity> complexity;
  std::vector<std::string> tags;
};

// What start_episode needs to know.
struct EpisodeSpec {
  std::string task;  // must not be empty
  TaskType task_type = TaskType::kOther;
  Context context;
  nlohmann::json metadata = nlohmann::json::object();  // must be a JSON object
  // When the task started, RFC 3339, when the caller knows it (the first span of a trace);
  // unset, now.
  std::optional<std::string> started_at;
};

// What amend_episode changes in an open episode, for what is learnt after its start (a trace's
// root span, which names the agent and its start, often arrives last). What is unset stays.
struct EpisodeAmendment {
  std::optional<std::string> task;                     // replaces the task; not empty
  std::optional<std::string> started_at;               // replaces the start, RFC 3339
  std::optional<std::string> domain;                   // replaces context.domain
  std::vector<std::string> tags;                       // added to context.tags, each once
  nlohmann::json metadata = nlohmann::json::object();  // each key set in the episode's metadata
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::kSuccess;
  std::string summary;
  std::vector<std::string> artifacts;
  std::vector<std::string> completed;  // partial success: what was done
  std::vector<std::string> failed;     // partial success: what was not
};

// What a caller that knows more than "now" tells complete_episode (an OpenTelemetry trace's
// root span says when the run ended; its spans' exports race, so its steps may have arrived out
// of order).
struct CompletionOptions {
  std::optional<std::string> ended_at;  // RFC 3339, not before started_at; unset, now
  // Renumbers the steps by timestamp (steps of one time keep their order) before the episode is
  // learnt from, so the reflection and patterns see them as they ran.
  bool order_steps_by_time = false;
};

// What an episode's committed steps add up to, as list_episodes reads it.
struct EpisodeTotals {
  int64_t steps = 0;
  int64_t failed_steps = 0;
  int64_t tokens = 0;
};

struct Episode {
  std::string id;  // UUIDv7, time ordered
  std::string task;
  TaskType task_type = TaskType::kOther;
  Context context;
  EpisodeStatus status = EpisodeStatus::kOpen;
  std::string started_at;
  std::optional<std::string> ended_at;
  std::vector<ExecutionStep> steps;  // in step_number order
  std::optional<Outcome> outcome;
  nlohmann::json reward;      // null until the learning pipeline scores the episode
  nlohmann::json reflection;  // null until the learning pipeline reflects on it
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<EpisodeTotals> totals;  // set by list_episodes only
};

// The ranges of the calls' counts, inclusive: the one definition every door checks and shows.
inline constexpr int64_t kMaxListLimit = 10'000;           // EpisodeFilter::limit, 1 … this
inline constexpr int64_t kMaxRecallK = 100;                // RecallQuery::k, 1 … this
inline constexpr int64_t kMaxRecallTokenBudget = 100'000;  // RecallQuery::token_budget, 0 … this
inline constexpr int64_t kMaxSuggestions = 20;             // suggest's k, 1 … this
inline constexpr int64_t kMaxStepPage = 10'000;            // StepRange::limit, 1 … this
inline constexpr size_t kMaxListIds = 1'000;               // EpisodeFilter::ids, at most this

// Filters for list_episodes; every set field must match. Newest episodes come first.
struct EpisodeFilter {
  std::optional<EpisodeStatus> status;
  std::optional<OutcomeKind> outcome;  // completed episodes with this outcome
  std::optional<std::string> domain;
  std::optional<TaskType> task_type;
  std::optional<std::string> tag;
  std::optional<std::string> since;  // RFC 3339 or a date (midnight UTC), inclusive, on started_at
  std::optional<std::string> until;  // RFC 3339 or a date (midnight UTC), exclusive
  std::vector<std::string> ids;      // these episodes only (at most kMaxListIds), when not empty
  int64_t limit = 100;               // 1 … kMaxListLimit
  std::string cursor;                // next_cursor of the previous page, or empty
};

// Which of an episode's steps Memory::list_steps reads: those numbered above `after`, in order.
struct StepRange {
  int64_t after = 0;
  int64_t limit = 1'000;  // 1 … kMaxStepPage
};

struct StepPage {
  std::vector<ExecutionStep> steps;
  std::optional<int64_t> next_after;  // the `after` of the next page, when there may be more
};

struct EpisodePage {
  std::vector<Episode> episodes;  // without their steps
  std::optional<std::string> next_cursor;
};

// A pattern mined across episodes: one per distinct tool sequence, error recovery, decision
// point or context, updated as evidence arrives.
struct Pattern {
  std::string id;
  PatternType type = PatternType::kToolSequence;
  nlohmann::json description;  // what the pattern is; its fields depend on the type
  int64_t support = 0;         // episodes that showed it
  double success_rate = 0;     // the mean outcome of those episodes, 0 … 1
  int64_t occurrences = 0;     // times it occurred, over all those episodes
  double mean_latency_ms = 0;  // per occurrence
  double mean_tokens = 0;      // per occurrence
  std::string first_seen;
  std::string last_seen;
  std::vector<std::string> evidence;  // episode ids, newest first (at most 100)
  // decision_point: per next tool, {"taken", "succeeded", "success_rate"}.
  nlohmann::json branches;
};

// Per tool: how often it ran, how well, how fast. Percentiles are exact (nearest rank: the
// smallest latency with at least p% of the calls at or below it).
struct ToolStats {
  std::string tool;
  int64_t calls = 0;
  double success_rate = 0;
  int64_t latency_p50_ms = 0;
  int64_t latency_p95_ms = 0;
  int64_t latency_p99_ms = 0;
  int64_t latency_max_ms = 0;
  int64_t tokens_total = 0;
  double tokens_mean = 0;  // per call
  // Calls per latency range: [i] counts latencies in (kLatencyBoundsMs[i-1], kLatencyBoundsMs[i]]
  // ([0] from 0), the last one those above every bound.
  std::vector<int64_t> latency_histogram;
};
inline constexpr std::array<int64_t, 16> kLatencyBoundsMs = {
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1'000, 2'000, 5'000, 10'000, 20'000, 50'000, 100'000};

struct SlowStep {
  std::string episode_id;
  int64_t step_number = 0;
  std::string tool;
  std::string action;
  int64_t latency_ms = 0;
};

// The span of time a point of Stats::timeline covers.
enum class TimeBucket { kMinute, kHour, kDay };

// What happened in one span of time: steps run in it, episodes started in it.
struct StatsBucket {
  std::string start;  // RFC 3339, the span's first instant (UTC)
  int64_t steps = 0;
  int64_t failed_steps = 0;
  int64_t tokens = 0;
  int64_t episodes = 0;                     // started in the span
  std::map<std::string, int64_t> outcomes;  // of those, completed, by outcome kind
};

struct Stats {
  int64_t steps = 0;
  std::vector<ToolStats> tools;                       // by calls, most first
  std::map<std::string, int64_t> episodes_by_status;  // "open", "completed"
  std::map<std::string, int64_t> outcomes;            // "success", "failure", …
  std::vector<SlowStep> slowest_steps;                // at most 10, slowest first
  TimeBucket bucket = TimeBucket::kDay;               // the timeline's span
  std::vector<StatsBucket> timeline;                  // oldest first, spans with nothing left out
};

// Which episodes Memory::prune removes: those started more than `older_than` ago that match
// every other set field.
struct PruneFilter {
  std::chrono::seconds older_than{0};  // 0 … kMaxPruneAge
  std::optional<EpisodeStatus> status;
  std::optional<OutcomeKind> outcome;  // completed episodes with this outcome
  std::optional<std::string> domain;
  bool dry_run = false;  // count what would go, remove nothing
};
inline constexpr std::chrono::seconds kMaxPruneAge = std::chrono::hours(24 * 365 * 1000);

// What a prune removed (or, dry run, would remove).
struct PruneResult {
  std::string before;  // the cut-off: episodes started before it (RFC 3339)
  bool dry_run = false;
  int64_t episodes = 0;
  int64_t steps = 0;
  std::map<std::string, int64_t> by_status;   // "open", "completed"
  std::map<std::string, int64_t> by_outcome;  // the completed ones' outcome kinds
  std::optional<std::string> oldest;          // the earliest started_at among them
  std::optional<std::string> newest;          // the latest
  // SQLite: bytes the file gave back to the file system (a store created with incremental
  // vacuum), and bytes left free inside it for later writes to reuse. PostgreSQL: 0, its
  // autovacuum reclaims the deleted rows.
  int64_t bytes_released = 0;
  int64_t bytes_free = 0;
};

// Every set field must match: steps of this tool, episodes of this domain, steps (and
// episodes started) at or after `since` (RFC 3339 or a date).
struct StatsFilter {
  std::optional<std::string> tool;
  std::optional<std::string> domain;
  std::optional<std::string> since;
  // The timeline's span; by default the finest of minute, hour and day that covers the data in
  // at most kMaxTimelinePoints spans (day beyond).
  std::optional<TimeBucket> bucket;
};
inline constexpr int64_t kMaxTimelinePoints = 180;

struct PatternFilter {
  std::optional<PatternType> type;
  std::optional<std::string> domain;   // patterns seen in episodes of this domain
  std::optional<std::string> episode;  // patterns this episode shows (not with domain)
  int64_t min_support = 1;
  double min_success = 0;  // 0 … 1
};

// How recall weighs its signals; each signal is in [0, 1] and the score is their weighted sum.
struct RecallWeights {
  double text = 0.6;     // BM25 over task, reflection and step text, relative to the best match
  double context = 0.2;  // share of the query's context (domain, language, framework, tags) matched
  double outcome = 0.1;  // the episode's reward (0 for a failure)
  double recency = 0.1;  // 1 for an episode that just ended, halving every 30 days
};

// What a new task needs from past experience.
struct RecallQuery {
  std::string task;            // the new task's description; must not be empty
  Context context;             // a signal, not a filter: matching episodes rank higher
  int64_t k = 5;               // episodes to return, 1 … 100
  int64_t token_budget = 500;  // the playbook's size, in estimated tokens (bytes / 4), 0 … 100,000
  RecallWeights weights;
};

// A past episode recall chose, and why.
struct RecalledEpisode {
  std::string id;
  std::string task;
  TaskType task_type = TaskType::kOther;
  Context context;
  std::optional<Outcome> outcome;
  std::optional<double> reward;  // the reward's total
  std::string ended_at;
  double score = 0;                   // the sum of `why`
  std::map<std::string, double> why;  // signal -> its weighted contribution to the score
  bool warning = false;               // it failed: what to avoid rather than what to repeat
  std::vector<std::string> lessons;   // from its reflection: what worked, or what went wrong
};

// A pattern that applies to the new task: seen among the best-matching past episodes.
struct RecalledPattern {
  Pattern pattern;
  int64_t seen_in = 0;      // how many of the best-matching episodes show it
  double success_here = 0;  // the mean outcome of those episodes, 0 … 1
};

struct Recall {
  std::vector<RecalledEpisode> episodes;  // best first
  std::vector<RecalledPattern> patterns;  // best first: success here × seen_in / (seen_in + 1)
  std::string playbook;                   // plain text, ready for a prompt
  int64_t playbook_tokens = 0;            // its estimated size, never over the budget
};

// A tool an open episode might call next, from what similar past episodes did at this point.
struct Suggestion {
  std::string tool;
  double score = 0;            // 0 … 1, the weighted share of the evidence (learn/suggest.h)
  int64_t support = 0;         // past episodes that took this tool at a comparable point
  double success_rate = 0;     // their mean outcome, 0 … 1
  std::string example_action;  // a typical action for it, from the most similar of them
  std::string why;             // the evidence, in a sentence
};

struct Suggestions {
  std::vector<Suggestion> suggestions;  // best first
};

}  // namespace engram
