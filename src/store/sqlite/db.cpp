#include "store/sqlite/db.h"

#include <fmt/format.h>
#include <sys/stat.h>

namespace engram::sqlite {

Status ErrorStatus(sqlite3* db, int rc, std::string_view what) {
  const char* detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string msg = fmt::format("{}: {}", what, detail);
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(msg + " (another process held the write lock past the busy timeout)");
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::Corruption(msg);
    case SQLITE_CONSTRAINT:
      return Status::FailedPrecondition(msg);
    case SQLITE_FULL:
      return Status::NoSpace(msg + " (the disk is full: nothing of this write was kept)");
    default:
      return Status::IOError(msg);
  }
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Statement& Statement::bind_text_static(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}
Statement& Statement::bind_pointer(int i, void* p, const char* type) {
  sqlite3_bind_pointer(stmt_, i, p, type, nullptr);
  return *this;
}
Statement& Statement::bind(int i, std::nullptr_t) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}
Statement& Statement::bind_optional(int i, const std::optional<std::string>& v) {
  return v ? bind(i, std::string_view(*v)) : bind(i, nullptr);
}

bool Statement::step(Status& status) {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status = ErrorStatus(db_, rc, "sqlite");
  return false;
}

Status Statement::run() {
  Status s;
  while (step(s)) {
  }
  reset();
  return s;
}

Result<int64_t> Statement::scalar() {
  Status s;
  const int64_t v = step(s) ? column_int(0) : 0;
  reset();
  if (!s.ok()) return s;
  return v;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::column_text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
}

std::optional<std::string> Statement::column_optional_text(int i) const {
  if (column_is_null(i)) return std::nullopt;
  return column_text(i);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool create,
                                                     std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  if (create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::IOError(fmt::format("cannot open database {}: {}", path,
                                           db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  auto conn = std::unique_ptr<Connection>(new Connection(db, path));
  conn->file_ = Identify(path);
  return conn;
}

std::optional<Connection::FileId> Connection::Identify(const std::string& path) {
  struct stat st {};
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0 ||
      ::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return FileId{st.st_dev, st.st_ino};
}

Status Connection::check_file() {
  if (!file_) return Status::Ok();
  auto refuse = [&](const std::string& what) {
    return Status::Unavailable(fmt::format(
        "database {}: {} since engram opened it; writes are refused, because none would "
        "survive a restart: restart engram on the file it should use",
        path_, what));
  };
  const auto now = Identify(path_);
  if (!now) return refuse("the file is gone (deleted or moved)");
  if (*now != *file_) return refuse("the file at that path is another one (replaced)");
  // The WAL, once seen, must stay: writes to a removed one are lost when the process ends.
  const auto wal = Identify(path_ + "-wal");
  if (!wal_) {
    wal_ = wal;
  } else if (!wal) {
    return refuse(fmt::format("its WAL {}-wal was removed", path_));
  } else if (*wal != *wal_) {
    return refuse(fmt::format("its WAL {}-wal was replaced", path_));
  }
  return Status::Ok();
}

Connection::~Connection() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status Connection::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  sqlite3_free(err);
  return ErrorStatus(db_, rc, fmt::format("database {}", path_));
}

Result<Statement> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(db_, rc, fmt::format("database {}", path_));
  return Statement(db_, stmt);
}

Result<Statement*> Connection::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto stmt = prepare(sql);
    if (!stmt.ok()) return stmt.status();
    it = cache_.emplace(sql, std::move(*stmt)).first;
  }
  it->second.reset();
  return &it->second;
}

}  // namespace engram::sqlite
