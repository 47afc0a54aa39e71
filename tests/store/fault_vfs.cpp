#include "store/fault_vfs.h"

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cstring>

namespace engram::testing {
namespace {

sqlite3_vfs* base = nullptr;
sqlite3_vfs shim;
std::array<std::atomic<uint64_t>, 3> counts{};
std::atomic<int> armed_op{-1};
std::atomic<uint64_t> armed_nth{0};
std::atomic<int> armed_error{SQLITE_OK};
std::atomic<bool> armed_sticky{false};
std::atomic<uint64_t> injected_faults{0};

// The shim's file: its own header, the real VFS's file right after it.
struct File {
  sqlite3_file header;
  sqlite3_file* real;
};

sqlite3_file* Real(sqlite3_file* f) {
  return reinterpret_cast<File*>(f)->real;
}

// SQLITE_OK, or the fault this call is to return.
int Fault(FaultVfs::Op op) {
  const int i = static_cast<int>(op);
  const uint64_t n = ++counts[static_cast<size_t>(i)];
  if (armed_op.load() != i) return SQLITE_OK;
  const uint64_t nth = armed_nth.load();
  if (n == nth || (armed_sticky.load() && n > nth)) {
    ++injected_faults;
    return armed_error.load();
  }
  return SQLITE_OK;
}

int Close(sqlite3_file* f) {
  return Real(f)->pMethods->xClose(Real(f));
}
int Read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  if (int rc = Fault(FaultVfs::Op::kRead); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xRead(Real(f), buf, amount, offset);
}
int Write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  if (int rc = Fault(FaultVfs::Op::kWrite); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xWrite(Real(f), buf, amount, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = Fault(FaultVfs::Op::kWrite); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (int rc = Fault(FaultVfs::Op::kSync); rc != SQLITE_OK) return rc;
  return Real(f)->pMethods->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xLock(Real(f), level);
}
int Unlock(sqlite3_file* f, int level) {
  return Real(f)->pMethods->xUnlock(Real(f), level);
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) {
  return Real(f)->pMethods->xSectorSize(Real(f));
}
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  Real(f)->pMethods->xShmBarrier(Real(f));
}
int ShmUnmap(sqlite3_file* f, int remove) {
  return Real(f)->pMethods->xShmUnmap(Real(f), remove);
}
// No memory-mapped pages: every read goes through Read(), where it can fail.
int Fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
  *out = nullptr;
  return SQLITE_OK;
}
int Unfetch(sqlite3_file*, sqlite3_int64, void*) {
  return SQLITE_OK;
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  File* file = reinterpret_cast<File*>(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  std::memset(file->real, 0, static_cast<size_t>(base->szOsFile));
  const int rc = base->xOpen(base, name, file->real, flags, out_flags);
  file->header.pMethods = file->real->pMethods ? &kMethods : nullptr;
  return rc;
}

int Delete(sqlite3_vfs*, const char* name, int sync) {
  return base->xDelete(base, name, sync);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return base->xAccess(base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return base->xFullPathname(base, name, n, out);
}

}  // namespace

FaultVfs& FaultVfs::Install() {
  static FaultVfs vfs;
  static const bool installed = [] {
    base = sqlite3_vfs_find(nullptr);
    shim = *base;  // dlopen, randomness, sleep, time and the rest as the base does them
    shim.zName = "engram-fault";
    shim.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
    shim.pNext = nullptr;
    shim.xOpen = Open;
    shim.xDelete = Delete;
    shim.xAccess = Access;
    shim.xFullPathname = FullPathname;
    return sqlite3_vfs_register(&shim, /*makeDflt=*/1) == SQLITE_OK;
  }();
  (void)installed;
  return vfs;
}

void FaultVfs::Arm(Op op, uint64_t nth, int error, bool sticky) {
  Disarm();
  ResetCounts();
  injected_faults = 0;
  armed_nth = nth;
  armed_error = error;
  armed_sticky = sticky;
  armed_op = static_cast<int>(op);
}

void FaultVfs::Disarm() {
  armed_op = -1;
}

uint64_t FaultVfs::count(Op op) const {
  return counts[static_cast<size_t>(op)].load();
}

void FaultVfs::ResetCounts() {
  for (auto& c : counts) c = 0;
}

uint64_t FaultVfs::injected() const {
  return injected_faults.load();
}

}  // namespace engram::testing
