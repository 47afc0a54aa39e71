// Memory::suggest: the episode so far, the similar past episodes recall's search finds, their
// steps and the learnt patterns about the last call, weighed by learn/suggest.h.
#include <fmt/format.h>

#include <algorithm>

#include "engine/memory_impl.h"
#include "learn/error_signature.h"
#include "learn/patterns.h"
#include "learn/recall.h"
#include "learn/suggest.h"

namespace engram {
namespace {

StepBrief Brief(const ExecutionStep& s) {
  return StepBrief{s.tool, s.action, s.success};
}

}  // namespace

Result<Suggestions> MemoryImpl::suggest(std::string_view episode_id, int64_t k) {
  if (k < 1 || k > kMaxSuggestions) {
    return Status::InvalidArgument(fmt::format("k must be 1 to {}, got {}", kMaxSuggestions, k));
  }
  auto episode = get_episode(episode_id);
  if (!episode.ok()) return episode.status();

  RunSoFar run;
  for (const auto& s : episode->steps) run.steps.push_back(Brief(s));
  const ExecutionStep* last_call = nullptr;
  for (const auto& s : episode->steps) {
    if (!IsConversationTurn(s.tool)) last_call = &s;
  }
  if (last_call && !last_call->success) {
    run.last_error_signature = ErrorSignature(last_call->observation);
  }

  // The similar episodes, as recall ranks them for this task and context.
  RecallQuery query;
  query.task = episode->task;
  query.context = episode->context;
  auto hits = store_->search_episodes(QueryWords(query.task), kScoredCandidates);
  if (!hits.ok()) return hits.status();
  const std::vector<ScoredHit> scored = ScoreHits(*hits, query, options_.clock->now());
  std::vector<const ScoredHit*> chosen;
  std::vector<int64_t> keys;
  for (const auto& s : scored) {
    if (chosen.size() == kSuggestSimilarEpisodes) break;
    if (s.hit->episode.id == episode->id) continue;
    chosen.push_back(&s);
    keys.push_back(s.hit->key);
  }
  auto steps = store_->step_briefs(keys);
  if (!steps.ok()) return steps.status();
  std::vector<SimilarRun> similar;
  for (const ScoredHit* s : chosen) {
    SimilarRun r;
    r.similarity = chosen.front()->score > 0 ? s->score / chosen.front()->score : 1;
    r.outcome = OutcomeValue(s->hit->episode);
    r.task = s->hit->episode.task;
    if (auto it = steps->find(s->hit->key); it != steps->end()) r.steps = std::move(it->second);
    similar.push_back(std::move(r));
  }

  // The learnt patterns about the last call: its decision point, and when it failed, the error
  // recoveries the similar episodes showed.
  std::vector<Pattern> patterns;
  if (last_call) {
    auto decision = store_->get_pattern(DecisionPointId(last_call->tool, last_call->success));
    if (decision.ok()) {
      patterns.push_back(std::move(*decision));
    } else if (!decision.status().IsNotFound()) {
      return decision.status();
    }
    if (!last_call->success && !keys.empty()) {
      auto shown = store_->patterns_of_episodes(keys);
      if (!shown.ok()) return shown.status();
      for (auto& h : *shown) {
        if (h.pattern.type == PatternType::kErrorRecovery) patterns.push_back(std::move(h.pattern));
      }
    }
  }
  Suggestions out;
  out.suggestions = SuggestNext(run, similar, patterns, static_cast<size_t>(k));
  return out;
}

}  // namespace engram
