// Step, steps, episode, outcome, filter, prune and query JSON, as every door reads them:
// parse_json's limits, then each codec. What a codec accepts must be written back and read again
// the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/timestamp.h"
#include "engram/json.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  const nlohmann::json& j = *parsed;
  if (auto step = step_from_json(j); step.ok()) {
    auto again = step_from_json(nlohmann::json::parse(to_json(*step).dump()));
    if (!again.ok()) __builtin_trap();  // an accepted step is read back
  }
  (void)steps_from_json(j);
  (void)episode_spec_from_json(j);
  if (auto outcome = outcome_from_json(j); outcome.ok()) {
    if (!outcome_from_json(nlohmann::json::parse(to_json(*outcome).dump())).ok()) {
      __builtin_trap();
    }
  }
  if (auto episode = episode_from_json(j); episode.ok()) {
    if (!episode_from_json(nlohmann::json::parse(to_json(*episode).dump())).ok()) {
      __builtin_trap();
    }
  }
  (void)episode_filter_from_json(j);
  (void)pattern_filter_from_json(j);
  (void)stats_filter_from_json(j);
  (void)recall_query_from_json(j);
  (void)suggest_k_from_json(j);
  (void)step_range_from_json(j);
  if (auto prune = prune_filter_from_json(j); prune.ok() && j["older_than"].is_string()) {
    // A duration read is written back as one that reads the same.
    auto again = ParseDuration("older_than", FormatDuration(prune->older_than));
    if (!again.ok() || *again != prune->older_than) __builtin_trap();
  }
  return 0;
}
