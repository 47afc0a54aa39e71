// Lock requirements the code checks: a function whose contract is "the caller holds mu" takes
// the caller's lock as a parameter (so that it cannot be called without one) and asserts, in
// debug builds, that it is a lock on that very mutex and that it is held.
#pragma once

#include <cassert>
#include <mutex>

namespace engram {

template <typename Mutex>
void AssertHeld(const std::unique_lock<Mutex>& lock, const Mutex& mu) {
  assert(lock.owns_lock() && lock.mutex() == &mu && "REQUIRES: the caller holds this mutex");
  (void)lock;
  (void)mu;
}

}  // namespace engram
