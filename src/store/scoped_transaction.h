// BEGIN … COMMIT on a store connection (SQLite or PostgreSQL: anything with
// `Status exec(std::string_view)`), rolled back unless committed.
#pragma once

#include <string_view>

#include "engram/status.h"

namespace engram {

template <typename Connection>
class ScopedTransaction {
 public:
  // `precondition` not ok: the transaction does not begin, and begin_status() says why.
  ScopedTransaction(Connection& conn, std::string_view begin, Status precondition = Status::Ok())
      : conn_(conn), begin_(std::move(precondition)) {
    if (begin_.ok()) begin_ = conn_.exec(begin);
  }
  ~ScopedTransaction() {
    if (begin_.ok() && !done_) (void)conn_.exec("ROLLBACK");
  }
  ScopedTransaction(const ScopedTransaction&) = delete;
  ScopedTransaction& operator=(const ScopedTransaction&) = delete;

  const Status& begin_status() const { return begin_; }
  Status commit() {
    done_ = true;
    Status s = conn_.exec("COMMIT");
    if (!s.ok()) (void)conn_.exec("ROLLBACK");
    return s;
  }

 private:
  Connection& conn_;
  Status begin_;
  bool done_ = false;
};

}  // namespace engram
