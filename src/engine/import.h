// An import of whole episodes (Memory::import_episodes). Each episode is validated as the calls
// that record it would validate it, learnt from when completed, and written with the others in
// transactions of kImportTransaction episodes. Two threads prepare episodes in order while the
// store writes those already prepared; the writer is the bottleneck, so the preparers keep at
// most kPreparedAhead episodes ahead of it and also free what it has written (freeing an
// episode's steps and patterns costs as much as writing some of them).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "core/redact.h"
#include "engine/in_order.h"
#include "engram/memory.h"
#include "learn/reward.h"
#include "store/store.h"

namespace engram {

class EpisodeImport {
 public:
  // `note_write` hears the outcome of each transaction (MemoryImpl::NoteWrite).
  EpisodeImport(Store& store, const Options& options, const Redactor& redactor,
                std::vector<Episode> episodes, std::function<void(const Status&)> note_write);

  // One status per episode, in order. A store failure ends the import with that failure; the
  // transactions before it stay written.
  Result<std::vector<Status>> Run();

 private:
  // The task type and domain whose stored episodes a completed episode's reward compares with.
  using Similar = std::pair<TaskType, std::optional<std::string>>;

  // Validates and learns from episode `i`. Independent of the other episodes; any thread.
  Result<ImportedEpisode> Prepare(size_t i);
  // A preparing thread: prepares the next episode or frees written ones until all are written.
  void Preparer(std::stop_token stop);
  // Writes episodes [from, to) in one transaction, as far as they are valid.
  Status WriteTransaction(size_t from, size_t to);
  // The writer's next episode of [.., to) that is valid, scored against `history`; null at `to`.
  const ImportedEpisode* Next(size_t to, const std::map<Similar, History>& history,
                              std::vector<size_t>& index_of);

  Store& store_;
  const Options& options_;
  const Redactor& redactor_;  // applied to each episode before it is validated
  const std::function<void(const Status&)> note_write_;
  const std::string now_;
  std::vector<Episode> episodes_;  // episodes_[i] is its preparer's, then empty
  const size_t n_;
  // Per completed episode, set before the preparers start (they change episodes_).
  std::vector<std::optional<Similar>> similar_;
  // A completed episode's reward parts, until the similar episodes stored before its
  // transaction are read; none when the episode brought its reward.
  std::vector<std::optional<Reward>> unscored_;
  std::vector<Status> results_;
  InOrder<Result<ImportedEpisode>> prepared_;

  std::mutex mu_;  // guards the counts below
  std::condition_variable_any work_;
  size_t next_to_prepare_ = 0;
  size_t written_ = 0;  // episodes whose transaction is over: the store is done with them
  size_t freed_ = 0;
  // Episodes the writer has taken (or skipped as rejected). Only the writer changes it; the
  // preparers read it under mu_, which the writer takes every kWakeEvery episodes.
  std::atomic<size_t> taken_ = 0;
};

}  // namespace engram
