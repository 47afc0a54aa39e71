// Memory::recall: full-text search over completed episodes, scored with context, outcome and
// recency (src/learn/recall.h), the patterns those episodes show, and the playbook.
#include <fmt/format.h>

#include <cmath>

#include "core/validation.h"
#include "engine/memory_impl.h"
#include "learn/recall.h"

namespace engram {
namespace {

Status ValidateQuery(const RecallQuery& q, const Limits& limits) {
  EpisodeSpec spec;  // the task and context obey the limits of an episode's
  spec.task = q.task;
  spec.context = q.context;
  if (Status s = ValidateEpisodeSpec(spec, limits); !s.ok()) return s;
  if (q.k < 1 || q.k > kMaxRecallK) {
    return Status::InvalidArgument(fmt::format("k must be 1 to {}, got {}", kMaxRecallK, q.k));
  }
  if (q.token_budget < 0 || q.token_budget > kMaxRecallTokenBudget) {
    return Status::InvalidArgument(
        fmt::format("token_budget must be 0 to {}, got {}", kMaxRecallTokenBudget, q.token_budget));
  }
  for (const auto& [name, w] :
       {std::pair{"weights.text", q.weights.text}, std::pair{"weights.context", q.weights.context},
        std::pair{"weights.outcome", q.weights.outcome},
        std::pair{"weights.recency", q.weights.recency}}) {
    if (!std::isfinite(w) || w < 0) {
      return Status::InvalidArgument(fmt::format("{} must be a number >= 0, got {}", name, w));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Recall> MemoryImpl::recall(const RecallQuery& query) {
  if (Status s = ValidateQuery(query, options_.limits); !s.ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (Status s = CheckOpen(); !s.ok()) return s;
  }
  // A task of common words only finds no text: the most recent episodes are scored instead.
  auto hits = store_->search_episodes(QueryWords(query.task),
                                      std::max<int>(kScoredCandidates, static_cast<int>(query.k)));
  if (!hits.ok()) return hits.status();
  const std::vector<ScoredHit> scored = ScoreHits(*hits, query, options_.clock->now());

  Recall out;
  const size_t k = std::min(scored.size(), static_cast<size_t>(query.k));
  for (size_t i = 0; i < k; ++i) out.episodes.push_back(ToRecalled(scored[i]));

  const std::vector<ScoredHit> sources(
      scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(std::min(
                                           scored.size(), std::max(k, kPatternSourceEpisodes))));
  std::vector<int64_t> keys;
  for (const auto& s : sources) keys.push_back(s.hit->key);
  auto pattern_hits = store_->patterns_of_episodes(keys);
  if (!pattern_hits.ok()) return pattern_hits.status();
  out.patterns = RankPatterns(*pattern_hits, sources);
  for (auto& r : out.patterns) {
    auto full = store_->get_pattern(r.pattern.id);  // with its evidence
    if (!full.ok()) return full.status();
    r.pattern = std::move(*full);
  }
  out.playbook = WritePlaybook(out.episodes, out.patterns, query.token_budget);
  out.playbook_tokens = EstimateTokens(out.playbook);
  return out;
}

}  // namespace engram
