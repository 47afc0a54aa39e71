#include "store/sqlite/search.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "store/sqlite/tokenizer.h"

namespace engram::sqlite {
namespace {

// θ and the terms' bounds while RankMatches reads rows: engram_bm25f leaves a row that cannot
// score above θ at 0.
struct Pruning {
  const TopEpisodes* top = nullptr;
  const PassBounds* bounds = nullptr;
};
constexpr const char* kPruningType = "engram_pruning";

// What engram_measure adds up over the rows of a match.
struct Measure {
  FieldMeans means{};
  bool measured_means = false;
  double max_frequency = 0;  // of the match's first phrase
};
constexpr const char* kMeasureType = "engram_measure";

constexpr int kFields = static_cast<int>(kSearchFieldCount);

// Each field's mean length in the index.
int MeanLengths(const Fts5ExtensionApi* api, Fts5Context* fts, FieldMeans& out) {
  sqlite3_int64 rows = 0;
  if (int rc = api->xRowCount(fts, &rows); rc != SQLITE_OK) return rc;
  for (int c = 0; c < kFields; ++c) {
    sqlite3_int64 tokens = 0;
    if (int rc = api->xColumnTotalSize(fts, c, &tokens); rc != SQLITE_OK) return rc;
    out[static_cast<size_t>(c)] =
        rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 0;
  }
  return SQLITE_OK;
}

// Per field of the current row, its length against its mean: the divisor of its frequencies.
FieldMeans LengthNorms(const Fts5ExtensionApi* api, Fts5Context* fts, const FieldMeans& means) {
  FieldMeans norm{};
  for (int c = 0; c < kFields; ++c) {
    int length = 0;
    api->xColumnSize(fts, c, &length);
    norm[static_cast<size_t>(c)] = LengthNorm(length, means[static_cast<size_t>(c)]);
  }
  return norm;
}

// The phrase's BM25F frequency in the current row: each of its positions weighed by its
// field's weight and divided by the field's LengthNorms.
int PhraseFrequency(const Fts5ExtensionApi* api, Fts5Context* fts, int phrase,
                    const std::array<double, kSearchFieldCount>& weight, const FieldMeans& norm,
                    double& f) {
  f = 0;
  Fts5PhraseIter iter;
  int column = 0, offset = 0;
  if (int rc = api->xPhraseFirst(fts, phrase, &iter, &column, &offset); rc != SQLITE_OK) {
    return rc;
  }
  for (; column >= 0; api->xPhraseNext(fts, &iter, &column, &offset)) {
    if (column >= kFields) continue;
    const auto c = static_cast<size_t>(column);
    f += weight[c] / norm[c];
  }
  return SQLITE_OK;
}

// engram_measure(episode_fts, pointer): see RegisterRanking.
void MeasureRow(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int argc,
                sqlite3_value** argv) {
  auto* m =
      argc == 1 ? static_cast<Measure*>(sqlite3_value_pointer(argv[0], kMeasureType)) : nullptr;
  if (!m || api->xColumnCount(fts) != kFields || api->xPhraseCount(fts) < 1) {
    sqlite3_result_error(ctx, "engram_measure: takes the Measure to fill", -1);
    return;
  }
  if (!m->measured_means) {
    if (MeanLengths(api, fts, m->means) != SQLITE_OK) {
      sqlite3_result_error(ctx, "engram_measure: cannot read the index's totals", -1);
      return;
    }
    m->measured_means = true;
  }
  double f = 0;
  if (PhraseFrequency(api, fts, 0, kFieldWeights, LengthNorms(api, fts, m->means), f) !=
      SQLITE_OK) {
    sqlite3_result_error(ctx, "engram_measure: cannot read the row's phrases", -1);
    return;
  }
  m->max_frequency = std::max(m->max_frequency, f);
  sqlite3_result_null(ctx);
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
  struct Query {
    std::vector<double> idf;
    FieldMeans mean_length{};
    std::array<double, kSearchFieldCount> weight{};
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
    if (MeanLengths(api, fts, owned->mean_length) != SQLITE_OK) {
      sqlite3_result_error(ctx, "engram_bm25f: cannot read the index's totals", -1);
      return;
    }
    for (int c = 0; c < kFields; ++c) {
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
      owned->idf.push_back(Idf(episodes, hits));
    }
    q = owned.release();
    if (api->xSetAuxdata(fts, q, [](void* p) { delete static_cast<Query*>(p); }) != SQLITE_OK) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  // A row whose terms' bounds (RankMatches) sum to θ or less cannot score above it: it is left
  // at 0 (no match) without reading its lengths or positions. The scored phrases are the
  // plan's terms in order.
  const auto* pruning =
      argc > kFields + 3
          ? static_cast<const Pruning*>(sqlite3_value_pointer(argv[kFields + 3], kPruningType))
          : nullptr;
  if (pruning && pruning->top->theta() > 0) {
    const std::vector<double>& bounds = pruning->bounds->of(api->xRowid(fts));
    double bound = 0;
    for (int i = q->skip; i < phrases; ++i) {
      Fts5PhraseIter iter;
      int column = -1;
      const auto term = static_cast<size_t>(i - q->skip);
      if (term < bounds.size() && api->xPhraseFirstColumn(fts, i, &iter, &column) == SQLITE_OK &&
          column >= 0) {
        bound += bounds[term];
      }
    }
    if (bound <= pruning->top->theta()) {
      sqlite3_result_double(ctx, 0);
      return;
    }
  }
  const FieldMeans norm = LengthNorms(api, fts, q->mean_length);
  // Each scored phrase's positions in this row (the leading `skip` phrases only select rows,
  // and their positions are never decoded).
  double score = 0;
  for (int i = q->skip; i < phrases; ++i) {
    double f = 0;
    if (PhraseFrequency(api, fts, i, q->weight, norm, f) != SQLITE_OK) {
      sqlite3_result_error(ctx, "engram_bm25f: cannot read the row's phrases", -1);
      return;
    }
    score += Saturate(q->idf[static_cast<size_t>(i)], f);
  }
  sqlite3_result_double(ctx, -score);
}

}  // namespace

Status RegisterRanking(Connection& conn) {
  if (Status s = RegisterTokenizer(conn.raw()); !s.ok()) return s;
  fts5_api* api = Fts5Api(conn.raw());
  if (!api) return Status::IOError("SQLite was built without FTS5");
  if (api->xCreateFunction(api, "engram_bm25f", nullptr, Bm25f, nullptr) != SQLITE_OK ||
      api->xCreateFunction(api, "engram_measure", nullptr, MeasureRow, nullptr) != SQLITE_OK) {
    return Status::IOError("cannot register the engram_bm25f ranking function");
  }
  return Status::Ok();
}

// Runs engram_measure over the rows of `match` (at most `rows` of them).
Status MeasureMatch(Connection& conn, const std::string& match, int64_t rows, Measure& m) {
  auto st = conn.cached(
      "SELECT engram_measure(episode_fts, ?2) FROM episode_fts WHERE episode_fts MATCH ?1 "
      "LIMIT ?3");
  if (!st.ok()) return st.status();
  (*st)->bind(1, match).bind_pointer(2, &m, kMeasureType).bind(3, rows);
  Status s;
  while ((*st)->step(s)) {
  }
  (*st)->reset();
  return s;
}

Result<TermBound> TermHits::in_index(Connection& conn, const std::string& quoted_term,
                                     int64_t newest, int64_t episodes) {
  if (auto bound = bounds_.find(quoted_term, newest)) return *bound;
  auto st = conn.cached("SELECT count(*) FROM episode_fts WHERE episode_fts MATCH ?");
  if (!st.ok()) return st.status();
  auto hits = (*st)->bind(1, quoted_term).scalar();
  if (!hits.ok()) return hits.status();
  TermBound bound;
  bound.hits = *hits;
  bound.through = newest;
  if (*hits > 0 && *hits * kMeasuredShare <= episodes) {
    Measure m;
    if (Status s = MeasureMatch(conn, quoted_term, *hits, m); !s.ok()) return s;
    bound.max_frequency = m.max_frequency;
    bound.means = m.means;
  }
  bounds_.put(quoted_term, bound, newest);
  return bound;
}

Result<int64_t> TermHits::episodes(Connection& conn, int64_t newest) {
  if (auto n = episodes_.find("", newest)) return *n;
  auto st = conn.cached("SELECT count(*) FROM episode_fts_docsize");
  if (!st.ok()) return st.status();
  auto n = (*st)->scalar();
  if (!n.ok()) return n.status();
  episodes_.put("", *n, newest);
  return *n;
}

Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words,
                              TermHits& term_hits) {
  SearchPlan plan;
  auto terms = QueryTerms(words);
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
    auto bound = term_hits.in_index(conn, plan.terms.back(), *top, plan.episodes);
    if (!bound.ok()) return bound.status();
    plan.hits.push_back(bound->hits);
    plan.bounds.push_back(*bound);
  }
  // The mean lengths now, read through a row of the rarest term held.
  int64_t rarest = -1;
  for (size_t i = 0; i < plan.hits.size(); ++i) {
    if (plan.hits[i] > 0 && (rarest < 0 || plan.hits[i] < plan.hits[static_cast<size_t>(rarest)])) {
      rarest = static_cast<int64_t>(i);
    }
  }
  if (rarest >= 0) {
    Measure m;
    if (Status s = MeasureMatch(conn, plan.terms[static_cast<size_t>(rarest)], 1, m); !s.ok()) {
      return s;
    }
    plan.means = m.means;
  }
  plan.match = fmt::format("{}", fmt::join(plan.terms, " OR "));
  return plan;
}

Result<std::vector<ScoredEpisode>> RankMatches(Connection& conn, const SearchPlan& plan, int limit,
                                               size_t* terms_searched) {
  const std::string hits = fmt::format("{}", fmt::join(plan.hits, ","));
  // Every matching row in rowid order, offered to the top; engram_bm25f reads θ at each row.
  static const std::string kScored = fmt::format(
      "SELECT rowid, engram_bm25f(episode_fts, {}, ?2, ?3, ?4, ?5) FROM episode_fts "
      "WHERE episode_fts MATCH ?1 AND rowid > ?6",
      fmt::join(kFieldWeights, ", "));
  auto scored = conn.cached(kScored);
  if (!scored.ok()) return scored.status();
  Statement& q = **scored;
  auto ored = [&](const std::vector<size_t>& terms) {
    std::vector<std::string> quoted;
    for (size_t i : terms) quoted.push_back(plan.terms[i]);
    return fmt::format("({})", fmt::join(quoted, " OR "));
  };
  // "(now ORed) NOT (before ORed) AND (all ORed)": the leading phrases select rows, the last
  // ones score them.
  auto pass = [&](const std::vector<size_t>& before, const std::vector<size_t>& now, int64_t after,
                  const PassBounds& bounds, TopEpisodes& top) -> Status {
    std::string match = plan.match;
    int64_t skip = 0;
    if (!before.empty() || now.size() < plan.terms.size()) {
      match = fmt::format("{}{} AND ({})", ored(now), before.empty() ? "" : " NOT " + ored(before),
                          plan.match);
      skip = static_cast<int64_t>(before.size() + now.size());
    }
    Pruning pruning{&top, &bounds};
    q.bind(1, match).bind(2, hits).bind(3, skip).bind(4, plan.episodes);
    q.bind_pointer(5, &pruning, kPruningType).bind(6, after);
    Status s;
    while (q.step(s)) {
      const ScoredEpisode row{q.column_double(1), q.column_int(0)};
      if (row.first < 0) top.offer(row);  // else no term of it scored, or it cannot pass θ
    }
    q.reset();
    return s;
  };
  return RankByMaxScore(plan.bounds, plan.episodes, plan.means, limit, pass, terms_searched);
}

}  // namespace engram::sqlite
