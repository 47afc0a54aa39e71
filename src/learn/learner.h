// What engram learns when an episode completes: its reward and reflection, ready to be stored
// with the outcome in one transaction.
#pragma once

#include <chrono>
#include <vector>

#include "learn/reward.h"
#include "store/store.h"

namespace engram {

// `episode` is the open episode with all its steps; `history` what similar completed episodes
// cost (Store::recent_costs).
Completion Learn(const Episode& episode, const Outcome& outcome,
                 std::chrono::system_clock::time_point ended_at,
                 const std::vector<EpisodeCost>& history);

// The typical cost of similar episodes, for the reward's efficiency.
History Summarize(const std::vector<EpisodeCost>& costs);

}  // namespace engram
