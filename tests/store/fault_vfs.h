// A shim SQLite VFS for fault injection, the way SQLite's own tests inject I/O errors: it
// forwards every call to the VFS that was the default, counts reads, writes and syncs, and
// fails the Nth one of a kind with the error it is given (an I/O error, or SQLITE_FULL for a
// full disk). Installed as the process's default VFS, so every connection goes through it.
#pragma once

#include <cstdint>

namespace engram::testing {

class FaultVfs {
 public:
  enum class Op { kRead, kWrite, kSync };

  // Registers the shim as the default VFS once per process; later calls return the same one.
  static FaultVfs& Install();

  // From now on, the `nth` call of `op` (counted from 1 after this call) returns `error`, an
  // SQLite result code; with `sticky`, every later one of that kind too, until Disarm().
  void Arm(Op op, uint64_t nth, int error, bool sticky = false);
  void Disarm();
  // Calls of `op` since the last Arm() or ResetCounts().
  uint64_t count(Op op) const;
  void ResetCounts();
  // Faults injected since the last Arm().
  uint64_t injected() const;
};

}  // namespace engram::testing
