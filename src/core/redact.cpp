#include "core/redact.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <functional>
#include <set>

namespace engram {
namespace {

using nlohmann::json;

constexpr const char* kMaskedMarker = "[REDACTED:masked_key]";

// A detector: what it finds, and which of its groups is the secret (0: the whole match; from
// that group on, the first that matched, for alternatives), the rest of the match kept as it
// was ("Authorization: Bearer " stays, the token goes).
struct Detector {
  std::string name;
  std::string pattern;
  int secret_group = 0;
  bool high_entropy = false;  // the secret must also look random (ShannonBits)
  // A group whose match counts only with a digit or a symbol in it: a bare word after
  // "token:" or "password =" in code is a type or a name (Token::Eof, password: String), a
  // secret seldom is.
  int word_group = -1;
};

// Keywords that name a secret in an assignment: password=, "api_key": ..., DB_PASSWORD=...
// The value is on the keyword's line: "Password:" at the end of a line is a prompt, not an
// assignment of the next line.
constexpr std::string_view kSecretKeywords =
    "(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token|"
    "refresh[_-]?token|client[_-]?secret|private[_-]?key|token)";

const std::vector<Detector>& BuiltIn() {
  static const std::vector<Detector> detectors = {
      {"private_key",
       "-----BEGIN[ A-Z0-9]*PRIVATE KEY-----(?:(?s:.)*?-----END[ A-Z0-9]*PRIVATE "
       "KEY-----|(?s:.)*$)"},
      {"aws_access_key", R"(\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}\b)"},
      {"aws_secret_key",
       R"((?i)(aws_?secret_?(?:access_?)?key["']?[ \t]*[:=][ \t]*["']?)([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$))",
       2},
      {"github_token", R"(\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}))"},
      {"gitlab_token", R"(\bgl(?:pat|dt|ptt|rt|cbt|oas|soat)-[A-Za-z0-9_-]{20,})"},
      {"slack_token",
       R"(\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+)"},
      {"stripe_key", R"(\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,})"},
      {"anthropic_key", R"(\bsk-ant-[A-Za-z0-9_-]{20,})"},
      {"openai_key", R"(\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})"},
      {"jwt", R"(\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,})"},
      {"authorization",
       R"((?i)((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:bearer|basic|token|digest)[ \t]+)([A-Za-z0-9._~+/=-]{4,}))",
       2},
      // RFC 3986 userinfo holds no brackets, so a marker is never read as a user or password.
      {"url_password", R"(\b([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'"\[\]]+:)([^\s@/'"\[\]]+)@)", 2},
      // A quoted value whole (spaces and all), else a bare word.
      {"secret_assignment",
       fmt::format(
           R"re((?i)({}["']?[ \t]*[:=][ \t]*)(?:"([^"\n\[][^"\n]*)"|'([^'\n\[][^'\n]*)'|([^\s"'\[,;&{{}}<>():]{{3,}})))re",
           kSecretKeywords),
       2, false, 4},
      {"high_entropy",
       R"((?i)([A-Za-z0-9_.-]*(?:key|secret|token|passw|credential|auth|signature)[A-Za-z0-9_.-]*["']?[ \t]*[:=][ \t]*["']?)([A-Za-z0-9+/_=.-]{20,}))",
       2, /*high_entropy=*/true},
  };
  return detectors;
}

// Bits of entropy a character of `s` carries (Shannon): random base64 is near 6, hex near 4,
// words near 3.
double ShannonBits(std::string_view s) {
  std::array<int, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double bits = 0;
  for (int n : counts) {
    if (n == 0) continue;
    const double p = static_cast<double>(n) / static_cast<double>(s.size());
    bits -= p * std::log2(p);
  }
  return bits;
}

bool LooksRandom(std::string_view s) {
  const bool digit = std::any_of(s.begin(), s.end(), [](char c) { return std::isdigit(c); });
  const bool alpha = std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(c); });
  return digit && alpha && ShannonBits(s) >= 3.5;
}

// A digit, or a symbol other than those of names and paths (_ . - /).
bool HasDigitOrSymbol(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isdigit(u) || (std::ispunct(u) && c != '_' && c != '.' && c != '-' && c != '/');
  });
}

bool ValidName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::vector<std::string>& RedactionDetectors() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& d : BuiltIn()) out.push_back(d.name);
    return out;
  }();
  return names;
}

Result<RedactionOptions> RedactionOptionsFromJson(const json& j) {
  if (!j.is_object())
    return Status::InvalidArgument("the redaction settings must be a JSON object");
  RedactionOptions o;
  for (const auto& [key, value] : j.items()) {
    if (key == "enabled") {
      if (!value.is_boolean()) return Status::InvalidArgument("enabled must be true or false");
      o.enabled = value.get<bool>();
    } else if (key == "disabled" || key == "masked_keys") {
      auto& list = key == "disabled" ? o.disabled : o.masked_keys;
      if (!value.is_array()) {
        return Status::InvalidArgument(fmt::format("{} must be a list of strings", key));
      }
      for (const auto& item : value) {
        if (!item.is_string()) {
          return Status::InvalidArgument(fmt::format("{} must be a list of strings", key));
        }
        list.push_back(item.get<std::string>());
      }
    } else if (key == "patterns") {
      if (!value.is_object()) {
        return Status::InvalidArgument("patterns must be an object of name: RE2 pattern");
      }
      for (const auto& [name, pattern] : value.items()) {
        if (!pattern.is_string()) {
          return Status::InvalidArgument(fmt::format("patterns.{} must be a string", name));
        }
        o.patterns.emplace_back(name, pattern.get<std::string>());
      }
    } else {
      return Status::InvalidArgument(fmt::format(
          "unknown redaction setting \"{}\" (known: enabled, disabled, patterns, masked_keys)",
          key.substr(0, 80)));
    }
  }
  return o;
}

struct Redactor::Impl {
  struct Compiled {
    Detector detector;
    std::unique_ptr<RE2> re;
    std::string marker;
  };
  std::vector<Compiled> detectors;
  std::unique_ptr<RE2::Set> any;  // every detector at once: which of them to run
  std::set<std::string> masked;   // lower-case keys

  // Replaces the matches of `d` in `text`; how many.
  int64_t Replace(const Compiled& d, std::string& text) const {
    const int groups = d.re->NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> match(static_cast<size_t>(groups));
    std::string out;
    size_t pos = 0, copied = 0;
    int64_t n = 0;
    while (pos <= text.size() &&
           d.re->Match(text, pos, text.size(), RE2::UNANCHORED, match.data(), groups)) {
      const re2::StringPiece whole = match[0];
      re2::StringPiece secret;
      int g = d.detector.secret_group;
      for (; g < groups; ++g) {
        secret = match[static_cast<size_t>(g)];
        if (secret.data() != nullptr) break;
      }
      if (g == d.detector.word_group && !HasDigitOrSymbol({secret.data(), secret.size()})) {
        secret = re2::StringPiece();
      }
      const size_t whole_end = static_cast<size_t>(whole.data() - text.data()) + whole.size();
      if (secret.data() == nullptr ||
          (d.detector.high_entropy && !LooksRandom({secret.data(), secret.size()}))) {
        pos = std::max(whole_end, static_cast<size_t>(whole.data() - text.data()) + 1);
        continue;
      }
      const size_t start = static_cast<size_t>(secret.data() - text.data());
      out.append(text, copied, start - copied);
      out += d.marker;
      copied = start + secret.size();
      ++n;
      pos = std::max(whole_end, copied + (whole.empty() ? 1 : 0));
    }
    if (n == 0) return 0;
    out.append(text, copied, std::string::npos);
    text = std::move(out);
    return n;
  }
};

Redactor::Redactor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Redactor::~Redactor() = default;

Result<std::shared_ptr<const Redactor>> Redactor::Make(const RedactionOptions& options) {
  auto impl = std::make_unique<Impl>();
  const auto& known = RedactionDetectors();
  for (const std::string& name : options.disabled) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return Status::InvalidArgument(
          fmt::format("redaction.disabled names an unknown detector \"{}\" (known: {})", name,
                      fmt::join(known, ", ")));
    }
  }
  std::vector<Detector> all;
  if (options.enabled) {
    for (const Detector& d : BuiltIn()) {
      if (std::find(options.disabled.begin(), options.disabled.end(), d.name) ==
          options.disabled.end()) {
        all.push_back(d);
      }
    }
  }
  for (const auto& [name, pattern] : options.patterns) {
    if (!ValidName(name)) {
      return Status::InvalidArgument(fmt::format(
          "redaction.patterns: a pattern's name must be 1 to 64 of a-z, 0-9 and _, got \"{}\"",
          name.substr(0, 80)));
    }
    all.push_back(Detector{name, pattern, 0, false});
  }
  RE2::Options re_options;
  re_options.set_log_errors(false);
  re_options.set_max_mem(64 << 20);
  impl->any = std::make_unique<RE2::Set>(re_options, RE2::UNANCHORED);
  for (Detector& d : all) {
    auto re = std::make_unique<RE2>(d.pattern, re_options);
    if (!re->ok()) {
      return Status::InvalidArgument(
          fmt::format("redaction.patterns: \"{}\" is not a valid RE2 "
                      "pattern: {}",
                      d.name, re->error()));
    }
    std::string error;
    if (impl->any->Add(d.pattern, &error) < 0) {
      return Status::InvalidArgument(
          fmt::format("redaction.patterns: \"{}\" is not a valid RE2 pattern: {}", d.name, error));
    }
    std::string marker = fmt::format("[REDACTED:{}]", d.name);
    impl->detectors.push_back(Impl::Compiled{std::move(d), std::move(re), std::move(marker)});
  }
  if (!impl->any->Compile()) {
    return Status::InvalidArgument("redaction: the patterns together are too large to compile");
  }
  for (const std::string& key : options.masked_keys) {
    if (key.empty()) return Status::InvalidArgument("redaction.masked_keys contains an empty key");
    impl->masked.insert(Lower(key));
  }
  return std::shared_ptr<const Redactor>(new Redactor(std::move(impl)));
}

void Redactor::Redact(std::string& text, RedactionCounts& counts) const {
  if (impl_->detectors.empty() || text.empty()) return;
  // A replacement can join what was apart (a quote gone from between a user and a password):
  // the detectors run again until nothing fires, so what is stored is never found again.
  constexpr int kMaxRounds = 8;
  std::vector<int> hits;
  for (int round = 0; round < kMaxRounds; ++round) {
    hits.clear();
    if (!impl_->any->Match(text, &hits)) return;
    std::sort(hits.begin(), hits.end());  // in the detectors' order
    bool replaced = false;
    for (int i : hits) {
      const auto& d = impl_->detectors[static_cast<size_t>(i)];
      if (int64_t n = impl_->Replace(d, text); n > 0) {
        counts[d.detector.name] += n;
        replaced = true;
      }
    }
    if (!replaced) return;
  }
}

void Redactor::Redact(json& value, RedactionCounts& counts) const {
  if (value.is_string()) {
    Redact(value.get_ref<std::string&>(), counts);
  } else if (value.is_array()) {
    for (auto& item : value) Redact(item, counts);
  } else if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!impl_->masked.empty() && impl_->masked.count(Lower(it.key())) && !it->is_null() &&
          *it != kMaskedMarker) {
        *it = kMaskedMarker;
        ++counts["masked_key"];
        continue;
      }
      if (it->is_string()) {
        // Read with its key, as the detectors would read `key: "value"` in text: a password
        // under "password", a token under "Authorization".
        const std::string prefix = it.key() + ": \"";
        std::string text = prefix + it->get_ref<const std::string&>() + "\"";
        RedactionCounts found;
        Redact(text, found);
        if (!found.empty() && text.starts_with(prefix) && text.ends_with("\"")) {
          *it = text.substr(prefix.size(), text.size() - prefix.size() - 1);
          for (const auto& [name, n] : found) counts[name] += n;
          continue;
        }
      }
      Redact(*it, counts);
    }
  }
}

namespace {

void Note(json& metadata, const RedactionCounts& counts) {
  if (counts.empty()) return;
  if (!metadata.is_object()) metadata = json::object();
  metadata["redacted"] = Redactor::Describe(counts);
}

}  // namespace

void Redactor::Redact(ExecutionStep& step) const {
  RedactionCounts counts;
  Redact(step.action, counts);
  Redact(step.observation, counts);
  Redact(step.parameters, counts);
  Redact(step.metadata, counts);
  Note(step.metadata, counts);
}

void Redactor::Redact(EpisodeSpec& spec) const {
  RedactionCounts counts;
  RedactEpisode(spec.task, spec.context, spec.metadata, counts);
  Note(spec.metadata, counts);
}

void Redactor::Redact(EpisodeAmendment& a) const {
  RedactionCounts counts;
  if (a.task) Redact(*a.task, counts);
  if (a.domain) Redact(*a.domain, counts);
  for (auto& tag : a.tags) Redact(tag, counts);
  Redact(a.metadata, counts);
  Note(a.metadata, counts);
}

void Redactor::Redact(Outcome& outcome, RedactionCounts& counts) const {
  Redact(outcome.summary, counts);
  for (auto* list : {&outcome.artifacts, &outcome.completed, &outcome.failed}) {
    for (auto& item : *list) Redact(item, counts);
  }
}

void Redactor::Redact(Episode& e) const {
  RedactionCounts counts;
  RedactEpisode(e.task, e.context, e.metadata, counts);
  if (e.outcome) Redact(*e.outcome, counts);
  Note(e.metadata, counts);
  for (auto& step : e.steps) Redact(step);
}

void Redactor::RedactEpisode(std::string& task, Context& context, json& metadata,
                             RedactionCounts& counts) const {
  Redact(task, counts);
  for (auto* field : {&context.domain, &context.language, &context.framework}) {
    if (*field) Redact(**field, counts);
  }
  for (auto& tag : context.tags) Redact(tag, counts);
  Redact(metadata, counts);
}

std::string Redactor::Describe(const RedactionCounts& counts) {
  std::vector<std::string> parts;
  for (const auto& [name, n] : counts) parts.push_back(fmt::format("{}:{}", name, n));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace engram
