#include "store/sqlite_search.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <set>

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

// The words whose terms (as the tokenizer of episode_fts makes them, stemmed) differ: "tests"
// after "test" adds nothing. MATCH takes the words, not the terms: the tokenizer stems what it is
// given again, and stemming a stem can change it.
Result<std::vector<std::string>> Terms(sqlite3* db, const std::vector<std::string>& words) {
  fts5_api* api = Fts5Api(db);
  if (!api) return Status::IOError("SQLite was built without FTS5");
  void* user_data = nullptr;
  fts5_tokenizer tokenizer{};
  if (api->xFindTokenizer(api, "porter", &user_data, &tokenizer) != SQLITE_OK) {
    return Status::IOError("the FTS5 porter tokenizer is missing");
  }
  const char* args[] = {"unicode61", "remove_diacritics", "2"};
  Fts5Tokenizer* t = nullptr;
  if (tokenizer.xCreate(user_data, args, 3, &t) != SQLITE_OK) {
    return Status::IOError("cannot create the FTS5 tokenizer");
  }
  auto collect = [](void* ctx, int, const char* token, int n, int, int) {
    static_cast<std::string*>(ctx)->append(token, static_cast<size_t>(n)).push_back(' ');
    return SQLITE_OK;
  };
  std::vector<std::string> distinct;
  std::set<std::string> seen;
  for (const auto& w : words) {
    std::string terms;
    tokenizer.xTokenize(t, &terms, FTS5_TOKENIZE_QUERY, w.data(), static_cast<int>(w.size()),
                        collect);
    if (!terms.empty() && seen.insert(terms).second) distinct.push_back(w);
  }
  tokenizer.xDelete(t);
  return distinct;
}

std::string Quote(const std::string& term) {
  std::string out = "\"";
  for (char c : term) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// FTS5's bm25() (ext/fts5/fts5_aux.c), with the phrase counts given: the IDF of each phrase,
// then per row the weighted frequency of each phrase against the row's length.
void Bm25(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int argc,
          sqlite3_value** argv) {
  constexpr double k1 = 1.2, b = 0.75;
  struct Query {
    std::vector<double> idf;
    double avgdl = 0;
  };
  const int phrases = api->xPhraseCount(fts);
  auto* q = static_cast<Query*>(api->xGetAuxdata(fts, 0));
  if (!q) {
    auto owned = std::make_unique<Query>();
    sqlite3_int64 rows = 0, tokens = 0;
    if (api->xRowCount(fts, &rows) != SQLITE_OK ||
        api->xColumnTotalSize(fts, -1, &tokens) != SQLITE_OK) {
      sqlite3_result_error(ctx, "engram_bm25: cannot read the index's totals", -1);
      return;
    }
    owned->avgdl = rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 0;
    const char* list = argc > 3 ? reinterpret_cast<const char*>(sqlite3_value_text(argv[3])) : "";
    for (int i = 0; i < phrases; ++i) {
      char* end = nullptr;
      const double hits = list && *list ? std::strtod(list, &end) : 0;
      list = end && *end == ',' ? end + 1 : end;
      double idf = std::log((static_cast<double>(rows) - hits + 0.5) / (hits + 0.5));
      owned->idf.push_back(idf <= 0.0 ? 1e-6 : idf);
    }
    q = owned.release();
    if (api->xSetAuxdata(fts, q, [](void* p) { delete static_cast<Query*>(p); }) != SQLITE_OK) {
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  std::vector<double> freq(static_cast<size_t>(phrases), 0.0);
  int instances = 0;
  if (api->xInstCount(fts, &instances) != SQLITE_OK) {
    sqlite3_result_error(ctx, "engram_bm25: cannot read the row's phrases", -1);
    return;
  }
  for (int i = 0; i < instances; ++i) {
    int phrase = 0, column = 0, offset = 0;
    if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK) continue;
    // The first three arguments weigh the columns: task, reflection, steps.
    const double weight = column < std::min(argc, 3) ? sqlite3_value_double(argv[column]) : 1.0;
    freq[static_cast<size_t>(phrase)] += weight;
  }
  int length = 0;
  api->xColumnSize(fts, -1, &length);
  const double d = q->avgdl > 0 ? static_cast<double>(length) / q->avgdl : 0;
  double score = 0;
  for (int i = 0; i < phrases; ++i) {
    const double f = freq[static_cast<size_t>(i)];
    score += q->idf[static_cast<size_t>(i)] * (f * (k1 + 1.0)) / (f + k1 * (1.0 - b + b * d));
  }
  sqlite3_result_double(ctx, -score);
}

}  // namespace

Status RegisterRanking(Connection& conn) {
  fts5_api* api = Fts5Api(conn.raw());
  if (!api) return Status::IOError("SQLite was built without FTS5");
  if (api->xCreateFunction(api, "engram_bm25", nullptr, Bm25, nullptr) != SQLITE_OK) {
    return Status::IOError("cannot register the engram_bm25 ranking function");
  }
  return Status::Ok();
}

Result<int64_t> TermHits::Get(Counts& counts, const std::string& key, int64_t newest, int64_t slack,
                              const std::function<Result<int64_t>()>& count) {
  {
    std::lock_guard lock(mu_);
    auto it = counts.find(key);
    if (it != counts.end() && newest - it->second.newest <= slack) return it->second.hits;
  }
  auto hits = count();
  if (!hits.ok()) return hits.status();
  std::lock_guard lock(mu_);
  if (counts.size() >= 100'000) counts.clear();  // bounded, whatever the vocabulary
  counts[key] = Counted{*hits, newest};
  return *hits;
}

Result<int64_t> TermHits::in_index(Connection& conn, const std::string& quoted_term,
                                   int64_t newest) {
  const int64_t slack = std::max<int64_t>(64, newest / 100);
  return Get(index_, quoted_term, newest, slack, [&]() -> Result<int64_t> {
    auto st = conn.cached("SELECT count(*) FROM episode_fts WHERE episode_fts MATCH ?");
    if (!st.ok()) return st.status();
    return (*st)->bind(1, quoted_term).scalar();
  });
}

Result<int64_t> TermHits::in_sample(Connection& conn, const std::string& quoted_term, int64_t from,
                                    int64_t newest) {
  return Get(sample_, quoted_term, newest, 16, [&]() -> Result<int64_t> {
    // FTS5 walks a term's rowids fastest newest first; a `rowid >= ?` bound on the match
    // itself is several times slower.
    auto st = conn.cached(
        "SELECT count(*) FROM (SELECT rowid FROM episode_fts WHERE episode_fts MATCH ?1 "
        "ORDER BY rowid DESC LIMIT ?3) WHERE rowid >= ?2");
    if (!st.ok()) return st.status();
    return (*st)->bind(1, quoted_term).bind(2, from).bind(3, int64_t{kTermSample}).scalar();
  });
}

Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words,
                              TermHits& term_hits) {
  SearchPlan plan;
  auto terms = Terms(conn.raw(), words);
  if (!terms.ok()) return terms.status();
  if (terms->empty()) return plan;

  // How common each term is, in a sample of the most recently completed episodes.
  auto sample_start = conn.cached(fmt::format(
      "SELECT id FROM episode_fts_docsize ORDER BY id DESC LIMIT 1 OFFSET {}", kTermSample - 1));
  auto total = conn.cached("SELECT count(*) FROM episode_fts_docsize");
  auto newest = conn.cached("SELECT coalesce(max(id), 0) FROM episode_fts_docsize");
  for (auto* st : {&sample_start, &total, &newest}) {
    if (!st->ok()) return st->status();
  }
  auto top = (*newest)->scalar();
  if (!top.ok()) return top.status();
  // No sample start (0, as rowids start at 1): fewer than kTermSample episodes, all sampled.
  auto from = (*sample_start)->scalar();
  if (!from.ok()) return from.status();
  auto sample = *from > 0 ? Result<int64_t>(int64_t{kTermSample}) : (*total)->scalar();
  if (!sample.ok()) return sample.status();
  std::vector<std::pair<int64_t, std::string>> by_frequency;
  for (const auto& term : *terms) {
    auto n = term_hits.in_sample(conn, Quote(term), *from, *top);
    if (!n.ok()) return n.status();
    by_frequency.emplace_back(*n, term);
  }
  std::stable_sort(by_frequency.begin(), by_frequency.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> kept;
  bool found = false;  // whether a kept term occurs in the sample
  for (const auto& [n, term] : by_frequency) {
    const bool common = n > kMinCommonTermEpisodes &&
                        static_cast<double>(n) > kCommonTermShare * static_cast<double>(*sample);
    // All common: the least common of them still counts.
    if (!common || !found) {
      kept.push_back(Quote(term));
      found = found || n > 0;
    }
  }
  plan.match = fmt::format("{}", fmt::join(kept, " OR "));
  std::vector<int64_t> hits;
  for (const auto& term : kept) {
    auto n = term_hits.in_index(conn, term, *top);
    if (!n.ok()) return n.status();
    hits.push_back(*n);
  }
  plan.phrase_hits = fmt::format("{}", fmt::join(hits, ","));
  return plan;
}

}  // namespace engram::sqlite
