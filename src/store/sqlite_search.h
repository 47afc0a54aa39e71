// Recall's full-text search on SQLite FTS5: the words of a task turned into a MATCH expression
// that stays fast on a large store.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/sqlite_db.h"

namespace engram::sqlite {

// Past this many matching episodes, only the most recent this many are ranked.
inline constexpr int kMatchWindow = 1000;
// A term found in more than this share of the most recent kTermSample completed episodes is left
// out of the match: BM25 gives it little weight, and it would fill the window with episodes that
// share nothing else with the task.
inline constexpr double kCommonTermShare = 0.25;
inline constexpr int64_t kMinCommonTermEpisodes = 50;  // a small store has no common terms
inline constexpr int kTermSample = 1000;

struct SearchPlan {
  std::string match;  // the FTS5 expression; empty when no word is indexed
  // The number of indexed episodes holding each phrase of `match`, in order, comma-separated:
  // engram_bm25's last argument.
  std::string phrase_hits;
};

// How many indexed episodes hold a term, in the whole index (BM25 weighs a term by it) and in
// the sample of the newest kTermSample (what makes a term common). Counting reads the term's
// posting list, so each count stands until the index has grown: by 1% (at least 64 episodes)
// for the whole index, by 16 episodes for the sample. Shared by the connections of one store.
class TermHits {
 public:
  // `newest` is the highest rowid of the index now.
  Result<int64_t> in_index(Connection& conn, const std::string& quoted_term, int64_t newest);
  // Those with a rowid of `from` or more (the sample's first).
  Result<int64_t> in_sample(Connection& conn, const std::string& quoted_term, int64_t from,
                            int64_t newest);

 private:
  struct Counted {
    int64_t hits = 0;
    int64_t newest = 0;  // the index's highest rowid when counted
  };
  using Counts = std::unordered_map<std::string, Counted>;
  Result<int64_t> Get(Counts& counts, const std::string& key, int64_t newest, int64_t slack,
                      const std::function<Result<int64_t>()>& count);
  std::mutex mu_;
  Counts index_, sample_;
};

// Registers engram_bm25(episode_fts, w_task, w_reflection, w_steps, 'hits,hits,…') on the
// connection: FTS5's bm25() to the letter (k1 = 1.2, b = 0.75, the same column weights), except
// that the number of episodes holding each phrase is given rather than counted by a pass over
// every one of them on each query.
Status RegisterRanking(Connection& conn);

// `words` are the task's distinct words (learn/recall.h QueryWords). Each is tokenised as the
// index tokenises text (porter stemming), common terms are dropped (the least common is kept
// when all are), and the rest are ORed.
Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words,
                              TermHits& term_hits);

}  // namespace engram::sqlite
