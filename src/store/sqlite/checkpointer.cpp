#include "store/sqlite/checkpointer.h"

#include <fmt/format.h>

namespace engram::sqlite {
namespace {

// WAL pages not yet copied back: a WAL smaller than what was copied has been restarted since,
// and none of its pages is.
int Unchecked(int pages, int backfilled) {
  return pages >= backfilled ? pages - backfilled : pages;
}

}  // namespace

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(Connection& writer,
                                                          std::chrono::milliseconds busy_timeout,
                                                          const char* synchronous) {
  auto own = Connection::Open(writer.path(), /*create=*/false, busy_timeout);
  if (!own.ok()) return own.status();
  if (Status s = (*own)->exec(fmt::format("PRAGMA synchronous = {}", synchronous)); !s.ok()) {
    return s;
  }
  return std::unique_ptr<Checkpointer>(new Checkpointer(writer, std::move(*own)));
}

Checkpointer::Checkpointer(Connection& writer, std::unique_ptr<Connection> own)
    : writer_(writer), own_(std::move(own)) {
  thread_ = std::thread([this] { Run(); });
  // Replaces the automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer_.raw(), &Checkpointer::OnCommit, this);
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_autocheckpoint(writer_.raw(), kWakePages);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

uint64_t Checkpointer::checkpoints() const {
  std::lock_guard lock(mu_);
  return checkpoints_;
}

// Runs on the writer's thread after each commit, with the WAL's size in pages.
int Checkpointer::OnCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* c = static_cast<Checkpointer*>(self);
  if (pages >= kWriterPages) {
    // What SQLite's own hook does at its threshold, once the thread's checkpoint in flight (if
    // any) is done: one checkpoint at a time, and a PASSIVE one never waits for another.
    std::lock_guard running(c->running_);
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (Unchecked(pages, c->backfilled_.load()) >= kWakePages) {
    {
      std::lock_guard lock(c->mu_);
      c->wanted_ = true;
    }
    c->cv_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    // PASSIVE: copies what no reader still needs and never blocks a writer. Failure (another
    // process checkpointing, the disk full) leaves the WAL to the next attempt.
    std::unique_lock running(running_);
    int frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(own_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &frames, &copied);
    backfilled_ = rc == SQLITE_OK ? copied : 0;
    running.unlock();
    lock.lock();
    ++checkpoints_;
  }
}

}  // namespace engram::sqlite
