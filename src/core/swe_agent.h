// SWE-agent trajectories (.traj) read as episodes to import (engram import --format swe-agent).
#pragma once

#include <nlohmann/json.hpp>

#include "engram/options.h"
#include "engram/status.h"
#include "engram/types.h"

namespace engram {

// One trajectory: {"trajectory": [{action, observation, thought, response, execution_time}],
// "history": [messages], "info": {exit_status, submission, model_stats}}.
//
// The task is the issue text the agent was given: the first user message of the history that is
// not a demonstration (is_demo, message_type "demonstration"), from after "ISSUE:" and up to
// "INSTRUCTIONS:" when the message has them (SWE-agent's instance templates). Each trajectory
// entry is a step: tool the command's name (its first word), action the whole command,
// observation, latency execution_time, success unless the observation reads as an error
// (ReadsAsError), the thought in metadata "thought". A trajectory without entries takes its
// steps from the history's assistant messages with an action and the observation after each.
// model_stats (tokens sent and received, cost, API calls) go to the episode's metadata, with
// the exit status and the submission. The outcome, by exit_status: "submitted" with a
// submission is success; "submitted (...)" (a submission made when a limit was hit) partial
// success; any other status failure; without an exit status the episode stays open.
Result<Episode> EpisodeFromSweAgent(const nlohmann::json& trajectory, const Limits& limits);

}  // namespace engram
