// Errors as values: every fallible engram call returns a Status or a Result<T>.
// No exception crosses the public API.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace engram {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,     // the caller's input is wrong: a field, a limit, a format
    kNotFound,            // no such episode
    kFailedPrecondition,  // the operation does not fit the state, e.g. a completed episode
    kResourceExhausted,   // a count limit, e.g. steps per episode
    kCorruption,          // the store is damaged or is not an engram store
    kIOError,             // the store could not be opened, read or written
    kBusy,                // the store stayed locked by another process past the busy timeout
    kAborted,             // the memory was closed before the operation finished
    kAlreadyExists,       // an import met an episode id the store already holds
    kNoSpace,             // the disk (or the store's size limit) is full: the write was not kept
    kUnavailable,         // the store refuses writes: its file was deleted or replaced under it
    kInternal,            // a bug of engram's: a broken invariant, never the caller's doing
  };

  Status() = default;

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string msg) {
    return {Code::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) {
    return {Code::kFailedPrecondition, std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg) {
    return {Code::kResourceExhausted, std::move(msg)};
  }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  static Status Aborted(std::string msg) { return {Code::kAborted, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
  static Status NoSpace(std::string msg) { return {Code::kNoSpace, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsFailedPrecondition() const { return code_ == Code::kFailedPrecondition; }
  bool IsResourceExhausted() const { return code_ == Code::kResourceExhausted; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsNoSpace() const { return code_ == Code::kNoSpace; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool IsInternal() const { return code_ == Code::kInternal; }

  // The message a user can act on, e.g. "observation is 70000 bytes, limit 65536 bytes".
  const std::string& message() const { return message_; }

  // The same kind of error with another message (one that says where it happened, say).
  Status with_message(std::string msg) const { return {code_, std::move(msg)}; }

  // "ok", or the message prefixed by nothing: messages are written to stand alone.
  std::string ToString() const { return ok() ? "ok" : message_; }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none: never both, never neither.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  // REQUIRES: !status.ok(). An OK status carries no value: debug builds stop here, others
  // hold an Internal error in its place.
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result holds a value or an error, not an OK status");
    if (status_.ok()) status_ = Status::Internal("a Result was made of an OK status, no value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok().
  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return checked(); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }

 private:
  T& checked() {
    assert(ok() && "the value of a failed Result");
    return *value_;
  }
  const T& checked() const {
    assert(ok() && "the value of a failed Result");
    return *value_;
  }

  std::optional<T> value_;
  Status status_;  // Ok when value_ is set.
};

}  // namespace engram
