// The OpenAI chat import format: a conversation (a list of messages, or an object holding one)
// into an episode, within the limits.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/openai_chat.h"
#include "engram/json.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  // What it makes is validated again by the import, as any episode is.
  (void)EpisodeFromOpenAiChat(*parsed, Limits{});
  return 0;
}
