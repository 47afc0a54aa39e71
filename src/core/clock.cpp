#include "engram/options.h"

namespace engram {
namespace {

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override { return std::chrono::system_clock::now(); }
};

}  // namespace

std::shared_ptr<Clock> SystemClock() {
  static const auto clock = std::make_shared<RealClock>();
  return clock;
}

}  // namespace engram
