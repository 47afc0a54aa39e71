#include "store/search_index.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "store/sqlite_tokenizer.h"

namespace engram {
namespace {

// The tokenizer is FTS5's (unicode61 and porter), reached through a connection: an in-memory
// one per thread, for a store that has none of its own (PostgreSQL).
Result<sqlite::Tokens> Tokenize(std::string_view text) {
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  thread_local std::unique_ptr<sqlite3, Closer> db = [] {
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      sqlite3_close(raw);
      raw = nullptr;
    }
    return std::unique_ptr<sqlite3, Closer>(raw);
  }();
  if (!db) return Status::IOError("cannot open an in-memory SQLite database for the tokenizer");
  return sqlite::Tokenize(db.get(), text);
}

}  // namespace

Result<IndexedText> IndexText(const std::array<std::string_view, kSearchFieldCount>& fields) {
  IndexedText out;
  std::map<std::string, FieldCounts> counts;
  for (size_t f = 0; f < kSearchFieldCount; ++f) {
    auto tokens = Tokenize(fields[f]);
    if (!tokens.ok()) return tokens.status();
    out.lengths[f] = static_cast<int32_t>(tokens->words.size());
    for (auto* list : {&tokens->words, &tokens->stems}) {
      for (auto& t : *list) ++counts[std::move(t)][f];
    }
  }
  out.terms.assign(std::make_move_iterator(counts.begin()), std::make_move_iterator(counts.end()));
  return out;
}

void TopEpisodes::offer(const ScoredEpisode& e) {
  if (best_.size() < limit_) {
    best_.push(e);
  } else if (!best_.empty() && Worse{}(e, best_.top())) {
    best_.pop();
    best_.push(e);
  } else {
    return;
  }
  if (best_.size() == limit_) theta_ = -best_.top().first;
}

std::vector<ScoredEpisode> TopEpisodes::ranked() {
  std::vector<ScoredEpisode> out;
  for (; !best_.empty(); best_.pop()) out.push_back(best_.top());
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<ScoredEpisode>> RankByMaxScore(const std::vector<int64_t>& hits,
                                                  int64_t episodes, int limit,
                                                  const RankingPass& pass, size_t* terms_searched) {
  const size_t n = hits.size();
  TopEpisodes top(limit);
  if (n == 0 || limit <= 0) return top.ranked();
  std::vector<double> bound(n);
  std::vector<size_t> rarest(n);
  for (size_t i = 0; i < n; ++i) {
    bound[i] = ScoreBound(Idf(static_cast<double>(episodes), static_cast<double>(hits[i])));
    rarest[i] = i;
  }
  std::stable_sort(rarest.begin(), rarest.end(),
                   [&](size_t a, size_t b) { return bound[a] > bound[b]; });
  size_t searched = 1;
  for (int64_t held = hits[rarest[0]]; searched < n && held < limit; ++searched) {
    held += hits[rarest[searched]];
  }
  size_t before = 0;  // terms searched by the earlier passes
  while (true) {
    const std::vector<size_t> old(rarest.begin(), rarest.begin() + static_cast<long>(before));
    const std::vector<size_t> now(rarest.begin() + static_cast<long>(before),
                                  rarest.begin() + static_cast<long>(searched));
    if (Status s = pass(old, now, top); !s.ok()) return s;
    if (searched == n) break;
    // The terms that could still lift an episode past θ.
    double below = 0;
    size_t needed = n;
    while (needed > 0 && below + bound[rarest[needed - 1]] <= top.theta()) {
      below += bound[rarest[needed - 1]];
      --needed;
    }
    if (needed <= searched) break;
    before = searched;
    searched = needed;
  }
  if (terms_searched) *terms_searched = searched;
  return top.ranked();
}

std::optional<int64_t> IndexCounts::find(const std::string& key, int64_t newest) {
  const int64_t slack = std::max<int64_t>(64, newest / 100);
  std::lock_guard lock(mu_);
  auto it = counts_.find(key);
  if (it == counts_.end() || newest - it->second.newest > slack) return std::nullopt;
  return it->second.count;
}

void IndexCounts::put(const std::string& key, int64_t count, int64_t newest) {
  std::lock_guard lock(mu_);
  if (counts_.size() >= 100'000) counts_.clear();  // bounded, whatever the vocabulary
  counts_[key] = Counted{count, newest};
}

Result<std::vector<std::string>> QueryTerms(const std::vector<std::string>& words) {
  std::vector<std::string> terms;
  std::set<std::string> seen;
  for (const auto& w : words) {
    auto tokens = Tokenize(w);
    if (!tokens.ok()) return tokens.status();
    for (auto* list : {&tokens->words, &tokens->stems}) {
      for (auto& t : *list) {
        if (seen.insert(t).second) terms.push_back(std::move(t));
      }
    }
  }
  return terms;
}

}  // namespace engram
