#include "store/search_index.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "store/sqlite/tokenizer.h"

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

double Bound(const TermBound& t, int64_t episodes, const FieldMeans& now) {
  const double idf = Idf(static_cast<double>(episodes), static_cast<double>(t.hits));
  const double loose = ScoreBound(idf);
  if (t.max_frequency < 0) return loose;
  double growth = 1;
  for (size_t f = 0; f < kSearchFieldCount; ++f) {
    if (now[f] <= t.means[f]) continue;
    if (t.means[f] <= 0) return loose;
    growth = std::max(growth, now[f] / t.means[f]);
  }
  return std::min(loose, Saturate(idf, t.max_frequency * growth));
}

Result<std::vector<ScoredEpisode>> RankByMaxScore(const std::vector<TermBound>& terms,
                                                  int64_t episodes, const FieldMeans& means,
                                                  int limit, const RankingPass& pass,
                                                  size_t* terms_searched) {
  const size_t n = terms.size();
  TopEpisodes top(limit);
  if (n == 0 || limit <= 0) return top.ranked();
  PassBounds bounds;
  bounds.through = std::numeric_limits<int64_t>::max();
  std::vector<size_t> rarest(n);
  for (size_t i = 0; i < n; ++i) {
    const TermBound& t = terms[i];
    bounds.measured.push_back(Bound(t, episodes, means));
    bounds.loose.push_back(
        ScoreBound(Idf(static_cast<double>(episodes), static_cast<double>(t.hits))));
    if (t.max_frequency >= 0) bounds.through = std::min(bounds.through, t.through);
    rarest[i] = i;
  }
  const std::vector<double>& bound = bounds.measured;
  // The first pass reads the shortest posting lists: the rarest terms that hold about `limit`
  // episodes between them, so that θ is known early and cheaply.
  std::stable_sort(rarest.begin(), rarest.end(),
                   [&](size_t a, size_t b) { return terms[a].hits < terms[b].hits; });
  std::vector<bool> searched(n, false);
  std::vector<size_t> before, now;
  for (int64_t held = 0; now.size() < n && (now.empty() || held < limit);) {
    now.push_back(rarest[now.size()]);
    held += terms[now.back()].hits;
  }
  // By bound, lowest first: the terms that cannot lift an episode past θ on their own are
  // taken from the front.
  std::vector<size_t> by_bound(n);
  for (size_t i = 0; i < n; ++i) by_bound[i] = i;
  std::stable_sort(by_bound.begin(), by_bound.end(),
                   [&](size_t a, size_t b) { return bound[a] < bound[b]; });
  while (!now.empty()) {
    if (Status s = pass(before, now, 0, bounds, top); !s.ok()) return s;
    for (size_t i : now) {
      searched[i] = true;
      before.push_back(i);
    }
    now.clear();
    // An episode not scored yet holds none of the terms searched. If all its terms are among
    // the lowest bounds that sum to θ or less, it cannot enter; any other holds a term beyond
    // them, and those not searched yet are the next pass's.
    double below = 0;
    size_t i = 0;
    while (i < n && below + bound[by_bound[i]] <= top.theta()) below += bound[by_bound[i++]];
    for (; i < n; ++i) {
      if (!searched[by_bound[i]]) now.push_back(by_bound[i]);
    }
  }
  if (terms_searched) *terms_searched = before.size();
  // Episodes indexed since a term left out was measured may hold it with any frequency.
  int64_t measured_through = -1;
  std::vector<size_t> left;
  for (size_t i = 0; i < n; ++i) {
    if (searched[i]) continue;
    left.push_back(i);
    const TermBound& t = terms[i];
    if (t.max_frequency >= 0 && (measured_through < 0 || t.through < measured_through)) {
      measured_through = t.through;
    }
  }
  if (measured_through >= 0) {
    if (Status s = pass(before, left, measured_through, bounds, top); !s.ok()) return s;
  }
  return top.ranked();
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
