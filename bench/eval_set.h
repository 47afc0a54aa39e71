// The labelled evaluation set of recall: agent work on 28 distinct tasks (4 of them twins of
// others: the same kind of task in another project), each attempted many times in other words, some
// attempts failing. "Relevant" to an attempt means another attempt at the same task.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engram/engram.h"

namespace engram::bench {

struct PlannedStep {
  std::string tool, action, observation;
};

struct EvalTask {
  std::string name;
  TaskType type = TaskType::kOther;
  std::string domain, language, framework;
  std::vector<std::string> phrasings;  // the same task, as different agents put it
  std::vector<PlannedStep> plan;       // the steps of a clean attempt
  PlannedStep error;                   // what goes wrong along the way
  PlannedStep fix;                     // what recovers it
};

const std::vector<EvalTask>& EvalTasks();

// One attempt at a task, ready to record.
struct Attempt {
  size_t task = 0;  // index into EvalTasks()
  EpisodeSpec spec;
  std::vector<ExecutionStep> steps;
  Outcome outcome;
};

// Attempt number `n` at task `task`: phrasing n (mod their number), the plan with the error
// and its fix when `rng` says so, and a failure about a quarter of the time. With `noise`, the
// task names one of many modules and the observations carry random identifiers, so that a large
// store is not the same few texts repeated.
// With `pad_to`, routine steps (status checks, searches) fill the attempt up to that many steps.
Attempt MakeAttempt(size_t task, int n, std::mt19937_64& rng, bool noise = false,
                    size_t pad_to = 0);

}  // namespace engram::bench
