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

// The terms the index holds for `text`: the tokenizer of episode_fts, run in query mode.
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
  std::vector<std::string> terms;
  auto collect = [](void* ctx, int, const char* token, int n, int, int) {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(token, static_cast<size_t>(n));
    return SQLITE_OK;
  };
  for (const auto& w : words) {
    tokenizer.xTokenize(t, &terms, FTS5_TOKENIZE_QUERY, w.data(), static_cast<int>(w.size()),
                        collect);
  }
  tokenizer.xDelete(t);
  std::set<std::string> seen;
  std::erase_if(terms, [&](const std::string& term) { return !seen.insert(term).second; });
  return terms;
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

  auto total = conn.cached("SELECT count(*) FROM episode_fts_docsize");
  auto df = conn.cached("SELECT doc FROM episode_fts_vocab WHERE term = ?");
  if (!total.ok()) return total.status();
  if (!df.ok()) return df.status();
  Status s;
  const int64_t docs = (*total)->step(s) ? (*total)->column_int(0) : 0;
  (*total)->reset();
  if (!s.ok()) return s;
  std::vector<std::pair<int64_t, std::string>> by_frequency;
  for (const auto& term : *terms) {
    (*df)->bind(1, term);
    const int64_t n = (*df)->step(s) ? (*df)->column_int(0) : 0;
    (*df)->reset();
    if (!s.ok()) return s;
    if (n > 0) by_frequency.emplace_back(n, term);
  }
  if (by_frequency.empty()) return plan;
  std::sort(by_frequency.begin(), by_frequency.end());
  std::vector<std::string> kept;
  for (const auto& [n, term] : by_frequency) {
    if (kept.empty() || static_cast<double>(n) <= kCommonTermShare * static_cast<double>(docs)) {
      kept.push_back(Quote(term));
    }
  }
  plan.match = fmt::format("{}", fmt::join(kept, " OR "));

  // Bound the work: BM25 is computed for every match, so past the window only the most
  // recent matches (the highest rowids) are ranked.
  auto window = conn.cached(
      "SELECT rowid FROM episode_fts WHERE episode_fts MATCH ? ORDER BY rowid DESC LIMIT 1 "
      "OFFSET ?");
  if (!window.ok()) return window.status();
  (*window)->bind(1, plan.match).bind(2, int64_t{kMatchWindow - 1});
  if ((*window)->step(s)) plan.min_rowid = (*window)->column_int(0);
  (*window)->reset();
  if (!s.ok()) return s;
  return plan;
}

}  // namespace engram::sqlite
