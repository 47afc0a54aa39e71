// Recall's full-text index as both stores keep it: the fields of an episode's text, how much a
// match in each counts, the terms engram's tokenizer makes of them, and BM25F's pieces. SQLite
// keeps the index in FTS5 (sqlite/search.h), PostgreSQL in tables of its own (postgres/search.h);
// both score an episode the same.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engram/status.h"

namespace engram {

// The fields, in the index's order, and how much a match in each counts: the task most, what
// the user said and the calls next, what was observed and the reflection least.
inline constexpr size_t kSearchFieldCount = 5;
inline constexpr std::array<const char*, kSearchFieldCount> kSearchFields = {
    "task", "user", "calls", "observations", "reflection"};
inline constexpr std::array<double, kSearchFieldCount> kFieldWeights = {1.0, 0.3, 0.3, 0.1, 0.1};

// BM25F (Robertson and Zaragoza) with k1 = 1.2 and b = 0.75 in every field: per term, its
// frequency in each field weighed by the field's weight and divided by LengthNorm; the sum
// saturates once (Saturate), scaled by the term's Idf.
inline constexpr double kBm25K1 = 1.2;
inline constexpr double kBm25B = 0.75;

// A term held by `hits` of `episodes` (Lucene's idf, never negative).
inline double Idf(double episodes, double hits) {
  return std::log(1.0 + (episodes - hits + 0.5) / (hits + 0.5));
}
// A field of `length` tokens against the field's mean length.
inline double LengthNorm(double length, double mean) {
  return 1.0 - kBm25B + kBm25B * (mean > 0 ? length / mean : 0);
}
// A term's share of the score, from its weighed, normalised frequency.
inline double Saturate(double idf, double frequency) {
  return idf * frequency * (kBm25K1 + 1.0) / (frequency + kBm25K1);
}
// The most a term can add to any episode's score (MaxScore's bound).
inline double ScoreBound(double idf) {
  return idf * (kBm25K1 + 1.0);
}

using FieldCounts = std::array<int32_t, kSearchFieldCount>;

// An episode's text as the index holds it: each field's length in words, and each term with
// its frequency per field, sorted by term. Each word counts as two terms (the word as written
// and its stem behind sqlite::kStemMark), at one position: a field's length counts it once.
struct IndexedText {
  FieldCounts lengths{};
  std::vector<std::pair<std::string, FieldCounts>> terms;
};
Result<IndexedText> IndexText(const std::array<std::string_view, kSearchFieldCount>& fields);

// The query terms of recall's words (learn/recall.h QueryWords), as the index holds them: each
// word as written and its stem, every distinct term once, in order.
Result<std::vector<std::string>> QueryTerms(const std::vector<std::string>& words);

// An episode as ranked: minus its score (more negative is better, as FTS5's bm25()) and its key.
using ScoredEpisode = std::pair<double, int64_t>;

// The best `limit` episodes offered, ties to the newer (the higher key), and θ: the score an
// episode must now beat to enter.
class TopEpisodes {
 public:
  explicit TopEpisodes(int limit) : limit_(static_cast<size_t>(limit)) {}
  void offer(const ScoredEpisode& e);
  // 0 until `limit` episodes are held.
  double theta() const { return theta_; }
  // Best first.
  std::vector<ScoredEpisode> ranked();

 private:
  struct Worse {  // the heap's top is the worst held
    bool operator()(const ScoredEpisode& a, const ScoredEpisode& b) const {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    }
  };
  size_t limit_;
  double theta_ = 0;
  std::priority_queue<ScoredEpisode, std::vector<ScoredEpisode>, Worse> best_;
};

// Each field's mean length in words, over the indexed episodes.
using FieldMeans = std::array<double, kSearchFieldCount>;

// What bounds a query term's share of any episode's score.
struct TermBound {
  int64_t hits = 0;  // the episodes holding it
  // The highest weighed, normalised frequency (BM25F's f, before saturation) it has in the
  // episodes indexed up to `through`, measured with the fields' mean lengths `means`; below 0
  // when not measured (then only idf × (k1 + 1) bounds it).
  double max_frequency = -1;
  FieldMeans means{};
  int64_t through = 0;
};
// A term's bound among `episodes` episodes of mean lengths `now`, for the episodes indexed up
// to `t.through`: its frequency can have grown since it was measured only as much as a mean
// length has (a field's length is divided by its mean), so the measured maximum is scaled by
// the largest such growth.
double Bound(const TermBound& t, int64_t episodes, const FieldMeans& now);

// What a pass may prune by: per term, its bound for the episodes indexed up to `through` (when
// its bound was measured, Bound), and idf × (k1 + 1) for the newer ones.
struct PassBounds {
  std::vector<double> measured, loose;
  int64_t through = 0;
  const std::vector<double>& of(int64_t key) const { return key <= through ? measured : loose; }
};

// Ranks the whole index exactly, with MaxScore's pruning: once `limit` episodes score above θ,
// an episode holding only terms whose bounds sum to θ or less cannot enter. `pass` must offer
// to `top` every episode with a key above `after` that holds a term of `now` and none of
// `before` (term indexes), scored with every term; it may leave unscored an episode whose
// terms' bounds (`bounds.of(key)`) sum to θ or less. The first pass searches the rarest terms,
// those that hold about `limit` episodes between them, so that θ is known early; each next one
// the terms not searched yet whose bounds, beyond the lowest ones that sum to θ, could lift an
// episode past θ, until there are none. A measured bound holds for the episodes indexed when
// it was measured: a last pass scores the newer episodes that hold only terms not searched.
// `terms_searched`, when given, is how many terms the passes before that searched.
using RankingPass =
    std::function<Status(const std::vector<size_t>& before, const std::vector<size_t>& now,
                         int64_t after, const PassBounds& bounds, TopEpisodes& top)>;
Result<std::vector<ScoredEpisode>> RankByMaxScore(const std::vector<TermBound>& terms,
                                                  int64_t episodes, const FieldMeans& means,
                                                  int limit, const RankingPass& pass,
                                                  size_t* terms_searched = nullptr);

// Figures over the index (the episodes holding a term, a term's bound, the episodes, the
// fields' total lengths) that cost a read of a posting list or of the whole index, kept until
// the index has grown by 1% (at least 64 episodes): `newest` is the index's highest episode key
// when asked. Shared by the connections of one store.
template <typename T>
class IndexCache {
 public:
  std::optional<T> find(const std::string& key, int64_t newest) {
    const int64_t slack = std::max<int64_t>(64, newest / 100);
    std::lock_guard lock(mu_);
    auto it = kept_.find(key);
    if (it == kept_.end() || newest - it->second.second > slack) return std::nullopt;
    return it->second.first;
  }
  void put(const std::string& key, T value, int64_t newest) {
    std::lock_guard lock(mu_);
    if (kept_.size() >= 100'000) kept_.clear();  // bounded, whatever the vocabulary
    kept_[key] = {std::move(value), newest};
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<T, int64_t>> kept_;  // with `newest` when kept
};
using IndexCounts = IndexCache<int64_t>;

// Terms held by more than this share of the episodes are not measured (TermBound): their idf,
// and so their bound, is low anyway, and their posting lists are the longest (measuring reads
// the whole list, once per IndexCache's 1% of growth).
inline constexpr int64_t kMeasuredShare = 4;  // 1 / 4

}  // namespace engram
