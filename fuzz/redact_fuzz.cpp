// The redaction stage on any text, and on any JSON value: it never fails, and what it leaves
// holds nothing it would redact again (a marker is never read as a secret).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/redact.h"
#include "engram/json.h"

using namespace engram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto redactor = [] {
    RedactionOptions options;
    options.masked_keys = {"x-api-key"};
    auto r = Redactor::Make(options);
    if (!r.ok()) __builtin_trap();
    return *r;
  }();
  std::string text(reinterpret_cast<const char*>(data), size);
  RedactionCounts counts;
  redactor->Redact(text, counts);
  RedactionCounts again;
  redactor->Redact(text, again);
  if (!again.empty()) __builtin_trap();
  if (auto j = parse_json(std::string_view(reinterpret_cast<const char*>(data), size)); j.ok()) {
    RedactionCounts first;
    redactor->Redact(*j, first);
    RedactionCounts second;
    redactor->Redact(*j, second);
    if (!second.empty()) __builtin_trap();
  }
  return 0;
}
