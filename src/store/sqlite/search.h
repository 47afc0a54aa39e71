// Recall's full-text search on SQLite FTS5: the words of a task turned into a MATCH expression
// over every field, ranked with BM25F.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "store/search_index.h"
#include "store/sqlite/db.h"

namespace engram::sqlite {

struct SearchPlan {
  std::string match;  // the FTS5 expression of every term ORed; empty when no word is indexed
  std::vector<std::string> terms;  // quoted, in the order of `match`
  std::vector<int64_t> hits;       // per term, the number of indexed episodes holding it
  std::vector<TermBound> bounds;   // per term, what bounds its share of a score
  int64_t episodes = 0;            // indexed episodes
  FieldMeans means{};              // the fields' mean lengths now
};

// How many indexed episodes hold a term (BM25 weighs a term by it) and, for a term held by at
// most 1 / kMeasuredShare of them, its highest frequency (TermBound); how many episodes there
// are. Kept as IndexCache keeps figures.
class TermHits {
 public:
  // `newest` is the highest rowid of the index now.
  Result<TermBound> in_index(Connection& conn, const std::string& quoted_term, int64_t newest,
                             int64_t episodes);
  Result<int64_t> episodes(Connection& conn, int64_t newest);

 private:
  IndexCache<TermBound> bounds_;
  IndexCounts episodes_;
};

// Registers the index's tokenizer (sqlite/tokenizer.h) and engram_bm25f(episode_fts, w_task,
// w_user, w_calls, w_observations, w_reflection, 'hits,hits,…', skip, episodes) on the
// connection, the hits given for the phrases after the first `skip` of the match (those are not
// scored; see RankMatches) and counted among `episodes` (by default the index's own count):
// BM25F as search_index.h defines it, the fields in the index's columns (sqlite/schema.cpp), a
// phrase's idf from the number of episodes given as holding it. Returns minus the score: more
// negative is better, as FTS5's bm25(). And engram_measure(episode_fts, pointer), which adds to
// the Measure it is given (sqlite/search.cpp) the fields' mean lengths and the row's BM25F
// frequency of the match's first phrase.
Status RegisterRanking(Connection& conn);

// `words` are the task's distinct words (learn/recall.h QueryWords). Each becomes two terms as
// the index tokenises text: the word as written and its stem (a match of the written form
// counts for both, another form of the word for the stem); every distinct term is ORed.
Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words,
                              TermHits& term_hits);

// The `limit` best episodes for the plan, by BM25F, best first, ties to the newer: exact, with
// MaxScore's pruning (search_index.h RankByMaxScore). A pass is the match "(terms searched now)
// NOT (terms searched before) AND (every term)": the rarest terms' short posting lists select
// the rows, and every term scores them; a row whose terms' bounds sum to θ or less is left
// unscored.
Result<std::vector<ScoredEpisode>> RankMatches(Connection& conn, const SearchPlan& plan, int limit,
                                               size_t* terms_searched = nullptr);

}  // namespace engram::sqlite
