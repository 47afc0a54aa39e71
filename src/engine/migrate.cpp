// engram::migrate: a whole store copied to another, table counts checked.
#include "engram/migrate.h"

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <unordered_map>

#include "core/timestamp.h"
#include "learn/recall.h"
#include "store/store.h"
#include "store/url.h"

namespace engram {
namespace {

constexpr int kEpisodesPerTransaction = 512;
constexpr const char* kTables[] = {"episodes",         "steps",           "patterns",
                                   "episode_patterns", "pattern_domains", "episode_names"};

// The episode as import_episodes writes it, with what completing it stored kept as it is.
Result<ImportedEpisode> ToImported(StoredEpisode&& stored) {
  ImportedEpisode item;
  item.names = std::move(stored.names);
  Episode& e = stored.episode;
  for (ExecutionStep& step : e.steps) {
    PreparedStep p;
    p.parameters_json = step.parameters.is_null() ? "{}" : step.parameters.dump();
    p.metadata_json = step.metadata.is_object() ? step.metadata.dump() : "{}";
    p.step = std::move(step);
    item.steps.push_back(std::move(p));
  }
  if (e.status == EpisodeStatus::kCompleted) {
    if (!e.outcome || !e.ended_at) {
      return Status::Corruption(
          fmt::format("episode {} is completed but its row has no outcome or ended_at", e.id));
    }
    Completion c;
    c.outcome = *e.outcome;
    c.ended_at = *e.ended_at;
    c.reward = e.reward.dump();
    c.reflection = e.reflection.dump();
    c.step_count = stored.step_count.value_or(static_cast<int64_t>(item.steps.size()));
    if (stored.duration_ms) {
      c.duration_ms = *stored.duration_ms;
    } else {  // completed before the SQLite store kept it: what completing computes
      auto started = ParseTimestamp("started_at", e.started_at);
      auto ended = ParseTimestamp("ended_at", c.ended_at);
      if (started.ok() && ended.ok()) {
        c.duration_ms = std::max<int64_t>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(*ended - *started).count());
      }
    }
    c.reflection_text = ReflectionText(e.reflection);
    std::vector<ExecutionStep> steps;  // StepsText reads steps; those now sit in item.steps
    steps.reserve(item.steps.size());
    for (const PreparedStep& p : item.steps) steps.push_back(p.step);
    c.steps_text = StepsText(steps);
    item.completion = std::move(c);
  }
  e.steps.clear();
  item.episode = std::move(e);
  return item;
}

// Source keys to target keys in episode references; references to episodes not copied are
// dropped (the counts then tell).
void Remap(LearntRows& rows, const std::unordered_map<int64_t, int64_t>& keys) {
  for (PatternRow& p : rows.patterns) {
    std::vector<int64_t> mapped;
    for (int64_t key : p.evidence) {
      if (auto it = keys.find(key); it != keys.end()) mapped.push_back(it->second);
    }
    p.evidence = std::move(mapped);
  }
  std::vector<EpisodePatternsRow> listed;
  for (EpisodePatternsRow& r : rows.episode_patterns) {
    if (auto it = keys.find(r.episode_key); it != keys.end()) {
      r.episode_key = it->second;
      listed.push_back(std::move(r));
    }
  }
  rows.episode_patterns = std::move(listed);
}

std::string Differences(const RowCounts& a, const char* a_name, const RowCounts& b,
                        const char* b_name) {
  std::string out;
  for (const char* table : kTables) {
    const int64_t x = a.count(table) ? a.at(table) : 0;
    const int64_t y = b.count(table) ? b.at(table) : 0;
    if (x == y) continue;
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {} {}, {} {}", table, x, a_name, y, b_name);
  }
  return out;
}

// The URL with its password, if any, as ***: postgres://user:secret@host/db,
// postgres://host/db?password=secret, or libpq's password=secret.
std::string Redacted(std::string_view url) {
  std::string out(url);
  const auto scheme = out.find("://");
  const bool is_url = scheme != std::string::npos;
  if (is_url) {
    const auto at = out.find('@', scheme + 3);
    const auto colon = out.find(':', scheme + 3);
    const auto slash = out.find('/', scheme + 3);
    if (at != std::string::npos && colon < at && (slash == std::string::npos || at < slash)) {
      out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (auto pos = out.find("password"); pos != std::string::npos;
       pos = out.find("password", pos + 1)) {
    const char before = pos > 0 ? out[pos - 1] : ' ';
    if (!std::isspace(static_cast<unsigned char>(before)) && before != '?' && before != '&') {
      continue;
    }
    const auto eq = out.find_first_not_of(' ', pos + 8);
    if (eq == std::string::npos || out[eq] != '=') continue;
    auto begin = is_url ? eq + 1 : out.find_first_not_of(' ', eq + 1);
    if (begin == std::string::npos || begin >= out.size()) break;
    auto end = begin;
    if (is_url) {
      end = std::min(out.find('&', begin), out.size());
    } else if (out[begin] == '\'') {  // a quoted value, \' and \\ escaped inside
      for (end = begin + 1; end < out.size() && out[end] != '\''; ++end) {
        if (out[end] == '\\') ++end;
      }
      end = std::min(end + 1, out.size());
    } else {
      while (end < out.size() && !std::isspace(static_cast<unsigned char>(out[end]))) ++end;
    }
    out.replace(begin, end - begin, "***");
  }
  return out;
}

Status Where(std::string_view which, std::string_view url, const Status& s) {
  if (s.ok()) return s;
  return s.with_message(fmt::format("{} {}: {}", which, Redacted(url), s.message()));
}

}  // namespace

Result<MigrateReport> migrate(std::string_view from, std::string_view to,
                              const MigrateOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  for (const auto& [flag, url] : {std::pair{"from", from}, std::pair{"to", to}}) {
    if (url.empty()) return Status::InvalidArgument(fmt::format("--{} is empty", flag));
    auto where = ParseStoreUrl(url);
    if (where.ok() && where->kind == StoreUrl::Kind::kMemory) {
      return Status::InvalidArgument(fmt::format(
          "--{} {} is a database of this process alone; migrate copies between stored ones", flag,
          url));  // no password in it
    }
  }
  if (from == to) {
    return Status::InvalidArgument(
        fmt::format("--from and --to name the same store: {}", Redacted(from)));
  }
  if (auto where = ParseStoreUrl(from); where.ok() && where->kind == StoreUrl::Kind::kFile &&
                                        !std::filesystem::exists(where->location)) {
    return Status::NotFound(fmt::format("source {}: no such file {}", from, where->location));
  }
  auto source = OpenStore(from, options.from_store);
  if (!source.ok()) return Where("source", from, source.status());
  auto target = OpenStore(to, options.to_store);
  if (!target.ok()) return Where("target", to, target.status());

  auto before = (*source)->count_rows();
  if (!before.ok()) return Where("source", from, before.status());
  auto existing = (*target)->count_rows();
  if (!existing.ok()) return Where("target", to, existing.status());
  if ((*existing)["episodes"] > 0 || (*existing)["patterns"] > 0) {
    return Status::FailedPrecondition(fmt::format(
        "target {} already holds {} episodes and {} patterns; migrate copies into an empty store",
        Redacted(to), (*existing)["episodes"], (*existing)["patterns"]));
  }

  std::unordered_map<int64_t, int64_t> keys;  // source episode key -> target episode key
  keys.reserve(static_cast<size_t>((*before)["episodes"]));
  for (int64_t after = 0;;) {
    auto page = (*source)->scan_episodes(after, kEpisodesPerTransaction);
    if (!page.ok()) return Where("source", from, page.status());
    if (page->empty()) break;
    after = page->back().key;
    std::vector<int64_t> source_keys;
    std::vector<ImportedEpisode> items;
    for (StoredEpisode& stored : *page) {
      source_keys.push_back(stored.key);
      auto item = ToImported(std::move(stored));
      if (!item.ok()) return Where("source", from, item.status());
      items.push_back(std::move(*item));
    }
    size_t next = 0;
    auto written = (*target)->import_episodes(
        [&]() -> const ImportedEpisode* { return next < items.size() ? &items[next++] : nullptr; });
    if (!written.ok()) return Where("target", to, written.status());
    for (size_t i = 0; i < written->size(); ++i) {
      const Result<int64_t>& key = (*written)[i];
      if (!key.ok()) {
        return Where("target", to,
                     key.status().with_message(fmt::format("episode {}: {}", items[i].episode.id,
                                                           key.status().message())));
      }
      keys.emplace(source_keys[i], *key);
    }
    if (options.progress) {
      options.progress(static_cast<int64_t>(keys.size()), (*before)["episodes"]);
    }
  }

  Status written;
  Status read = (*source)->scan_learnt([&](LearntRows&& rows) -> Status {
    Remap(rows, keys);
    written = (*target)->write_learnt(rows);
    return written;
  });
  if (!written.ok()) return Where("target", to, written);
  if (!read.ok()) return Where("source", from, read);

  auto after = (*source)->count_rows();
  if (!after.ok()) return Where("source", from, after.status());
  auto copied = (*target)->count_rows();
  if (!copied.ok()) return Where("target", to, copied.status());
  if (*after != *before) {
    return Status::FailedPrecondition(fmt::format(
        "source {} changed during the copy ({}); stop every writer of it, empty the target and "
        "migrate again",
        Redacted(from), Differences(*before, "before", *after, "after")));
  }
  if (*copied != *after) {
    return Status::Corruption(
        fmt::format("the copy in {} does not match the source ({})", Redacted(to),
                    Differences(*after, "in the source", *copied, "in the target")));
  }
  MigrateReport report;
  report.from = Redacted(from);
  report.to = Redacted(to);
  for (const char* table : kTables) {
    report.tables.push_back({table, (*after)[table], (*copied)[table]});
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace engram
