#include "store/sqlite_search.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <queue>
#include <set>

#include "store/sqlite_tokenizer.h"

namespace engram::sqlite {
namespace {

// θ while RankMatches reads rows: engram_bm25f leaves a row that cannot score above it at 0.
struct Threshold {
  double theta = 0;
};
constexpr const char* kThresholdType = "engram_threshold";

// The terms of the words as episode_fts indexes them: each written form and each stem, once.
Result<std::vector<std::string>> Terms(sqlite3* db, const std::vector<std::string>& words) {
  std::vector<std::string> terms;
  std::set<std::string> seen;
  for (const auto& w : words) {
    auto tokens = Tokenize(db, w);
    if (!tokens.ok()) return tokens.status();
    for (auto* list : {&tokens->words, &tokens->stems}) {
      for (auto& t : *list) {
        if (seen.insert(t).second) terms.push_back(std::move(t));
      }
    }
  }
  return terms;
}

std::string Quote(const std::string& term) {
  std::string out = "\"";
  for (char c : term) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// BM25F over the fields of episode_fts (see RegisterRanking): the query's idf and each
// field's mean length once per query, then per row the weighted, length-normalised frequency
// of each phrase summed over the fields and saturated once.
void Bm25f(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int argc,
           sqlite3_value** argv) {
  constexpr double k1 = 1.2, b = 0.75;
  constexpr int kFields = static_cast<int>(kSearchFields.size());
  struct Query {
    std::vector<double> idf;
    std::array<double, kSearchFields.size()> mean_length{};
    std::array<double, kSearchFields.size()> weight{};
    int skip = 0;  // leading phrases that only select rows
  };
  const int phrases = api->xPhraseCount(fts);
  auto* q = static_cast<Query*>(api->xGetAuxdata(fts, 0));
  if (!q) {
    if (argc < kFields + 1 || argc > kFields + 4 || api->xColumnCount(fts) != kFields) {
      sqlite3_result_error(ctx, "engram_bm25f: takes a weight per field and the phrase counts", -1);
      return;
    }
    auto owned = std::make_unique<Query>();
    sqlite3_int64 rows = 0;
    if (api->xRowCount(fts, &rows) != SQLITE_OK) {
      sqlite3_result_error(ctx, "engram_bm25f: cannot read the index's totals", -1);
      return;
    }
    for (int c = 0; c < kFields; ++c) {
      sqlite3_int64 tokens = 0;
      if (api->xColumnTotalSize(fts, c, &tokens) != SQLITE_OK) {
        sqlite3_result_error(ctx, "engram_bm25f: cannot read the index's totals", -1);
        return;
      }
      owned->mean_length[static_cast<size_t>(c)] =
          rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 0;
      owned->weight[static_cast<size_t>(c)] = sqlite3_value_double(argv[c]);
    }
    const char* list = reinterpret_cast<const char*>(sqlite3_value_text(argv[kFields]));
    owned->skip = argc > kFields + 1 ? sqlite3_value_int(argv[kFields + 1]) : 0;
    // The number of episodes the phrase counts were counted among, when given with them.
    const double episodes =
        argc > kFields + 2 ? sqlite3_value_double(argv[kFields + 2]) : static_cast<double>(rows);

    for (int i = 0; i < owned->skip; ++i) owned->idf.push_back(0);  // not scored
    for (int i = owned->skip; i < phrases; ++i) {
      char* end = nullptr;
      const double hits = list && *list ? std::strtod(list, &end) : 0;
      list = end && *end == ',' ? end + 1 : end;
      owned->idf.push_back(std::log(1.0 + (episodes - hits + 0.5) / (hits + 0.5)));
    }
    q = owned.release();
    if (api->xSetAuxdata(fts, q, [](void* p) { delete static_cast<Query*>(p); }) != SQLITE_OK) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  // A row whose terms' bounds (idf × (k1 + 1) each, RankMatches) sum to θ or less cannot score
  // above it: it is left at 0 (no match) without reading its lengths or positions.
  const auto* threshold =
      argc > kFields + 3
          ? static_cast<const Threshold*>(sqlite3_value_pointer(argv[kFields + 3], kThresholdType))
          : nullptr;
  if (threshold && threshold->theta > 0) {
    double bound = 0;
    for (int i = q->skip; i < phrases; ++i) {
      Fts5PhraseIter iter;
      int column = -1;
      if (api->xPhraseFirstColumn(fts, i, &iter, &column) == SQLITE_OK && column >= 0) {
        bound += q->idf[static_cast<size_t>(i)] * (k1 + 1.0);
      }
    }
    if (bound <= threshold->theta) {
      sqlite3_result_double(ctx, 0);
      return;
    }
  }
  // A field's length against its mean: the divisor of its frequencies.
  std::array<double, kSearchFields.size()> norm{};
  for (int c = 0; c < kFields; ++c) {
    int length = 0;
    api->xColumnSize(fts, c, &length);
    const double mean = q->mean_length[static_cast<size_t>(c)];
    norm[static_cast<size_t>(c)] = 1.0 - b + b * (mean > 0 ? length / mean : 0);
  }
  // Each scored phrase's positions in this row (the leading `skip` phrases only select rows,
  // and their positions are never decoded).
  double score = 0;
  for (int i = q->skip; i < phrases; ++i) {
    double f = 0;
    Fts5PhraseIter iter;
    int column = 0, offset = 0;
    if (api->xPhraseFirst(fts, i, &iter, &column, &offset) != SQLITE_OK) {
      sqlite3_result_error(ctx, "engram_bm25f: cannot read the row's phrases", -1);
      return;
    }
    for (; column >= 0; api->xPhraseNext(fts, &iter, &column, &offset)) {
      if (column >= kFields) continue;
      const auto c = static_cast<size_t>(column);
      f += q->weight[c] / norm[c];
    }
    score += q->idf[static_cast<size_t>(i)] * (f * (k1 + 1.0)) / (f + k1);
  }
  sqlite3_result_double(ctx, -score);
}

}  // namespace

Status RegisterRanking(Connection& conn) {
  if (Status s = RegisterTokenizer(conn.raw()); !s.ok()) return s;
  fts5_api* api = Fts5Api(conn.raw());
  if (!api) return Status::IOError("SQLite was built without FTS5");
  if (api->xCreateFunction(api, "engram_bm25f", nullptr, Bm25f, nullptr) != SQLITE_OK) {
    return Status::IOError("cannot register the engram_bm25f ranking function");
  }
  return Status::Ok();
}

Result<int64_t> TermHits::in_index(Connection& conn, const std::string& quoted_term,
                                   int64_t newest) {
  const int64_t slack = std::max<int64_t>(64, newest / 100);
  {
    std::lock_guard lock(mu_);
    auto it = counts_.find(quoted_term);
    if (it != counts_.end() && newest - it->second.newest <= slack) return it->second.hits;
  }
  auto st = conn.cached("SELECT count(*) FROM episode_fts WHERE episode_fts MATCH ?");
  if (!st.ok()) return st.status();
  auto hits = (*st)->bind(1, quoted_term).scalar();
  if (!hits.ok()) return hits.status();
  std::lock_guard lock(mu_);
  if (counts_.size() >= 100'000) counts_.clear();  // bounded, whatever the vocabulary
  counts_[quoted_term] = Counted{*hits, newest};
  return *hits;
}

Result<int64_t> TermHits::episodes(Connection& conn, int64_t newest) {
  const int64_t slack = std::max<int64_t>(64, newest / 100);
  {
    std::lock_guard lock(mu_);
    if (counted_episodes_ && newest - counted_episodes_->newest <= slack) {
      return counted_episodes_->hits;
    }
  }
  auto st = conn.cached("SELECT count(*) FROM episode_fts_docsize");
  if (!st.ok()) return st.status();
  auto n = (*st)->scalar();
  if (!n.ok()) return n.status();
  std::lock_guard lock(mu_);
  counted_episodes_ = Counted{*n, newest};
  return *n;
}

Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words,
                              TermHits& term_hits) {
  SearchPlan plan;
  auto terms = Terms(conn.raw(), words);
  if (!terms.ok()) return terms.status();
  if (terms->empty()) return plan;
  auto newest = conn.cached("SELECT coalesce(max(id), 0) FROM episode_fts_docsize");
  if (!newest.ok()) return newest.status();
  auto top = (*newest)->scalar();
  if (!top.ok()) return top.status();
  auto episodes = term_hits.episodes(conn, *top);
  if (!episodes.ok()) return episodes.status();
  plan.episodes = *episodes;
  for (const auto& term : *terms) {
    plan.terms.push_back(Quote(term));
    auto n = term_hits.in_index(conn, plan.terms.back(), *top);
    if (!n.ok()) return n.status();
    plan.hits.push_back(*n);
  }
  plan.match = fmt::format("{}", fmt::join(plan.terms, " OR "));
  return plan;
}

Result<std::vector<std::pair<double, int64_t>>> RankMatches(Connection& conn,
                                                            const SearchPlan& plan, int limit,
                                                            size_t* terms_searched) {
  constexpr double k1 = 1.2;
  const size_t n = plan.terms.size();
  // Each term's bound, and the terms rarest (highest bound) first.
  std::vector<double> bound(n);
  std::vector<size_t> rarest(n);
  for (size_t i = 0; i < n; ++i) {
    const double held = static_cast<double>(plan.hits[i]);
    const double all = static_cast<double>(plan.episodes);
    bound[i] = std::log(1.0 + (all - held + 0.5) / (held + 0.5)) * (k1 + 1.0);
    rarest[i] = i;
  }
  std::stable_sort(rarest.begin(), rarest.end(),
                   [&](size_t a, size_t b) { return bound[a] > bound[b]; });
  const std::string hits = fmt::format("{}", fmt::join(plan.hits, ","));
  // Every matching row in rowid order; the best `limit` are kept in a heap whose worst (the
  // largest score, the older on a tie) is on top, and θ, its score, is read by engram_bm25f at
  // each row.
  static const std::string kScored = fmt::format(
      "SELECT rowid, engram_bm25f(episode_fts, {}, ?2, ?3, ?4, ?5) FROM episode_fts "
      "WHERE episode_fts MATCH ?1",
      fmt::join(kFieldWeights, ", "));
  auto scored = conn.cached(kScored);
  if (!scored.ok()) return scored.status();
  Statement& q = **scored;
  using Scored = std::pair<double, int64_t>;  // (minus the score, rowid)
  auto better = [](const Scored& a, const Scored& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  };
  std::priority_queue<Scored, std::vector<Scored>, decltype(better)> best(better);
  Threshold threshold;

  // First the rarest terms that hold about `limit` episodes between them.
  size_t searched = 1;
  for (int64_t held = plan.hits[rarest[0]]; searched < n && held < limit; ++searched) {
    held += plan.hits[rarest[searched]];
  }
  // Each pass scores the episodes that hold a term searched now and none searched before.
  size_t before = 0;  // terms searched by the earlier passes
  while (true) {
    auto ored = [&](size_t from, size_t to) {
      std::vector<std::string> terms;
      for (size_t i = from; i < to; ++i) terms.push_back(plan.terms[rarest[i]]);
      return fmt::format("({})", fmt::join(terms, " OR "));
    };
    std::string match = plan.match;
    int skip = 0;
    if (before > 0 || searched < n) {
      match = fmt::format("({}{}) AND ({})", ored(before, searched),
                          before > 0 ? " NOT " + ored(0, before) : "", plan.match);
      skip = static_cast<int>(searched);
    }
    q.bind(1, match).bind(2, hits).bind(3, int64_t{skip}).bind(4, plan.episodes);
    q.bind_pointer(5, &threshold, kThresholdType);
    Status s;
    while (q.step(s)) {
      const Scored row{q.column_double(1), q.column_int(0)};
      if (row.first >= 0) continue;  // no term of it scored, or it cannot pass θ
      if (best.size() < static_cast<size_t>(limit)) {
        best.push(row);
      } else if (better(row, best.top())) {
        best.pop();
        best.push(row);
      } else {
        continue;
      }
      if (best.size() == static_cast<size_t>(limit)) threshold.theta = -best.top().first;
    }
    q.reset();
    if (!s.ok()) return s;
    if (searched == n) break;
    // The terms that could still lift an episode past θ.
    double below = 0;
    size_t needed = n;
    while (needed > 0 && below + bound[rarest[needed - 1]] <= threshold.theta) {
      below += bound[rarest[needed - 1]];
      --needed;
    }
    if (needed <= searched) break;
    before = searched;
    searched = needed;
  }
  std::vector<Scored> ranked;
  for (; !best.empty(); best.pop()) ranked.push_back(best.top());
  std::reverse(ranked.begin(), ranked.end());
  if (terms_searched) *terms_searched = searched;
  return ranked;
}

}  // namespace engram::sqlite
