// The statements over episodes that both stores run, written once for either dialect, and the
// rules both follow around them (what completing stores when steps came late).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engram/types.h"
#include "store/store.h"

namespace engram {

// How a statement numbers its parameters: SQLite ?1, ?2, ..., PostgreSQL $1, $2, ...
enum class Dialect { kSqlite, kPostgres };

// A statement and its parameters' text, in order.
struct Query {
  std::string sql;
  std::vector<std::string> params;
};

// key, status and the highest committed step number (0 when none) of the episode whose
// `column` (key or id) equals the statement's one parameter; HeadFromRow reads the row.
std::string HeadQuery(Dialect dialect, std::string_view column);

// The key, id, status, highest committed step number and task of the episode the statement's
// one parameter names (episode_names); NamedFromRow reads the row.
std::string NamedQuery(Dialect dialect);
// The names of the episodes with keys above the first parameter and up to the second, by
// episode key then name (for engram migrate).
std::string NamesOfEpisodesQuery(Dialect dialect);

// The episodes the filter asks for, newest id first (kEpisodeColumns, then the totals' steps,
// failed steps and tokens), one row past the page (AddToPage), after the filter's cursor.
Query ListEpisodesQuery(Dialect dialect, const EpisodeFilter& filter);

// The episodes a prune query matches, oldest first, up to `limit`; PrunedFromRow
// (row_decode.h) reads a row.
Query PruneCandidatesQuery(Dialect dialect, const PruneQuery& query, int limit);

// The columns amend_episode reads of an open episode under the store's lock on it (status,
// tags, metadata), by the key its one parameter holds.
std::string AmendReadQuery(Dialect dialect);
// What amending the episode with `key` writes, from its tags and metadata as AmendReadQuery
// read them: the update of the columns the amendment sets, and the tags new to it (for
// episode_tags). InvalidArgument when the metadata would pass `max_metadata_bytes`.
struct AmendWrite {
  Query update;
  std::vector<std::string> new_tags;
};
Result<AmendWrite> AmendQuery(Dialect dialect, int64_t key, const EpisodeAmendment& amendment,
                              std::string_view tags_json, std::string_view metadata_json,
                              size_t max_metadata_bytes);

// Renumbering the steps of the episode whose key is the one parameter by timestamp (steps of
// one time in step order), in two statements run in turn: the steps that move take their new
// number negated (out of the way of those that stay), then positive.
std::array<std::string, 2> StepsByTimeUpdates(Dialect dialect);

// The outcome's kind, from the JSON the outcome column holds.
std::string OutcomeKindColumn(Dialect dialect);

// The steps of the episode whose key is the first parameter, numbered above the second, in
// step order, at most the third (StepFromRow).
std::string StepPageQuery(Dialect dialect);

// What completing an episode stores, decided under the store's lock on it (so that no step
// can commit meanwhile), from its head as read there: NotFound when it is gone (`head` not
// found), FailedPrecondition when it is completed; otherwise the completion learnt again from
// the steps committed after the ones `learnt` saw (another process's, sent before its
// completion), or none to store `learnt` as it is. `steps_after(n)` reads those numbered
// above n.
template <typename StepsAfter>
Result<std::optional<Completion>> CompletionToStore(const Result<EpisodeHead>& head,
                                                    const Completion& learnt,
                                                    const Relearn& relearn,
                                                    StepsAfter steps_after) {
  if (!head.ok()) {
    if (head.status().IsNotFound()) return Status::NotFound("episode was deleted");
    return head.status();
  }
  if (head->status == EpisodeStatus::kCompleted) {
    return Status::FailedPrecondition("episode is completed");
  }
  if (head->last_step == learnt.step_count) return std::optional<Completion>();
  Result<std::vector<ExecutionStep>> later = steps_after(learnt.step_count);
  if (!later.ok()) return later.status();
  return std::optional<Completion>(relearn(std::move(*later)));
}

}  // namespace engram
