// Recall's full-text index as both stores keep it: the fields of an episode's text, how much a
// match in each counts, the terms engram's tokenizer makes of them, and BM25F's pieces. SQLite
// keeps the index in FTS5 (sqlite_search.h), PostgreSQL in tables of its own (pg_search.h);
// both score an episode the same.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
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

// Ranks the whole index exactly, with MaxScore's pruning: a term can add at most ScoreBound to
// an episode's score, so once `limit` episodes score above θ, an episode holding only terms
// whose bounds sum to θ or less cannot enter. `hits` holds, per query term, the episodes
// holding it, among `episodes`. The rarest terms (those with the highest bounds) go first:
// `pass(before, now, top)` must offer to `top` every episode that holds a term of `now` and
// none of `before` (term indexes), scored with every term. The first pass searches the rarest
// terms that hold about `limit` episodes between them; each next one the terms whose bounds
// could still lift an episode past θ, until no more can. `terms_searched`, when given, is how
// many terms the passes searched.
using RankingPass = std::function<Status(const std::vector<size_t>& before,
                                         const std::vector<size_t>& now, TopEpisodes& top)>;
Result<std::vector<ScoredEpisode>> RankByMaxScore(const std::vector<int64_t>& hits,
                                                  int64_t episodes, int limit,
                                                  const RankingPass& pass,
                                                  size_t* terms_searched = nullptr);

// Counts over the index (the episodes holding a term, the episodes, the fields' total lengths)
// that cost a read of a posting list or of the whole index, kept until the index has grown by
// 1% (at least 64 episodes): `newest` is the index's highest episode key when asked. Shared by
// the connections of one store.
class IndexCounts {
 public:
  std::optional<int64_t> find(const std::string& key, int64_t newest);
  void put(const std::string& key, int64_t count, int64_t newest);

 private:
  struct Counted {
    int64_t count = 0;
    int64_t newest = 0;  // the index's highest key when counted
  };
  std::mutex mu_;
  std::unordered_map<std::string, Counted> counts_;
};

}  // namespace engram
