// Checks what callers write against the limits, before anything is queued or stored.
// Every message names the field, the limit and the value, e.g.
// "observation is 70000 bytes, limit 65536 bytes".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "engram/options.h"
#include "engram/status.h"
#include "engram/types.h"

namespace engram {

// A step that passed validation, with its JSON columns already serialised for the store.
struct PreparedStep {
  ExecutionStep step;  // timestamp in canonical form; step_number not yet assigned
  std::string parameters_json;
  std::string metadata_json;
};

// Validates `step` and stamps it with `now` when it carries no timestamp.
Result<PreparedStep> PrepareStep(ExecutionStep step, const Limits& limits,
                                 std::chrono::system_clock::time_point now);
// The same with `now` already formatted (FormatTimestamp), for many steps at once.
Result<PreparedStep> PrepareStep(ExecutionStep step, const Limits& limits, std::string_view now);

Status ValidateEpisodeSpec(const EpisodeSpec& spec, const Limits& limits);
// What an amendment sets, as ValidateEpisodeSpec checks it; the metadata's size once merged is
// the store's to check.
Status ValidateAmendment(const EpisodeAmendment& amendment, const Limits& limits);
// A name of the caller's for an episode (Memory::start_named_episode): 1 to
// kMaxEpisodeNameBytes of UTF-8 without NUL.
inline constexpr size_t kMaxEpisodeNameBytes = 512;
Status ValidateEpisodeName(std::string_view name);
Status ValidateOutcome(const Outcome& outcome, const Limits& limits);
// A prune's age (PruneFilter::older_than, RetentionOptions::older_than): 0 … kMaxPruneAge.
Status ValidatePruneAge(std::string_view field, std::chrono::seconds age);

// NotFound-style ids are the store's business; this only checks the form:
// "episode id \"abc\" is malformed: expected a UUID like 0192f0c1-7c4e-7d3a-9b1e-4f2a6c8d0e1f".
Status ValidateEpisodeId(std::string_view id);

// Validates the id's form and returns it in lowercase, the form engram stores.
Result<std::string> NormalizeEpisodeId(std::string_view id);

// Checks one text field: valid UTF-8 and at most `limit` bytes.
Status ValidateText(std::string_view field, std::string_view value, size_t limit);
// For texts engram takes from transcripts and traces rather than from a caller: cuts a step's
// `text` to `limit` bytes (at a UTF-8 boundary), noting the cut in its metadata "truncated"
// ("observation was 70000 bytes"; several joined by "; ").
void FitToLimit(std::string& text, size_t limit, const char* field, ExecutionStep& step);
// The same for a whole step: its tool, action and observation made storable (StorableText), an
// empty tool named "tool", each cut to its limit.
void FitStep(ExecutionStep& step, const Limits& limits);

}  // namespace engram
