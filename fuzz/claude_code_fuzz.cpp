// Claude Code, as engram reads it: the input's lines as a session transcript, and the whole input
// as a hook event. Every step either makes must pass engram's own validation (the mapping cuts
// and cleans what it takes), and every refusal says why.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/claude_code.h"
#include "core/validation.h"
#include "engram/json.h"

using namespace engram;

namespace {

void MustStore(const ExecutionStep& step) {
  if (!PrepareStep(step, Limits{}, std::chrono::system_clock::now()).ok()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  claude_code::TranscriptReader reader{Limits{}};
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    if (auto line = parse_json(input.substr(start, end - start)); line.ok()) {
      Status s = reader.Add(*line);
      if (!s.ok() && s.message().empty()) __builtin_trap();
    }
    start = end + 1;
  }
  if (auto e = reader.Finish(); e.ok()) {
    if (Status s = ValidateEpisodeSpec(
            EpisodeSpec{e->task, e->task_type, e->context, e->metadata, std::nullopt}, Limits{});
        !s.ok()) {
      __builtin_trap();
    }
    for (const ExecutionStep& step : e->steps) MustStore(step);
  }
  if (auto whole = parse_json(input); whole.ok()) {
    auto event = claude_code::ReadHookEvent(*whole);
    if (!event.ok()) {
      if (event.status().message().empty()) __builtin_trap();
      return 0;
    }
    MustStore(claude_code::ToolStep(*event, Limits{}));
    MustStore(claude_code::PromptStep(event->prompt, Limits{}));
    if (ValidateEpisodeSpec(
            claude_code::SessionSpec(*event, event->prompt.empty() ? "t" : event->prompt, Limits{}),
            Limits{})
            .ok() == false) {
      __builtin_trap();
    }
  }
  return 0;
}
