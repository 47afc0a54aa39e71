// SWE-agent trajectories (.traj) into episodes: whatever it makes passes engram's own
// validation (the mapping cuts and cleans what it takes), and every refusal says why.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/swe_agent.h"
#include "core/validation.h"
#include "engram/json.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  auto e = EpisodeFromSweAgent(*parsed, Limits{});
  if (!e.ok()) {
    if (e.status().message().empty()) __builtin_trap();
    return 0;
  }
  if (!ValidateEpisodeSpec(
           EpisodeSpec{e->task, e->task_type, e->context, e->metadata, std::nullopt}, Limits{})
           .ok()) {
    __builtin_trap();
  }
  for (const ExecutionStep& step : e->steps) {
    if (!PrepareStep(step, Limits{}, std::chrono::system_clock::now()).ok()) __builtin_trap();
  }
  return 0;
}
