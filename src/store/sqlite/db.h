// A thin RAII layer over the SQLite C API: a connection, prepared statements, and SQLite's
// result codes turned into engram Status values.
#pragma once

#include <sqlite3.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engram/status.h"

namespace engram::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1, as in SQLite. Text is copied by SQLite (SQLITE_TRANSIENT)
  // unless bind_text_static is used, which requires the text to outlive the next step().
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, double v);
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, std::nullptr_t);
  Statement& bind_optional(int i, const std::optional<std::string>& v);
  Statement& bind_text_static(int i, std::string_view v);
  // Passes `p` to SQL functions that ask for a pointer of this type (sqlite3_bind_pointer);
  // `type` must be a string constant, and `p` must outlive the statement's next reset.
  Statement& bind_pointer(int i, void* p, const char* type);

  // Returns true while a row is available, false when done; errors go to `status`.
  bool step(Status& status);
  // Runs a statement that returns no rows.
  Status run();
  // Runs a statement that returns one integer (0 when it returns no row), then resets it.
  Result<int64_t> scalar();
  void reset();

  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double column_double(int i) const { return sqlite3_column_double(stmt_, i); }
  bool column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::string column_text(int i) const;
  std::optional<std::string> column_optional_text(int i) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Connection {
 public:
  // Opens (creating if asked) the database file and applies the busy timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool create,
                                                  std::chrono::milliseconds busy_timeout);
  ~Connection();

  Status exec(std::string_view sql);
  // A statement cached by its SQL text, reset and with bindings cleared, ready to bind.
  Result<Statement*> cached(const std::string& sql);
  Result<Statement> prepare(std::string_view sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }

  // Ok while the file this connection opened is still the one at its path, and its WAL, once
  // seen, is still there; Unavailable otherwise (deleted, renamed over, replaced): writes made
  // then would be acknowledged and lost when the process ends. Two stat() calls.
  Status check_file();

 private:
  struct FileId {
    dev_t dev;
    ino_t ino;
    bool operator==(const FileId&) const = default;
  };
  static std::optional<FileId> Identify(const std::string& path);

  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::optional<FileId> file_, wal_;
  std::unordered_map<std::string, Statement> cache_;
};

// Maps a SQLite result code to a Status, with `what` saying which operation failed.
Status ErrorStatus(sqlite3* db, int rc, std::string_view what);

}  // namespace engram::sqlite
