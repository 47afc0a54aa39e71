// Results made by several threads in any order and taken by one thread in order, without a lock
// for a result that is ready.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <optional>
#include <vector>

namespace engram {

template <class T>
class InOrder {
 public:
  explicit InOrder(size_t n) : values_(n), ready_(n) {}

  // Sets result `i`; each is set once, by any thread.
  void Put(size_t i, T value) {
    assert(!ready_[i].load(std::memory_order_relaxed));
    values_[i] = std::move(value);
    ready_[i].store(true, std::memory_order_release);
    ready_[i].notify_one();
  }

  // Waits until result `i` is set and returns it, the caller's from then on. One thread takes
  // the results; a lock here would cost it: unlocking a lock that a putter waits for hands that
  // putter the taker's CPU.
  T& Take(size_t i) {
    ready_[i].wait(false, std::memory_order_acquire);
    return *values_[i];
  }

  // Takes result `i` out, to be destroyed elsewhere. REQUIRES: it was taken.
  T Release(size_t i) { return std::move(*values_[i]); }

 private:
  std::vector<std::optional<T>> values_;
  std::vector<std::atomic<bool>> ready_;
};

}  // namespace engram
