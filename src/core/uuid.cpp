#include "core/uuid.h"

#include <array>
#include <cstdint>
#include <mutex>
#include <random>

namespace engram {
namespace {

struct Generator {
  std::mutex mu;
  std::mt19937_64 rng{std::random_device{}()};
  uint64_t last_ms = 0;
  uint16_t counter = 0;  // 12 bits, seeded randomly each millisecond
};

Generator& TheGenerator() {
  static Generator g;
  return g;
}

}  // namespace

std::string NewUuidV7(std::chrono::system_clock::time_point now) {
  auto ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  uint64_t rand_b;
  uint16_t rand_a;
  {
    Generator& g = TheGenerator();
    std::lock_guard lock(g.mu);
    if (ms <= g.last_ms) {
      // Same (or an earlier) millisecond: keep the ids increasing.
      ms = g.last_ms;
      if (++g.counter > 0xFFF) {
        ++ms;
        g.counter = static_cast<uint16_t>(g.rng() & 0x7FF);
      }
    } else {
      // Start low in the counter space so many ids fit in the millisecond.
      g.counter = static_cast<uint16_t>(g.rng() & 0x7FF);
    }
    g.last_ms = ms;
    rand_a = g.counter;
    rand_b = g.rng();
  }

  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>(0x70 | ((rand_a >> 8) & 0x0F));
  b[7] = static_cast<uint8_t>(rand_a & 0xFF);
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(rand_b >> (56 - 8 * i));
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace engram
