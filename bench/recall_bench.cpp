// make bench, recall: retrieval quality on the labelled evaluation set against plain BM25, and
// recall latency over a large store.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "bench_common.h"
#include "eval_set.h"
#include "learn/recall.h"
#include "store/sqlite/tokenizer.h"
#include "store/store.h"
#include "store/url.h"

namespace engram::bench {
namespace {

// The evaluation's clock: a millisecond further at every reading, from a fixed start. With the
// system clock, durations (a reward part) and recency moved with the machine's speed, and the
// figures with them from one run to the next.
class TickingClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() override {
    return kStart + std::chrono::milliseconds(ticks_.fetch_add(1));
  }

 private:
  static constexpr std::chrono::system_clock::time_point kStart{
      std::chrono::seconds(1'767'225'600)};
  std::atomic<int64_t> ticks_ = 0;
};

std::string Record(Memory& m, const Attempt& a) {
  auto id = m.start_episode(a.spec);
  if (!id.ok()) Die("start_episode", id.status());
  if (auto s = m.log_steps(*id, a.steps); !s.ok()) Die("log_steps", s.status());
  if (auto e = m.complete_episode(*id, a.outcome); !e.ok()) Die("complete_episode", e.status());
  return *id;
}

// The queries of one fold: each task asked in the phrasing no stored attempt used, so a hit
// is never the same words found again. Relevant: every stored attempt at that task.
void Evaluate(Memory& m, const std::map<std::string, size_t>& task_of, size_t fold,
              RecallWeights weights, bool with_context, Quality& q) {
  std::map<size_t, int> attempts;
  for (const auto& [id, task] : task_of) ++attempts[task];
  for (size_t t = 0; t < EvalTasks().size(); ++t) {
    const EvalTask& task = EvalTasks()[t];
    RecallQuery query;
    query.task = task.phrasings[fold];
    if (with_context) {
      query.context.domain = task.domain;
      query.context.language = task.language;
      query.context.framework = task.framework;
    }
    query.k = 10;
    query.weights = weights;
    query.token_budget = 0;
    auto got = m.recall(query);
    if (!got.ok()) Die("recall", got.status());
    int found = 0;
    double reciprocal = 0;
    for (size_t i = 0; i < got->episodes.size(); ++i) {
      if (task_of.at(got->episodes[i].id) != t) continue;
      if (i < 5) ++found;
      if (reciprocal == 0) reciprocal = 1.0 / static_cast<double>(i + 1);
    }
    q.recall_at_5 += static_cast<double>(found) / std::min(5, attempts[t]);
    q.mrr += reciprocal;
    ++q.queries;
  }
}

}  // namespace

RecallEval EvaluateRecall(const std::string& url_prefix) {
  constexpr int kAttempts = 10;
  constexpr size_t kFolds = 5;  // every task has 5 phrasings; each fold holds one out
  RecallEval out;
  out.tasks = static_cast<int>(EvalTasks().size());
  std::mt19937_64 rng(42);
  for (size_t fold = 0; fold < kFolds; ++fold) {
    Options options;
    options.clock = std::make_shared<TickingClock>();
    auto m = OpenOrDie(fmt::format("{}-{}.db", url_prefix, fold), options);
    std::map<std::string, size_t> task_of;
    for (int n = 0; n < kAttempts; ++n) {
      for (size_t t = 0; t < EvalTasks().size(); ++t) {
        Attempt a = MakeAttempt(t, n, rng);
        const size_t phrasing = static_cast<size_t>(n) % (kFolds - 1);
        a.spec.task = EvalTasks()[t].phrasings[phrasing < fold ? phrasing : phrasing + 1];
        task_of[Record(*m, a)] = t;
        out.failed += a.outcome.kind == OutcomeKind::kFailure ? 1 : 0;
      }
    }
    out.episodes = static_cast<int>(task_of.size());
    Evaluate(*m, task_of, fold, RecallWeights{}, true, out.combined);
    Evaluate(*m, task_of, fold, RecallWeights{}, false, out.combined_without_context);
    Evaluate(*m, task_of, fold, RecallWeights{1, 0, 0, 0}, false, out.bm25);
  }
  out.failed /= static_cast<int>(kFolds);
  for (Quality* q : {&out.combined, &out.combined_without_context, &out.bm25}) {
    q->recall_at_5 /= q->queries;
    q->mrr /= q->queries;
  }
  return out;
}

RecallSpeed MeasureRecallSpeed(const std::string& url, int64_t episodes, int queries) {
  auto m = OpenOrDie(url);
  std::mt19937_64 rng(7);
  RecallSpeed out;
  out.episodes = episodes;
  // A store that already holds them (kept from an earlier run) is timed as it is.
  if (auto stats = m->stats(StatsFilter{}); stats.ok() && episodes > 0) {
    const auto held = stats->episodes_by_status.find("completed");
    if (held != stats->episodes_by_status.end() && held->second >= episodes) episodes = 0;
  }
  // Loaded as an import would: completed episodes in batches, each learnt from and indexed.
  Stopwatch build;
  std::vector<Episode> batch;
  for (int64_t i = 0; i < episodes; ++i) {
    const auto task = static_cast<size_t>(i) % EvalTasks().size();
    const auto n = static_cast<int>(i / static_cast<int64_t>(EvalTasks().size()));
    Attempt a = MakeAttempt(task, n, rng, /*noise=*/true, /*pad_to=*/10);
    Episode e;
    e.task = a.spec.task;
    e.task_type = a.spec.task_type;
    e.context = a.spec.context;
    e.status = EpisodeStatus::kCompleted;
    e.outcome = a.outcome;
    e.steps = std::move(a.steps);
    batch.push_back(std::move(e));
    if (batch.size() == 512 || i + 1 == episodes) {
      auto r = m->import_episodes(std::move(batch));
      if (!r.ok()) Die("import_episodes", r.status());
      for (const auto& s : *r) {
        if (!s.ok()) Die("import_episodes", s);
      }
      batch.clear();
    }
  }
  out.build_s = build.seconds();
  // One untimed pass over the distinct queries first, as a server that has been up a while
  // (the store's pages in the operating system's cache, each word's episode count known).
  for (size_t t = 0; t < EvalTasks().size(); ++t) {
    for (const auto& phrasing : EvalTasks()[t].phrasings) {
      RecallQuery q;
      q.task = phrasing;
      if (auto r = m->recall(q); !r.ok()) Die("recall", r.status());
    }
  }
  std::vector<double> ms;
  for (int i = 0; i < queries; ++i) {
    const EvalTask& t = EvalTasks()[static_cast<size_t>(i) % EvalTasks().size()];
    RecallQuery q;
    q.task = t.phrasings[static_cast<size_t>(i) / EvalTasks().size() % t.phrasings.size()];
    q.context.domain = t.domain;
    q.context.language = t.language;
    q.context.framework = t.framework;
    Stopwatch watch;
    auto r = m->recall(q);
    ms.push_back(watch.seconds() * 1000);
    if (!r.ok() || r->episodes.empty()) Die("recall", r.status());
  }
  out.p50_ms = Percentile(ms, 0.50);
  out.p95_ms = Percentile(ms, 0.95);
  out.p99_ms = Percentile(ms, 0.99);
  auto latencies = [](std::vector<double>& v) {
    return Latencies{Percentile(v, 0.50), Percentile(v, 0.95), Percentile(v, 0.99)};
  };

  // The obvious query on the same index: FTS5's bm25() over every match of every query term.
  if (auto where = ParseStoreUrl(url); where.ok() && where->kind == StoreUrl::Kind::kFile) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(where->location.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        !sqlite::RegisterTokenizer(db).ok()) {
      Die("open", Status::IOError(sqlite3_errmsg(db)));
    }
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db,
                       "SELECT rowid FROM episode_fts WHERE episode_fts MATCH ? "
                       "ORDER BY bm25(episode_fts) LIMIT 5",
                       -1, &st, nullptr);
    std::vector<double> fts;
    for (int i = 0; i < queries; ++i) {
      const EvalTask& t = EvalTasks()[static_cast<size_t>(i) % EvalTasks().size()];
      // The terms engram searches: each word as written and as its stem.
      std::vector<std::string> quoted;
      for (const auto& w : QueryWords(
               t.phrasings[static_cast<size_t>(i) / EvalTasks().size() % t.phrasings.size()])) {
        auto tokens = sqlite::Tokenize(db, w);
        if (!tokens.ok()) Die("tokenize", tokens.status());
        for (const auto* list : {&tokens->words, &tokens->stems}) {
          for (const auto& term : *list) quoted.push_back('"' + term + '"');
        }
      }
      const std::string match = fmt::format("{}", fmt::join(quoted, " OR "));
      Stopwatch watch;
      sqlite3_bind_text(st, 1, match.c_str(), -1, SQLITE_TRANSIENT);
      int rows = 0;
      while (sqlite3_step(st) == SQLITE_ROW) ++rows;
      sqlite3_reset(st);
      fts.push_back(watch.seconds() * 1000);
      if (rows == 0) Die("fts5 bm25", Status::NotFound(match));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    out.fts5 = latencies(fts);
  }

  // Suggestions: an open episode per task, two calls of its plan in.
  std::vector<std::string> open;
  for (const EvalTask& t : EvalTasks()) {
    EpisodeSpec spec;
    spec.task = t.phrasings[0];
    spec.task_type = t.type;
    spec.context.domain = t.domain;
    spec.context.language = t.language;
    spec.context.framework = t.framework;
    auto id = m->start_episode(spec);
    if (!id.ok()) Die("start_episode", id.status());
    for (size_t i = 0; i < 2 && i < t.plan.size(); ++i) {
      ExecutionStep s;
      s.tool = t.plan[i].tool;
      s.action = t.plan[i].action;
      s.observation = t.plan[i].observation;
      if (auto n = m->log_step(*id, s); !n.ok()) Die("log_step", n.status());
    }
    open.push_back(*id);
  }
  std::vector<double> suggested;
  for (int i = 0; i < queries; ++i) {
    Stopwatch watch;
    auto r = m->suggest(open[static_cast<size_t>(i) % open.size()], 5);
    suggested.push_back(watch.seconds() * 1000);
    if (!r.ok() || r->suggestions.empty()) Die("suggest", r.status());
  }
  for (const auto& id : open) (void)m->delete_episode(id);
  out.suggest = latencies(suggested);
  return out;
}

namespace {

// An eval-set attempt as an OpenAI chat transcript: a system prompt (when not empty), the
// user's task, then per step an assistant turn calling the tool and the tool's reply, its
// observation padded by `padding` bytes.
nlohmann::json ChatMessages(const Attempt& a, const std::string& system, size_t padding) {
  nlohmann::json messages = nlohmann::json::array();
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
  messages.push_back({{"role", "user"}, {"content", a.spec.task}});
  for (size_t i = 0; i < a.steps.size(); ++i) {
    const auto& s = a.steps[i];
    const std::string id = fmt::format("call_{}", i);
    messages.push_back(
        {{"role", "assistant"},
         {"content", nullptr},
         {"tool_calls",
          {{{"id", id},
            {"type", "function"},
            {"function",
             {{"name", s.tool}, {"arguments", nlohmann::json{{"cmd", s.action}}.dump()}}}}}}});
    messages.push_back({{"role", "tool"},
                        {"tool_call_id", id},
                        {"content", (s.success ? s.observation : "Error: " + s.observation) +
                                        std::string(padding, 'o')}});
  }
  return messages;
}

}  // namespace

double ImportConversationsPerSecond(const std::filesystem::path& dir, const char* cli,
                                    int conversations, const std::string& url) {
  // Each eval-set attempt as a transcript: the user's task, then per step an assistant turn
  // calling the tool and the tool's reply; about 10 tool calls each.
  const auto file = dir / "conversations.jsonl";
  {
    std::ofstream out(file);
    std::mt19937_64 rng(11);
    for (int c = 0; c < conversations; ++c) {
      const auto task = static_cast<size_t>(c) % EvalTasks().size();
      Attempt a = MakeAttempt(task, c, rng, /*noise=*/true, /*pad_to=*/10);
      const nlohmann::json messages = ChatMessages(a, "", 0);
      out << nlohmann::json{{"messages", messages},
                            {"reward", a.outcome.kind == OutcomeKind::kSuccess ? 1 : 0}}
                 .dump()
          << "\n";
    }
    if (!out.flush()) {
      std::fprintf(stderr, "bench: cannot write %s\n", file.string().c_str());
      std::exit(1);
    }
  }
  const std::string db = url.empty() ? "sqlite://" + (dir / "import.db").string() : url;
  const std::string cmd =
      fmt::format("'{}' --db '{}' import '{}' --format openai-chat", cli, db, file.string());
  Stopwatch watch;
  FILE* p = popen(cmd.c_str(), "r");
  char line[256] = {};
  std::string summary;
  while (p && std::fgets(line, sizeof line, p)) summary += line;
  const int rc = p ? pclose(p) : -1;
  const double seconds = watch.seconds();
  if (rc != 0 ||
      summary.find(fmt::format("imported {} episode(s)", conversations)) == std::string::npos) {
    std::fprintf(stderr, "bench: %s: %s\n", cmd.c_str(), summary.c_str());
    std::exit(1);
  }
  return conversations / seconds;
}

ImportMemory ImportPeakRss(const std::filesystem::path& dir, const char* cli, int64_t bytes) {
  // Conversations of 4 tool calls, about 3 KB each, as JSON Lines, until the file holds
  // `bytes`: the CLI must read them as they come, whatever the file's size.
  ImportMemory m;
  const auto file = dir / "large.jsonl";
  {
    std::ofstream out(file);
    std::mt19937_64 rng(13);
    const auto& tasks = EvalTasks();
    while (m.file_bytes < bytes) {
      Attempt a = MakeAttempt(static_cast<size_t>(m.conversations) % tasks.size(),
                              static_cast<int>(m.conversations), rng, /*noise=*/true,
                              /*pad_to=*/4);
      const nlohmann::json messages = ChatMessages(a, std::string(600, 's'), 400);
      const std::string line = nlohmann::json{{"messages", messages}}.dump() + "\n";
      out << line;
      m.file_bytes += static_cast<int64_t>(line.size());
      ++m.conversations;
    }
    if (!out.flush()) {
      std::fprintf(stderr, "bench: cannot write %s\n", file.string().c_str());
      std::exit(1);
    }
  }
  const std::string db = "sqlite://" + (dir / "large.db").string();
  const pid_t pid = fork();
  if (pid == 0) {
    if (std::freopen("/dev/null", "w", stdout) == nullptr) _exit(127);
    execl(cli, cli, "--db", db.c_str(), "import", file.string().c_str(), "--format", "openai-chat",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench: importing %s failed\n", file.string().c_str());
    std::exit(1);
  }
  m.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  std::filesystem::remove(file);
  std::filesystem::remove(dir / "large.db");
  std::filesystem::remove(dir / "large.db-wal");
  std::filesystem::remove(dir / "large.db-shm");
  return m;
}

}  // namespace engram::bench
