// Rows to the data model, for either store: a Row has column_text(i),
// column_optional_text(i), column_int(i), column_double(i) and column_is_null(i), as a SQLite
// statement does and pg::Row adapts a PostgreSQL result to.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>

#include "engram/json.h"
#include "engram/types.h"
#include "store/pattern_merge.h"
#include "store/store.h"

namespace engram {

// The episode columns EpisodeFromRow reads, in its order.
inline constexpr const char* kEpisodeColumns =
    "id, task, task_type, domain, language, framework, complexity, tags, status, started_at, "
    "ended_at, outcome, reward, reflection, metadata";

inline nlohmann::json ParseJsonColumn(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
}

template <typename Row>
Episode EpisodeFromRow(const Row& st) {
  Episode e;
  e.id = st.column_text(0);
  e.task = st.column_text(1);
  if (auto t = parse_task_type(st.column_text(2)); t.ok()) e.task_type = *t;
  e.context.domain = st.column_optional_text(3);
  e.context.language = st.column_optional_text(4);
  e.context.framework = st.column_optional_text(5);
  if (auto c = st.column_optional_text(6)) {
    if (auto parsed = parse_complexity(*c); parsed.ok()) e.context.complexity = *parsed;
  }
  if (nlohmann::json tags = ParseJsonColumn(st.column_text(7)); tags.is_array()) {
    for (const auto& t : tags) {
      if (t.is_string()) e.context.tags.push_back(t.get<std::string>());
    }
  }
  e.status = st.column_text(8) == "completed" ? EpisodeStatus::kCompleted : EpisodeStatus::kOpen;
  e.started_at = st.column_text(9);
  e.ended_at = st.column_optional_text(10);
  if (nlohmann::json o = ParseJsonColumn(st.column_optional_text(11)); o.is_object()) {
    if (auto outcome = outcome_from_json(o); outcome.ok()) e.outcome = std::move(*outcome);
  }
  e.reward = ParseJsonColumn(st.column_optional_text(12));
  e.reflection = ParseJsonColumn(st.column_optional_text(13));
  e.metadata = ParseJsonColumn(st.column_text(14));
  if (!e.metadata.is_object()) e.metadata = nlohmann::json::object();
  return e;
}

// An episode of PruneCandidatesQuery's rows: key, id, started_at, status, outcome kind (null
// when open), step count.
template <typename Row>
PrunedEpisode PrunedFromRow(const Row& st) {
  PrunedEpisode p;
  p.key = st.column_int(0);
  p.id = st.column_text(1);
  p.started_at = st.column_text(2);
  p.status = st.column_text(3) == "completed" ? EpisodeStatus::kCompleted : EpisodeStatus::kOpen;
  if (auto kind = st.column_optional_text(4)) {
    if (auto parsed = parse_outcome_kind(*kind); parsed.ok()) p.outcome = *parsed;
  }
  p.steps = st.column_int(5);
  return p;
}

// The step columns StepFromRow reads, in its order (PostgreSQL keeps `success` a boolean).
inline constexpr const char* kStepColumns =
    "step_number, timestamp, tool, action, latency_ms, tokens, success, observation, "
    "parameters, metadata";
inline constexpr const char* kStepColumnsPostgres =
    "step_number, timestamp, tool, action, latency_ms, tokens, success::int, observation, "
    "parameters, metadata";

template <typename Row>
ExecutionStep StepFromRow(const Row& st) {
  ExecutionStep s;
  s.step_number = st.column_int(0);
  s.timestamp = st.column_text(1);
  s.tool = st.column_text(2);
  s.action = st.column_text(3);
  s.latency_ms = st.column_int(4);
  if (!st.column_is_null(5)) s.tokens = st.column_int(5);
  s.success = st.column_int(6) != 0;
  s.observation = st.column_text(7);
  s.parameters = ParseJsonColumn(st.column_text(8));
  if (!s.parameters.is_object()) s.parameters = nlohmann::json::object();
  s.metadata = ParseJsonColumn(st.column_text(9));
  if (!s.metadata.is_object()) s.metadata = nlohmann::json::object();
  return s;
}

// A named episode from a row of key, id, status, its last step number and task (NamedQuery).
template <typename Row>
NamedEpisodeRow NamedFromRow(const Row& row) {
  return NamedEpisodeRow{
      row.column_int(0),
      row.column_text(1),
      false,
      row.column_text(2) == "completed" ? EpisodeStatus::kCompleted : EpisodeStatus::kOpen,
      row.column_int(3),
      row.column_text(4),
  };
}

// Adds the names of a row of episode key and name (NamesOfEpisodesQuery) to the episode of
// `episodes` (in key order) with that key, from position `*at` on.
template <typename Row>
void AddName(std::vector<StoredEpisode>& episodes, size_t* at, const Row& row) {
  const int64_t key = row.column_int(0);
  while (*at < episodes.size() && episodes[*at].key < key) ++*at;
  if (*at < episodes.size() && episodes[*at].key == key) {
    episodes[*at].names.push_back(row.column_text(1));
  }
}

// An episode's head from a row of key, status and its last step number (HeadQuery).
template <typename Row>
EpisodeHead HeadFromRow(const Row& row) {
  EpisodeHead h;
  h.key = row.column_int(0);
  h.status = row.column_text(1) == "completed" ? EpisodeStatus::kCompleted : EpisodeStatus::kOpen;
  h.last_step = row.column_int(2);
  return h;
}

// Adds an episode row (kEpisodeColumns, as ListEpisodesQuery reads them) to the page; false
// when the page is full, its next_cursor then set and the row left out.
template <typename Row>
bool AddToPage(EpisodePage& page, const Row& row, int64_t limit) {
  if (static_cast<int64_t>(page.episodes.size()) == limit) {
    page.next_cursor = page.episodes.back().id;
    return false;
  }
  Episode& e = page.episodes.emplace_back(EpisodeFromRow(row));
  e.totals = EpisodeTotals{row.column_int(15), row.column_int(16), row.column_int(17)};
  return true;
}

// Hands a row of episode id, step_number, tool, action (cut), latency_ms, tokens, success
// (an integer) and timestamp to `visit` as the StepFacts statistics read, valid for the call.
template <typename Row, typename Visit>
void VisitStepFacts(const Row& row, const Visit& visit) {
  const std::string id = row.column_text(0), tool = row.column_text(2), action = row.column_text(3),
                    timestamp = row.column_text(7);
  StepFacts facts;
  facts.episode_id = id;
  facts.timestamp = timestamp;
  facts.step_number = row.column_int(1);
  facts.tool = tool;
  facts.action = action;
  facts.latency_ms = row.column_int(4);
  if (!row.column_is_null(5)) facts.tokens = row.column_int(5);
  facts.success = row.column_int(6) != 0;
  visit(facts);
}

// The pattern columns PatternFromRow reads, in its order (the 12th, evidence, it leaves).
inline constexpr const char* kPatternColumns =
    "id, type, description, support, success_sum, occurrences, latency_ms_sum, tokens_sum, "
    "branches, first_seen, last_seen, evidence";

template <typename Row>
Pattern PatternFromRow(const Row& st) {
  Pattern p;
  p.id = st.column_text(0);
  if (auto t = parse_pattern_type(st.column_text(1)); t.ok()) p.type = *t;
  p.description = nlohmann::json::parse(st.column_text(2), nullptr, false);
  p.support = st.column_int(3);
  p.success_rate = p.support ? st.column_double(4) / static_cast<double>(p.support) : 0;
  p.occurrences = st.column_int(5);
  const double n = p.occurrences ? static_cast<double>(p.occurrences) : 1;
  p.mean_latency_ms = static_cast<double>(st.column_int(6)) / n;
  p.mean_tokens = static_cast<double>(st.column_int(7)) / n;
  if (auto b = st.column_optional_text(8)) {
    p.branches = nlohmann::json::parse(*b, nullptr, false);
    if (!p.branches.is_object()) p.branches = nlohmann::json::object();
    for (auto& [tool, v] : p.branches.items()) {
      if (!v.is_object()) continue;
      const auto taken = v.value("taken", int64_t{0});
      v["success_rate"] =
          taken ? static_cast<double>(v.value("succeeded", int64_t{0})) / static_cast<double>(taken)
                : 0.0;
    }
  }
  p.first_seen = st.column_text(9);
  p.last_seen = st.column_text(10);
  return p;
}

// An episode row as stored: kEpisodeColumns, then these.
inline constexpr const char* kStoredEpisodeExtraColumns = "key, step_count, duration_ms";

template <typename Row>
StoredEpisode StoredEpisodeFromRow(const Row& st) {
  StoredEpisode out;
  out.episode = EpisodeFromRow(st);
  out.key = st.column_int(15);
  if (!st.column_is_null(16)) out.step_count = st.column_int(16);
  if (!st.column_is_null(17)) out.duration_ms = st.column_int(17);
  return out;
}

// The columns PatternRowFromRow reads, in its order.
inline constexpr const char* kPatternRowColumns =
    "id, key, type, description, support, success_sum, occurrences, latency_ms_sum, tokens_sum, "
    "branches, first_seen, last_seen, evidence";

template <typename Row>
PatternRow PatternRowFromRow(const Row& st) {
  PatternRow p;
  p.id = st.column_text(0);
  p.key = st.column_text(1);
  if (auto t = parse_pattern_type(st.column_text(2)); t.ok()) p.type = *t;
  p.description = st.column_text(3);
  p.support = st.column_int(4);
  p.success_sum = st.column_double(5);
  p.occurrences = st.column_int(6);
  p.latency_ms_sum = st.column_int(7);
  p.tokens_sum = st.column_int(8);
  p.branches = st.column_optional_text(9);
  p.first_seen = st.column_text(10);
  p.last_seen = st.column_text(11);
  p.evidence = KeysOfJsonArray(st.column_text(12));
  return p;
}

// The pattern a query by id read; NotFound naming `id` when it read none.
inline Result<Pattern> OnePattern(Result<std::vector<Pattern>> found, std::string_view id) {
  if (!found.ok()) return found.status();
  if (found->empty()) return Status::NotFound(fmt::format("pattern {} not found", id));
  return std::move(found->front());
}

}  // namespace engram
