// Recall's full-text search on PostgreSQL: the index of search_index.h in tables of its own
// (postgres/schema.cpp), terms made by engram's tokenizer, ranked with the same BM25F as on SQLite.
//   search_docs      an indexed episode: each field's length, and its terms (to unindex it)
//   search_postings  a term of an episode, with its frequency in each field
//   search_pending   completed episodes a migration left to index (IndexPending)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres/db.h"
#include "store/search_index.h"

namespace engram::pg {

// A completed episode's text, by field (search_index.h kSearchFields).
using SearchFields = std::array<std::string_view, kSearchFieldCount>;

// Collects the index's rows for episodes and writes them with COPY.
class SearchRows {
 public:
  Status add(int64_t key, const SearchFields& fields);
  bool empty() const { return docs_.empty(); }
  // Sends the rows collected (in the caller's transaction) and forgets them.
  Status copy(Connection& conn);

 private:
  std::string docs_, postings_;  // COPY text
};

// The statements that remove episodes (their keys an array, $1::bigint[]) from the index.
const std::vector<std::string>& UnindexSql();

// Indexes the completed episodes that a migration left in search_pending, a transaction per
// batch; nodes starting together share the work.
Status IndexPending(Connection& conn);

// The figures over the index that ranking needs, kept as IndexCache keeps them: the episodes
// and the fields' total lengths, and each term's TermBound.
struct SearchFigures {
  IndexCounts totals;
  IndexCache<TermBound> terms;
};

// The `limit` best episodes for recall's `words`, by BM25F, best first as (minus the score,
// episode key), ties to the newer: the same ranking as sqlite::RankMatches, with the same
// MaxScore passes (search_index.h RankByMaxScore).
Result<std::vector<ScoredEpisode>> RankEpisodes(Connection& conn,
                                                const std::vector<std::string>& words, int limit,
                                                SearchFigures& figures);

}  // namespace engram::pg
