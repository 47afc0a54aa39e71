// Recall's full-text search on SQLite FTS5: the words of a task turned into a MATCH expression
// over every field, ranked with BM25F.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/sqlite_db.h"

namespace engram::sqlite {

// The fields of the search index, in its column order (sqlite_schema.cpp), and how much a
// match in each counts: the task most, what the user said and the calls next, what was
// observed and the reflection least (BM25F, learn/recall.h).
inline constexpr std::array<const char*, 5> kSearchFields = {"task", "user", "calls",
                                                             "observations", "reflection"};
inline constexpr std::array<double, 5> kFieldWeights = {1.0, 0.3, 0.3, 0.1, 0.1};

struct SearchPlan {
  std::string match;  // the FTS5 expression of every term ORed; empty when no word is indexed
  std::vector<std::string> terms;  // quoted, in the order of `match`
  std::vector<int64_t> hits;       // per term, the number of indexed episodes holding it
  int64_t episodes = 0;            // indexed episodes
};

// How many indexed episodes hold a term (BM25 weighs a term by it), and how many there are.
// Counting reads the term's posting list (or the whole index), so each count stands until the
// index has grown by 1% (at least 64 episodes). Shared by the connections of one store.
class TermHits {
 public:
  // `newest` is the highest rowid of the index now.
  Result<int64_t> in_index(Connection& conn, const std::string& quoted_term, int64_t newest);
  Result<int64_t> episodes(Connection& conn, int64_t newest);

 private:
  struct Counted {
    int64_t hits = 0;
    int64_t newest = 0;  // the index's highest rowid when counted
  };
  std::mutex mu_;
  std::unordered_map<std::string, Counted> counts_;
  std::optional<Counted> counted_episodes_;
};

// Registers the index's tokenizer (sqlite_tokenizer.h) and engram_bm25f(episode_fts, w_task,
// w_user, w_calls, w_observations, w_reflection, 'hits,hits,…', skip, episodes) on the
// connection, the hits given for the phrases after the first `skip` of the match (those are not
// scored; see RankMatches) and counted among `episodes` (by default the index's own count): BM25F
// (Robertson and Zaragoza) with k1 = 1.2 and b = 0.75 in every field. Per phrase, its frequency in
// each field is weighed by the field's weight and normalised by the field's length against that
// field's mean length; the sum saturates once, with the phrase's idf log(1 + (N - n + 0.5) / (n +
// 0.5)), n given as the number of episodes holding it. Returns minus the score: more negative is
// better, as FTS5's bm25().
Status RegisterRanking(Connection& conn);

// `words` are the task's distinct words (learn/recall.h QueryWords). Each becomes two terms as
// the index tokenises text: the word as written and its stem (a match of the written form
// counts for both, another form of the word for the stem); every distinct term is ORed.
Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words,
                              TermHits& term_hits);

// The `limit` best episodes for the plan, by BM25F, best first as (minus the score, rowid); ties
// go to the newer. Exact, with MaxScore's pruning: a term can add at most idf × (k1 + 1) to an
// episode's score, so once `limit` episodes score above θ, an episode holding only terms whose
// bounds sum to θ or less cannot enter. The rarest terms are searched first (the match
// "(rare ORed) AND (all ORed)" reads their short posting lists and scores every term), θ is
// the limit-th score found, and the search widens to the terms whose bounds could still matter
// until no more can. `terms_searched`, when given, is how many terms the last pass searched.
Result<std::vector<std::pair<double, int64_t>>> RankMatches(Connection& conn,
                                                            const SearchPlan& plan, int limit,
                                                            size_t* terms_searched = nullptr);

}  // namespace engram::sqlite
