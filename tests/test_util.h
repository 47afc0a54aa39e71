// Helpers shared by the tests: a temporary folder that cleans up after itself, checks of a
// Result, and the members of a list.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engram/status.h"

namespace engram::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "engram-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string url(const std::string& name) const { return "sqlite://" + file(name); }

 private:
  std::filesystem::path path_;
};

}  // namespace engram::testing

// Asserts a Result or Status is ok, printing its message when it is not.
#define ASSERT_OK(expr)                                 \
  do {                                                  \
    const auto& _r = (expr);                            \
    ASSERT_TRUE(_r.ok()) << ::engram::testing::Msg(_r); \
  } while (0)

namespace engram::testing {

// The value of a Result the test expects to hold one: when it holds an error instead, the test
// fails with the error's message (rather than reading a value that is not there) and a
// default value stands in.
template <typename T>
T ValueOf(Result<T> r) {
  if (!r.ok()) {
    ADD_FAILURE() << "expected a value, got: " << r.status().message();
    return T{};
  }
  return std::move(r).value();
}

inline std::string Msg(const Status& s) {
  return s.message();
}
template <typename T>
std::string Msg(const Result<T>& r) {
  return r.status().message();
}

// One member of each item, in order: what a test compares of a list.
template <typename T, typename M>
std::vector<M> Each(const std::vector<T>& items, M T::*member) {
  std::vector<M> out;
  for (const auto& item : items) out.push_back(item.*member);
  return out;
}
}  // namespace engram::testing
