// WAL checkpoints off the writer's path. SQLite's automatic checkpoint runs inside the commit
// that crosses 1,000 WAL pages and holds that commit (and every caller waiting for it) while
// pages are copied back and synced. Here the writer connection only reports the WAL's size;
// a thread of its own checkpoints on a connection of its own while the writer goes on
// committing, and the writer checkpoints itself only if the WAL outgrows a hard limit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "engram/status.h"
#include "store/sqlite/db.h"

namespace engram::sqlite {

class Checkpointer {
 public:
  // WAL pages not yet copied back at which the thread is woken (SQLite's own threshold).
  static constexpr int kWakePages = 1000;
  // WAL pages beyond which the writer checkpoints itself. SQLite starts the WAL over only when
  // a transaction begins with every page copied back, which a write load that never pauses
  // rarely sees; the writer's own checkpoint then copies the little that is left and the WAL
  // starts over (64 MiB at 4 KiB pages).
  static constexpr int kWriterPages = 16 * kWakePages;

  // Takes over `writer`'s checkpoints, with a connection of its own to the same file opened with
  // `busy_timeout` and `synchronous` ("NORMAL" or "FULL"). `writer` must outlive the result.
  static Result<std::unique_ptr<Checkpointer>> Start(Connection& writer,
                                                     std::chrono::milliseconds busy_timeout,
                                                     const char* synchronous);
  // Stops the thread and gives the writer back SQLite's automatic checkpoint.
  ~Checkpointer();

  // Checkpoints run by the thread so far (for tests).
  uint64_t checkpoints() const;

 private:
  Checkpointer(Connection& writer, std::unique_ptr<Connection> own);
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Run();

  Connection& writer_;
  std::unique_ptr<Connection> own_;
  std::mutex running_;  // held by whoever checkpoints, the thread or the writer
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;
  bool stopping_ = false;
  uint64_t checkpoints_ = 0;
  std::atomic<int> backfilled_{0};  // WAL pages the last checkpoint copied back
  std::thread thread_;
};

}  // namespace engram::sqlite
