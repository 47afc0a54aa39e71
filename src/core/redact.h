// The redaction stage: secrets found in what agents send replaced, before anything is stored,
// by a marker that names the detector ("[REDACTED:github_token]"). Regular expressions are RE2's
// (linear time: no input can stall the writer).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engram/options.h"
#include "engram/status.h"
#include "engram/types.h"

namespace engram {

// The built-in detectors' names, in the order they run.
const std::vector<std::string>& RedactionDetectors();

// Redaction options from their JSON form (a file for the CLI and the server):
// {"enabled": bool, "disabled": [name], "patterns": {name: RE2 pattern}, "masked_keys": [key]},
// every field optional. InvalidArgument naming the field otherwise.
Result<RedactionOptions> RedactionOptionsFromJson(const nlohmann::json& j);

// How often each detector fired, by name.
using RedactionCounts = std::map<std::string, int64_t>;

class Redactor {
 public:
  // InvalidArgument naming the option for an unknown detector, a pattern RE2 rejects, or a
  // pattern's name that is empty or not [a-z0-9_].
  static Result<std::shared_ptr<const Redactor>> Make(const RedactionOptions& options);
  ~Redactor();

  // Replaces what the detectors find in `text`, adding to `counts`.
  void Redact(std::string& text, RedactionCounts& counts) const;
  // The same for every string value in `value`, each read with its key (a password under
  // "password", a token under "Authorization"); values under a masked key are
  // replaced whole ("[REDACTED:masked_key]").
  void Redact(nlohmann::json& value, RedactionCounts& counts) const;

  // A step's action, observation, parameters and metadata; the detectors that fired, and how
  // often, go to its metadata "redacted" ("aws_access_key:1, jwt:2"), never what they matched.
  void Redact(ExecutionStep& step) const;
  // An episode's task, context and metadata ("redacted" noted in the metadata).
  void Redact(EpisodeSpec& spec) const;
  // What an amendment sets ("redacted" noted in the metadata it sets).
  void Redact(EpisodeAmendment& amendment) const;
  // An outcome's summary and lists; what fired is returned for the caller to note.
  void Redact(Outcome& outcome, RedactionCounts& counts) const;
  // A whole episode (an import): its task, context, metadata, outcome and steps.
  void Redact(Episode& episode) const;

  // "aws_access_key:1, jwt:2".
  static std::string Describe(const RedactionCounts& counts);

 private:
  struct Impl;
  void RedactEpisode(std::string& task, Context& context, nlohmann::json& metadata,
                     RedactionCounts& counts) const;
  explicit Redactor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace engram
