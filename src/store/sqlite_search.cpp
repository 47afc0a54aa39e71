#include "store/sqlite_search.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>

#include "store/sqlite_tokenizer.h"

namespace engram::sqlite {
namespace {

// The FTS5 extension API of this connection, from "SELECT fts5(?1)" as the FTS5 docs describe.
fts5_api* Fts5Api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  return api;
}

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
    if (argc < kFields + 1 || argc > kFields + 2 || api->xColumnCount(fts) != kFields) {
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
    for (int i = 0; i < owned->skip; ++i) owned->idf.push_back(0);  // not scored
    for (int i = owned->skip; i < phrases; ++i) {
      char* end = nullptr;
      const double hits = list && *list ? std::strtod(list, &end) : 0;
      list = end && *end == ',' ? end + 1 : end;
      const double n = static_cast<double>(rows);
      owned->idf.push_back(std::log(1.0 + (n - hits + 0.5) / (hits + 0.5)));
    }
    q = owned.release();
    if (api->xSetAuxdata(fts, q, [](void* p) { delete static_cast<Query*>(p); }) != SQLITE_OK) {
      sqlite3_result_error_nomem(ctx);
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
  std::vector<double> freq(static_cast<size_t>(phrases), 0.0);
  int instances = 0;
  if (api->xInstCount(fts, &instances) != SQLITE_OK) {
    sqlite3_result_error(ctx, "engram_bm25f: cannot read the row's phrases", -1);
    return;
  }
  for (int i = 0; i < instances; ++i) {
    int phrase = 0, column = 0, offset = 0;
    if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK) continue;
    if (column < 0 || column >= kFields || phrase < q->skip) continue;
    const auto c = static_cast<size_t>(column);
    freq[static_cast<size_t>(phrase)] += q->weight[c] / norm[c];
  }
  double score = 0;
  for (int i = 0; i < phrases; ++i) {
    const double f = freq[static_cast<size_t>(i)];
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
  auto count = conn.cached("SELECT count(*) FROM episode_fts_docsize");
  if (!count.ok()) return count.status();
  auto episodes = (*count)->scalar();
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
  static const std::string kRanked = fmt::format(
      "SELECT rowid, engram_bm25f(episode_fts, {}, ?3, ?4) AS score FROM episode_fts "
      "WHERE episode_fts MATCH ?1 ORDER BY score, rowid DESC LIMIT ?2",
      fmt::join(kFieldWeights, ", "));
  auto ranked_query = conn.cached(kRanked);
  if (!ranked_query.ok()) return ranked_query.status();
  Statement& q = **ranked_query;

  // First the rarest terms that hold about `limit` episodes between them.
  size_t searched = 1;
  for (int64_t held = plan.hits[rarest[0]]; searched < n && held < limit; ++searched) {
    held += plan.hits[rarest[searched]];
  }
  std::vector<std::pair<double, int64_t>> ranked;
  while (true) {
    std::string match = plan.match;
    int skip = 0;
    if (searched < n) {
      std::vector<std::string> rare;
      for (size_t i = 0; i < searched; ++i) rare.push_back(plan.terms[rarest[i]]);
      match = fmt::format("({}) AND ({})", fmt::join(rare, " OR "), plan.match);
      skip = static_cast<int>(searched);
    }
    q.bind(1, match).bind(2, int64_t{limit}).bind(3, hits).bind(4, int64_t{skip});
    ranked.clear();
    Status s;
    while (q.step(s)) ranked.emplace_back(q.column_double(1), q.column_int(0));
    q.reset();
    if (!s.ok()) return s;
    if (searched == n) break;
    // θ: the limit-th score; the terms that could still lift an episode past it.
    const double theta = ranked.size() == static_cast<size_t>(limit) ? -ranked.back().first : 0;
    double below = 0;
    size_t needed = n;
    while (needed > 0 && below + bound[rarest[needed - 1]] <= theta) {
      below += bound[rarest[needed - 1]];
      --needed;
    }
    if (needed <= searched) break;
    searched = needed;
  }
  if (terms_searched) *terms_searched = searched;
  return ranked;
}

}  // namespace engram::sqlite
