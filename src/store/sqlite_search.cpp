#include "store/sqlite_search.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
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

}  // namespace

Result<SearchPlan> PlanSearch(Connection& conn, const std::vector<std::string>& words) {
  SearchPlan plan;
  auto terms = Terms(conn.raw(), words);
  if (!terms.ok()) return terms.status();
  if (terms->empty()) return plan;

  // How common each term is, in a sample of the most recently completed episodes.
  auto sample_start = conn.cached(fmt::format(
      "SELECT id FROM episode_fts_docsize ORDER BY id DESC LIMIT 1 OFFSET {}", kTermSample - 1));
  auto total = conn.cached("SELECT count(*) FROM episode_fts_docsize");
  // FTS5 walks a term's rowids fastest newest first; a `rowid >= ?` bound on the match itself
  // is several times slower.
  auto count = conn.cached(
      "SELECT count(*) FROM (SELECT rowid FROM episode_fts WHERE episode_fts MATCH ?1 "
      "ORDER BY rowid DESC LIMIT ?3) WHERE rowid >= ?2");
  for (auto* st : {&sample_start, &total, &count}) {
    if (!st->ok()) return st->status();
  }
  Status s;
  int64_t from = 0, sample = kTermSample;
  if ((*sample_start)->step(s)) {
    from = (*sample_start)->column_int(0);
  } else {
    sample = (*total)->step(s) ? (*total)->column_int(0) : 0;
    (*total)->reset();
  }
  (*sample_start)->reset();
  if (!s.ok()) return s;
  std::vector<std::pair<int64_t, std::string>> by_frequency;
  for (const auto& term : *terms) {
    (*count)->bind(1, Quote(term)).bind(2, from).bind(3, int64_t{kTermSample});
    const int64_t n = (*count)->step(s) ? (*count)->column_int(0) : 0;
    (*count)->reset();
    if (!s.ok()) return s;
    by_frequency.emplace_back(n, term);
  }
  std::stable_sort(by_frequency.begin(), by_frequency.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> kept;
  bool found = false;  // whether a kept term occurs in the sample
  for (const auto& [n, term] : by_frequency) {
    const bool common = n > kMinCommonTermEpisodes &&
                        static_cast<double>(n) > kCommonTermShare * static_cast<double>(sample);
    // All common: the least common of them still counts.
    if (!common || !found) {
      kept.push_back(Quote(term));
      found = found || n > 0;
    }
  }
  plan.match = fmt::format("{}", fmt::join(kept, " OR "));
  return plan;
}

}  // namespace engram::sqlite
