#include "store/postgres/db.h"

#include <poll.h>

#include <fmt/format.h>

#include <charconv>
#include <condition_variable>
#include <cstdlib>

namespace engram::pg {

Params& Params::add(std::string_view v) {
  values_.push_back(storage_.emplace_back(v).c_str());
  return *this;
}

Params& Params::add(int64_t v) {
  return add(std::string_view(std::to_string(v)));
}

Params& Params::add(double v) {
  return add(std::string_view(fmt::format("{}", v)));
}

Params& Params::add(bool v) {
  return add(std::string_view(v ? "t" : "f"));
}

Params& Params::add(std::nullopt_t) {
  values_.push_back(nullptr);
  return *this;
}

Params& Params::add(const std::optional<std::string>& v) {
  return v ? add(std::string_view(*v)) : add(std::nullopt);
}

Params& Params::add(const std::optional<int64_t>& v) {
  return v ? add(*v) : add(std::nullopt);
}

std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

std::optional<std::string> Rows::optional_text(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return text(row, col);
}

int64_t Rows::integer(int row, int col) const {
  if (null(row, col)) return 0;
  const char* v = PQgetvalue(r_.get(), row, col);
  int64_t out = 0;
  std::from_chars(v, v + PQgetlength(r_.get(), row, col), out);
  return out;
}

double Rows::real(int row, int col) const {
  if (null(row, col)) return 0;
  return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}

bool Rows::boolean(int row, int col) const {
  return !null(row, col) && PQgetvalue(r_.get(), row, col)[0] == 't';
}

namespace {

// libpq's messages run over several lines ("…failed: Connection refused\n\tIs the server
// running…?\n"): one line, as every engram error is, its white space runs folded into a space.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space) {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

Status ErrorStatus(const PGresult* r, PGconn* conn, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  // The server's own sentence ("duplicate key value violates ..."), without libpq's "ERROR:"
  // prefix; libpq's message when the server sent none (a lost connection).
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = OneLine(primary ? primary : (conn ? PQerrorMessage(conn) : ""));
  if (const char* detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr) {
    message += fmt::format(" ({})", OneLine(detail));
  }
  const std::string text = fmt::format("{}: {}", what, message);
  const std::string_view sqlstate = state ? state : "";
  if (sqlstate.substr(0, 2) == "40") return Status::Busy(text);  // run the transaction again
  if (sqlstate == "23505") return Status::AlreadyExists(text);
  // 53100 disk_full (and 53xxx insufficient resources generally) on the server's side.
  if (sqlstate == "53100") return Status::NoSpace(text + " (the server's disk is full)");
  return Status::IOError(text);
}

std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

void AppendCopyText(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo,
                                                     std::string_view setup) {
  // libpq waits for a connection without limit by default: a database host that drops packets
  // (rather than refusing them) held a node's connect or reconnect until TCP gave up, minutes
  // later. The default (PGCONNECT_TIMEOUT's, else kConnectTimeout) comes first, so the
  // conninfo's own connect_timeout (expanded from dbname, later in the list) wins.
  const char* env = std::getenv("PGCONNECT_TIMEOUT");
  const char* keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {env ? env : kConnectTimeout, conninfo.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (!c) return Status::IOError("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    const std::string why = OneLine(PQerrorMessage(c));
    PQfinish(c);
    return Status::IOError(fmt::format("cannot connect to PostgreSQL: {}", why));
  }
  auto conn = std::unique_ptr<Connection>(new Connection(c));
  // Notices (e.g. "relation already exists, skipping") are not for the user.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  if (Status s = conn->exec("SET client_encoding = 'UTF8'"); !s.ok()) return s;
  if (!setup.empty()) {
    if (Status s = conn->exec(setup); !s.ok()) return s;
  }
  return conn;
}

bool Connection::alive() const {
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  // The server sends nothing to an idle session of engram's (it neither LISTENs nor changes
  // settings between statements) but its goodbye: a FATAL message before it closes. Whatever
  // arrived, the connection is not worth keeping, and a new one costs a few milliseconds.
  pollfd p{PQsocket(conn_), POLLIN, 0};
  return poll(&p, 1, 0) == 0;
}

Connection::~Connection() {
  PQfinish(conn_);
}

Status Connection::exec(std::string_view sql) {
  const std::string text(sql);
  PGresult* r = PQexec(conn_, text.c_str());
  const ExecStatusType st = PQresultStatus(r);
  Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok()
                                                             : ErrorStatus(r, conn_, "PostgreSQL");
  PQclear(r);
  return s;
}

Result<PGresult*> Connection::Execute(const std::string& sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = NewStatementName();
    PGresult* r = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    Status s = ok ? Status::Ok() : ErrorStatus(r, conn_, "PostgreSQL");
    PQclear(r);
    if (!s.ok()) return s;
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  PGresult* r = PQexecPrepared(conn_, it->second.c_str(), params.size(), params.values(), nullptr,
                               nullptr, 0);
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status s = ErrorStatus(r, conn_, "PostgreSQL");
    PQclear(r);
    return s;
  }
  return r;
}

Result<Rows> Connection::query(const std::string& sql, const Params& params) {
  auto r = Execute(sql, params);
  if (!r.ok()) return r.status();
  return Rows(*r);
}

Status Connection::run(const std::string& sql, const Params& params) {
  auto r = Execute(sql, params);
  if (!r.ok()) return r.status();
  PQclear(*r);
  return Status::Ok();
}

Status Connection::stream(const std::string& sql, const Params& params,
                          const std::function<void(const Row&)>& each) {
  if (PQsendQueryParams(conn_, sql.c_str(), params.size(), nullptr, params.values(), nullptr,
                        nullptr, 0) != 1) {
    return ErrorStatus(nullptr, conn_, "PostgreSQL");
  }
  PQsetSingleRowMode(conn_);
  Status s;
  // A row a result, then an empty one that ends the rows (or an error), then none.
  while (PGresult* r = PQgetResult(conn_)) {
    const Rows rows(r);
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_SINGLE_TUPLE) {
      if (s.ok()) each(Row(rows, 0));
    } else if (status != PGRES_TUPLES_OK && s.ok()) {
      s = ErrorStatus(r, conn_, "PostgreSQL");
    }
  }
  return s;
}

Result<std::vector<Rows>> Connection::pipeline(const Statements& statements) {
  // Answers are read after every kChunk statements, so that the server's replies never fill
  // the socket while this side is still sending (both would wait).
  constexpr size_t kChunk = 1000;
  std::vector<Rows> out;
  out.reserve(statements.size());
  for (size_t from = 0; from < statements.size(); from += kChunk) {
    const size_t to = std::min(statements.size(), from + kChunk);
    if (PQenterPipelineMode(conn_) != 1) return ErrorStatus(nullptr, conn_, "PostgreSQL");
    struct Sent {
      const std::string* prepared_sql;  // a Prepare of this statement, or null for a query
      std::string name;
    };
    std::vector<Sent> sent;
    std::unordered_map<std::string, std::string> preparing;  // sql -> name, in this chunk
    bool sending = true;
    for (size_t i = from; i < to && sending; ++i) {
      const auto& [sql, params] = statements[i];
      std::string name;
      if (auto it = prepared_.find(sql); it != prepared_.end()) {
        name = it->second;
      } else if (auto p = preparing.find(sql); p != preparing.end()) {
        name = p->second;
      } else {
        name = NewStatementName();
        sending = PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) == 1;
        preparing.emplace(sql, name);
        sent.push_back({&sql, name});
      }
      if (sending) {
        sending = PQsendQueryPrepared(conn_, name.c_str(), params.size(), params.values(), nullptr,
                                      nullptr, 0) == 1;
        sent.push_back({nullptr, {}});
      }
    }
    Status s;
    if (!sending || PQpipelineSync(conn_) != 1) {
      // The connection failed while sending; what was sent will not be answered.
      s = ErrorStatus(nullptr, conn_, "PostgreSQL");
      return s;
    }
    for (const Sent& each : sent) {
      PGresult* r = PQgetResult(conn_);  // the command's result, then a null that ends it
      if (!r) {
        s = ErrorStatus(nullptr, conn_, "PostgreSQL");
        break;
      }
      const ExecStatusType st = PQresultStatus(r);
      if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (each.prepared_sql) {
          prepared_.emplace(*each.prepared_sql, each.name);
          PQclear(r);
        } else {
          out.emplace_back(r);
        }
      } else {
        if (st != PGRES_PIPELINE_ABORTED && s.ok()) s = ErrorStatus(r, conn_, "PostgreSQL");
        PQclear(r);
      }
      while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    }
    // The sync's own result ends the chunk.
    while (PGresult* r = PQgetResult(conn_)) {
      const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) break;
    }
    PQexitPipelineMode(conn_);
    if (!s.ok()) return s;
  }
  return out;
}

Status Connection::copy_in(const std::string& target, std::string_view rows) {
  const std::string sql = fmt::format("COPY {} FROM STDIN", target);
  PGresult* r = PQexec(conn_, sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    Status s = ErrorStatus(r, conn_, "PostgreSQL COPY");
    PQclear(r);
    return s;
  }
  PQclear(r);
  bool sent = PQputCopyData(conn_, rows.data(), static_cast<int>(rows.size())) == 1;
  if (PQputCopyEnd(conn_, sent ? nullptr : "engram could not send the rows") != 1) sent = false;
  Status s;
  // The COPY's own result, then the end of the command.
  while (PGresult* end = PQgetResult(conn_)) {
    if (PQresultStatus(end) != PGRES_COMMAND_OK && s.ok()) {
      s = ErrorStatus(end, conn_, "PostgreSQL COPY");
    }
    PQclear(end);
  }
  if (s.ok() && !sent) s = ErrorStatus(nullptr, conn_, "PostgreSQL COPY");
  return s;
}

Pool::Pool(std::string conninfo, size_t max_size, std::string setup)
    : conninfo_(std::move(conninfo)), max_size_(max_size), setup_(std::move(setup)) {}

Pool::Lease::~Lease() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

Result<Pool::Lease> Pool::acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_size_; });
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (c->alive()) return Lease(this, std::move(c));
    --open_;  // the server ended it while it was idle: open a new one instead
  }
  ++open_;
  lock.unlock();
  auto c = Connection::Open(conninfo_, setup_);
  if (!c.ok()) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return c.status();
  }
  return Lease(this, std::move(*c));
}

void Pool::release(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (c->healthy()) {
    idle_.push_back(std::move(c));
  } else {
    --open_;  // a lost connection is dropped; the next caller opens a new one
  }
  cv_.notify_one();
}

}  // namespace engram::pg
