// A thin layer over libpq: connections that prepare each statement once, results freed on
// scope exit, parameters in libpq's text format, and PostgreSQL errors as Status values.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engram/status.h"

namespace engram::pg {

// Query parameters, sent as text; a nullopt is SQL NULL. Values are copied in.
class Params {
 public:
  Params() = default;
  Params(Params&&) = default;  // a deque moves its elements' storage along
  Params& operator=(Params&&) = default;
  Params(const Params&) = delete;  // values_ would point into the original
  Params& operator=(const Params&) = delete;

  Params& add(std::string_view v);
  Params& add(const char* v) { return add(std::string_view(v)); }
  Params& add(const std::string& v) { return add(std::string_view(v)); }
  Params& add(int64_t v);
  Params& add(double v);
  Params& add(bool v);
  Params& add(std::nullopt_t);
  Params& add(const std::optional<std::string>& v);
  Params& add(const std::optional<int64_t>& v);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }

 private:
  std::deque<std::string> storage_;  // stable addresses as it grows
  std::vector<const char*> values_;
};

// The rows of one result.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const;
  std::optional<std::string> optional_text(int row, int col) const;
  int64_t integer(int row, int col) const;  // 0 for NULL
  double real(int row, int col) const;      // 0 for NULL
  bool boolean(int row, int col) const;     // PostgreSQL's 't'

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

// One row of a result, read the way a SQLite statement is (store/row_decode.h).
class Row {
 public:
  Row(const Rows& rows, int row) : rows_(rows), row_(row) {}
  std::string column_text(int i) const { return rows_.text(row_, i); }
  std::optional<std::string> column_optional_text(int i) const {
    return rows_.optional_text(row_, i);
  }
  int64_t column_int(int i) const { return rows_.integer(row_, i); }
  double column_double(int i) const { return rows_.real(row_, i); }
  bool column_is_null(int i) const { return rows_.null(row_, i); }

 private:
  const Rows& rows_;
  int row_;
};

// Seconds a connection attempt waits for the server unless the conninfo or PGCONNECT_TIMEOUT
// says otherwise.
inline constexpr const char* kConnectTimeout = "10";

class Connection {
 public:
  // `conninfo` as libpq takes it: a postgres:// or postgresql:// URL or key=value pairs;
  // `setup` (statements such as SET search_path) runs once connected.
  static Result<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                  std::string_view setup = {});
  ~Connection();

  // One or more statements without parameters (the simple query protocol).
  Status exec(std::string_view sql);
  // One statement with parameters ($1, $2, ...), prepared on first use on this connection.
  Result<Rows> query(const std::string& sql, const Params& params = {});
  // Like query, for statements whose rows do not matter.
  Status run(const std::string& sql, const Params& params = {});
  // Like query, handing the rows to `each` one at a time as they arrive (libpq's single-row
  // mode), so that a result of millions of rows is never held whole. Not prepared.
  Status stream(const std::string& sql, const Params& params,
                const std::function<void(const Row&)>& each);

  // Statements with parameters run in order with their answers read together (libpq's
  // pipeline mode): a few round trips for any number of them. The rows of each, in order, or
  // the first error (the server then skips the rest, and an open transaction is aborted).
  using Statements = std::vector<std::pair<std::string, Params>>;
  Result<std::vector<Rows>> pipeline(const Statements& statements);

  // Sends `rows` (lines of COPY text format, each ending in a newline) to
  // COPY `target` FROM STDIN.
  Status copy_in(const std::string& target, std::string_view rows);

  PGconn* raw() { return conn_; }
  // False once the connection to the server is lost; the pool then drops it.
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Like healthy(), for an idle connection, also false when the server has sent anything since
  // the last statement: it does only to end the session (a restart, a failover,
  // pg_terminate_backend). No round trip; a connection a network fault cut silently still looks
  // alive.
  bool alive() const;

 private:
  explicit Connection(PGconn* c) : conn_(c) {}
  Result<PGresult*> Execute(const std::string& sql, const Params& params);
  // A name no statement of this connection had.
  std::string NewStatementName() { return fmt::format("s{}", statements_made_++); }
  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  int64_t statements_made_ = 0;  // names are never reused, even those a failure left unknown
};

// The Status for a failed result: SQLSTATE class 40 (serialization failure, deadlock) is Busy
// so the caller may run its transaction again, 23505 (unique violation) AlreadyExists, anything
// else IOError; the message names `what` and the server's text.
Status ErrorStatus(const PGresult* r, PGconn* conn, std::string_view what);

// Appends `v` to `out` escaped for COPY's text format.
void AppendCopyText(std::string& out, std::string_view v);

// Array literals for parameters ($1::bigint[], $1::text[]): numbers as they print, texts quoted.
template <typename T>
std::string NumberArray(const std::vector<T>& items) {
  return fmt::format("{{{}}}", fmt::join(items, ","));
}
std::string TextArray(const std::vector<std::string>& items);

// Connections to one database, opened as needed and kept for reuse, at most `max_size` at once;
// a caller beyond that waits for one to come back.
class Pool {
 public:
  Pool(std::string conninfo, size_t max_size, std::string setup = {});

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Connection* operator->() { return conn_.get(); }
    Connection& operator*() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<Connection> c);

  const std::string conninfo_;
  const size_t max_size_;
  const std::string setup_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;  // idle and leased
};

}  // namespace engram::pg
