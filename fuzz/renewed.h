// What a fuzz harness drives (a door of engram) over a Memory on an in-memory store, both made
// again every kRenewEvery runs, so that what the runs store stays bounded.
#pragma once

#include <memory>

#include "engram/engram.h"

namespace engram::fuzz {

inline constexpr int kRenewEvery = 5000;

template <typename Door>
class Renewed {
 public:
  // The door, made by `make(memory)` on the first run and every kRenewEvery runs.
  template <typename Make>
  Door& Get(const Make& make) {
    if (!door_ || ++runs_ % kRenewEvery == 0) {
      door_.reset();
      memory_.reset();
      auto opened = Memory::open("sqlite://:memory:");
      if (!opened.ok()) __builtin_trap();
      memory_ = std::move(*opened);
      door_ = make(*memory_);
    }
    return *door_;
  }

 private:
  std::unique_ptr<Memory> memory_;
  std::unique_ptr<Door> door_;
  int runs_ = 0;
};

}  // namespace engram::fuzz
