#include "store/postgres/search.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <unordered_map>

namespace engram::pg {
namespace {

constexpr const char* kDocsCopy =
    "search_docs (episode_key, task, said, calls, observed, reflection, terms)";
constexpr const char* kPostingsCopy =
    "search_postings (term, episode_key, task, said, calls, observed, reflection)";
// The columns of both tables that hold a number per field, in kSearchFields' order.
constexpr const char* kFieldColumns[] = {"task", "said", "calls", "observed", "reflection"};
static_assert(std::size(kFieldColumns) == kSearchFieldCount);

}  // namespace

Status SearchRows::add(int64_t key, const SearchFields& fields) {
  auto text = IndexText(fields);
  if (!text.ok()) return text.status();
  std::vector<std::string> terms;
  terms.reserve(text->terms.size());
  for (auto& [term, tf] : text->terms) {
    AppendCopyText(postings_, term);
    postings_ += fmt::format("\t{}\t{}\n", key, fmt::join(tf, "\t"));
    terms.push_back(std::move(term));
  }
  docs_ += fmt::format("{}\t{}\t", key, fmt::join(text->lengths, "\t"));
  AppendCopyText(docs_, TextArray(terms));
  docs_ += '\n';
  return Status::Ok();
}

Status SearchRows::copy(Connection& conn) {
  if (docs_.empty()) return Status::Ok();
  if (Status s = conn.copy_in(kDocsCopy, docs_); !s.ok()) return s;
  if (!postings_.empty()) {
    if (Status s = conn.copy_in(kPostingsCopy, postings_); !s.ok()) return s;
  }
  docs_.clear();
  postings_.clear();
  return Status::Ok();
}

const std::vector<std::string>& UnindexSql() {
  static const std::vector<std::string> statements = {
      // Each posting found by its term, through the index's key (term, episode).
      "DELETE FROM search_postings p USING search_docs d, unnest(d.terms) AS t(term) "
      "WHERE d.episode_key = ANY($1::bigint[]) AND p.term = t.term "
      "AND p.episode_key = d.episode_key",
      "DELETE FROM search_docs WHERE episode_key = ANY($1::bigint[])",
  };
  return statements;
}

Status IndexPending(Connection& conn) {
  // The fields as learn/recall.cpp StepsText and ReflectionText make them, in SQL: what the
  // user said, the calls (tool and action, conversation turns aside), the first 300 characters
  // of each observation, each cut at 16,384 characters; the reflection's strings.
  static const std::string kBatch = R"sql(
WITH batch AS (
  DELETE FROM search_pending WHERE episode_key IN (
    SELECT episode_key FROM search_pending ORDER BY episode_key LIMIT 256
    FOR UPDATE SKIP LOCKED)
  RETURNING episode_key)
SELECT e.key, e.task,
  coalesce(left((SELECT string_agg(observation, E'\n' ORDER BY step_number) FROM steps
    WHERE episode_key = e.key AND tool = 'user' AND observation <> ''), 16384), ''),
  coalesce(left((SELECT string_agg(tool || ' ' || action, E'\n' ORDER BY step_number) FROM steps
    WHERE episode_key = e.key AND tool NOT IN ('llm', 'user')), 16384), ''),
  coalesce(left((SELECT string_agg(left(observation, 300), E'\n' ORDER BY step_number) FROM steps
    WHERE episode_key = e.key AND tool <> 'user' AND observation <> ''), 16384), ''),
  coalesce((SELECT string_agg(v #>> '{}', ' ') FROM
    jsonb_path_query(e.reflection::jsonb, 'strict $.**') AS v
    WHERE jsonb_typeof(v) = 'string'), '')
FROM episodes e JOIN batch ON batch.episode_key = e.key
WHERE e.status = 'completed' AND NOT EXISTS (
  SELECT 1 FROM search_docs WHERE search_docs.episode_key = e.key)
)sql";
  while (true) {
    if (Status s = conn.exec("BEGIN"); !s.ok()) return s;
    auto fail = [&](Status s) {
      (void)conn.exec("ROLLBACK");
      return s;
    };
    auto rows = conn.query(kBatch);
    if (!rows.ok()) return fail(rows.status());
    SearchRows out;
    for (int i = 0; i < rows->size(); ++i) {
      const std::array<std::string, kSearchFieldCount> texts = {
          rows->text(i, 1), rows->text(i, 2), rows->text(i, 3), rows->text(i, 4), rows->text(i, 5)};
      if (Status s =
              out.add(rows->integer(i, 0), {texts[0], texts[1], texts[2], texts[3], texts[4]});
          !s.ok()) {
        return fail(s);
      }
    }
    if (Status s = out.copy(conn); !s.ok()) return fail(s);
    if (Status s = conn.exec("COMMIT"); !s.ok()) return s;
    auto left = conn.query("SELECT EXISTS (SELECT 1 FROM search_pending)");
    if (!left.ok()) return left.status();
    if (!left->boolean(0, 0)) return Status::Ok();
  }
}

Result<std::vector<ScoredEpisode>> RankEpisodes(Connection& conn,
                                                const std::vector<std::string>& words, int limit,
                                                SearchFigures& figures) {
  auto terms = QueryTerms(words);
  if (!terms.ok()) return terms.status();
  if (terms->empty()) return std::vector<ScoredEpisode>{};
  auto top = conn.query("SELECT coalesce(max(episode_key), 0) FROM search_docs");
  if (!top.ok()) return top.status();
  const int64_t newest = top->integer(0, 0);

  // The episodes and each field's total length (keys no term has: terms are never empty and
  // never hold '#').
  const std::array<std::string, kSearchFieldCount + 1> totals_keys = {"",   "#0", "#1",
                                                                      "#2", "#3", "#4"};
  std::array<int64_t, kSearchFieldCount + 1> totals{};
  bool counted = true;
  for (size_t i = 0; i < totals.size() && counted; ++i) {
    auto n = figures.totals.find(totals_keys[i], newest);
    counted = n.has_value();
    if (counted) totals[i] = *n;
  }
  if (!counted) {
    auto rows = conn.query(
        "SELECT count(*), coalesce(sum(task), 0), coalesce(sum(said), 0), "
        "coalesce(sum(calls), 0), coalesce(sum(observed), 0), coalesce(sum(reflection), 0) "
        "FROM search_docs");
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < totals.size(); ++i) {
      totals[i] = rows->integer(0, static_cast<int>(i));
      figures.totals.put(totals_keys[i], totals[i], newest);
    }
  }
  const int64_t episodes = totals[0];
  FieldMeans means{};
  for (size_t f = 0; f < kSearchFieldCount; ++f) {
    means[f] =
        episodes > 0 ? static_cast<double>(totals[f + 1]) / static_cast<double>(episodes) : 0;
  }
  // Per field, b / its mean length: the parameters that `frequency` reads.
  auto add_norms = [&means](Params& p) {
    for (double m : means) p.add(m > 0 ? kBm25B / m : 0.0);
  };
  // A posting's BM25F frequency: its counts weighed and normalised field by field, the b /
  // mean of each field (search_index.h LengthNorm) the parameters from `first` on.
  auto frequency = [](int first) {
    std::vector<std::string> weighed;
    for (size_t f = 0; f < kSearchFieldCount; ++f) {
      weighed.push_back(fmt::format("{} * p.{} / ({} + d.{} * ${}::float8)", kFieldWeights[f],
                                    kFieldColumns[f], 1.0 - kBm25B, kFieldColumns[f],
                                    first + static_cast<int>(f)));
    }
    return fmt::format("{}", fmt::join(weighed, " + "));
  };

  // Each term's bound; those not counted lately read in one statement: the episodes holding it
  // and, for a term held by few, its highest frequency.
  std::vector<TermBound> bounds(terms->size());
  std::vector<std::string> uncounted;
  std::unordered_map<std::string, size_t> uncounted_at;  // their indexes in `terms`
  for (size_t i = 0; i < terms->size(); ++i) {
    if (auto b = figures.terms.find((*terms)[i], newest)) {
      bounds[i] = *b;
    } else {
      uncounted.push_back((*terms)[i]);
      uncounted_at[(*terms)[i]] = i;
    }
  }
  if (!uncounted.empty()) {
    static const std::string kMeasure = fmt::format(
        "SELECT t, n, CASE WHEN n > 0 AND n * {} <= $2 THEN (SELECT max({}) FROM search_postings "
        "p JOIN search_docs d ON d.episode_key = p.episode_key WHERE p.term = t) END "
        "FROM (SELECT t, (SELECT count(*) FROM search_postings WHERE term = t) AS n "
        "FROM unnest($1::text[]) AS t) counted",
        kMeasuredShare, frequency(3));
    Params p;
    p.add(TextArray(uncounted)).add(episodes);
    add_norms(p);
    auto rows = conn.query(kMeasure, p);
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->size(); ++i) {
      auto at = uncounted_at.find(rows->text(i, 0));
      if (at == uncounted_at.end()) continue;
      TermBound& b = bounds[at->second];
      b.hits = rows->integer(i, 1);
      if (!rows->null(i, 2)) {
        b.max_frequency = rows->real(i, 2);
        b.means = means;
      }
      b.through = newest;
      figures.terms.put(rows->text(i, 0), b, newest);
    }
  }
  std::vector<double> idf(terms->size());
  for (size_t i = 0; i < idf.size(); ++i) {
    idf[i] = Idf(static_cast<double>(episodes), static_cast<double>(bounds[i].hits));
  }

  // The episodes above $11 holding a term of $3 and none of $4, each scored with every term
  // ($1, its idf in $2): per term, its frequency saturated. Each candidate's postings are
  // looked up by (term, episode) in the key's index, which holds the counts: the work follows
  // the candidates, not the length of the common terms' lists.
  static const std::string kRank = fmt::format(
      "WITH q AS (SELECT * FROM unnest($1::text[], $2::float8[]) AS q(term, idf)), "
      "candidates AS (SELECT episode_key FROM search_postings WHERE term = ANY($3::text[]) "
      "AND episode_key > $11 EXCEPT SELECT episode_key FROM search_postings "
      "WHERE term = ANY($4::text[])) "
      "SELECT c.episode_key, s.score FROM candidates c "
      "JOIN search_docs d ON d.episode_key = c.episode_key CROSS JOIN LATERAL ("
      "SELECT sum(idf * f * {} / (f + {})) AS score FROM ("
      "SELECT q.idf, {} AS f FROM search_postings p JOIN q ON q.term = p.term "
      "WHERE p.episode_key = c.episode_key AND p.term = ANY($1::text[])) h) s "
      "ORDER BY s.score DESC, c.episode_key DESC LIMIT $5",
      kBm25K1 + 1.0, kBm25K1, frequency(6));
  const std::string all = TextArray(*terms), idfs = NumberArray(idf);
  auto pass = [&](const std::vector<size_t>& before, const std::vector<size_t>& now, int64_t after,
                  const PassBounds&, TopEpisodes& best) -> Status {
    auto pick = [&](const std::vector<size_t>& which) {
      std::vector<std::string> out;
      for (size_t i : which) out.push_back((*terms)[i]);
      return TextArray(out);
    };
    Params p;
    p.add(all).add(idfs).add(pick(now)).add(pick(before)).add(int64_t{limit});
    add_norms(p);
    p.add(after);
    auto rows = conn.query(kRank, p);
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->size(); ++i) best.offer({-rows->real(i, 1), rows->integer(i, 0)});
    return Status::Ok();
  };
  return RankByMaxScore(bounds, episodes, means, limit, pass);
}

}  // namespace engram::pg
