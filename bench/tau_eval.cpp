#include "tau_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include "core/openai_chat.h"

namespace engram::bench {
namespace {

using nlohmann::json;

struct TauAttempt {
  int task_id = 0;
  int trial = 0;
  double reward = 0;
  json traj;
};

[[noreturn]] void Fail(const std::string& what) {
  fmt::print(stderr, "bench: {}\n", what);
  std::exit(1);
}

std::vector<TauAttempt> LoadAttempts(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) Fail("cannot read " + file.string());
  std::vector<TauAttempt> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    out.push_back({j.at("task_id").get<int>(), j.at("trial").get<int>(),
                   j.at("reward").get<double>(), j.at("traj")});
  }
  return out;
}

std::string FirstUserMessage(const json& traj) {
  for (const auto& m : traj) {
    if (m.value("role", "") == "user" && m["content"].is_string()) return m["content"];
  }
  return "";
}

// Every message but the system one, tool calls' names and arguments included.
std::string WholeTranscript(const json& traj) {
  std::string out;
  for (const auto& m : traj) {
    if (m.value("role", "") == "system") continue;
    if (m.contains("content") && m["content"].is_string()) out += m["content"].get<std::string>();
    out += ' ';
    if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
      for (const auto& c : m["tool_calls"]) {
        out += c["function"].value("name", "") + ' ' + c["function"].value("arguments", "") + ' ';
      }
    }
  }
  return out;
}

// The baseline's tokens: [a-z0-9]+ of the lower-cased text, no stemming, no stop words.
std::vector<std::string> Tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
      word += l;
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

// Plain BM25 (k1 1.2, b 0.75, idf log(1 + (N - n + 0.5) / (n + 0.5))), every query token
// counted as often as it occurs in the query.
class PlainBm25 {
 public:
  explicit PlainBm25(const std::vector<std::string>& documents) {
    for (const auto& d : documents) {
      auto& tf = tf_.emplace_back();
      const auto tokens = Tokens(d);
      length_.push_back(static_cast<double>(tokens.size()));
      for (const auto& t : tokens) ++tf[t];
      for (const auto& [t, n] : tf) ++df_[t];
    }
    for (double l : length_) average_ += l / static_cast<double>(length_.size());
  }

  std::vector<double> scores(std::string_view query) const {
    constexpr double k1 = 1.2, b = 0.75;
    const double n = static_cast<double>(tf_.size());
    std::vector<double> out(tf_.size(), 0.0);
    for (const auto& t : Tokens(query)) {
      auto df = df_.find(t);
      if (df == df_.end()) continue;
      const double idf = std::log(1 + (n - df->second + 0.5) / (df->second + 0.5));
      for (size_t d = 0; d < tf_.size(); ++d) {
        auto f = tf_[d].find(t);
        if (f == tf_[d].end()) continue;
        out[d] +=
            idf * f->second * (k1 + 1) / (f->second + k1 * (1 - b + b * length_[d] / average_));
      }
    }
    return out;
  }

 private:
  std::vector<std::unordered_map<std::string, double>> tf_;
  std::unordered_map<std::string, double> df_;
  std::vector<double> length_;
  double average_ = 0;
};

// Adds one query's result: `ranked` are the task ids of the first five answers, best first.
void Score(const std::vector<int>& ranked, int relevant, Quality& q) {
  ++q.queries;
  for (size_t i = 0; i < std::min<size_t>(ranked.size(), 5); ++i) {
    if (ranked[i] != relevant) continue;
    q.recall_at_5 += 1;
    q.mrr += 1.0 / static_cast<double>(i + 1);
    return;
  }
}

std::vector<int> TopFive(const std::vector<double>& scores, const std::vector<int>& task_of) {
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<int> out;
  for (size_t i = 0; i < std::min<size_t>(order.size(), 5); ++i) out.push_back(task_of[order[i]]);
  return out;
}

// Steps that are conversation turns rather than tool calls in an imported transcript.
bool IsTurn(const std::string& tool) {
  return tool == "llm" || tool == "user";
}

std::vector<std::string> ToolCalls(const Episode& e) {
  std::vector<std::string> out;
  for (const auto& s : e.steps) {
    if (!IsTurn(s.tool)) out.push_back(s.tool);
  }
  return out;
}

Episode AsEpisode(const json& traj) {
  auto e = EpisodeFromOpenAiChat(traj, Limits{});
  if (!e.ok()) Fail("a tau-bench transcript: " + e.status().message());
  return std::move(*e);
}

// The bigram baseline: after the current tool ("" at the start), the tools that followed it
// most often in the stored attempts, ties broken by how often each was called at all.
class Bigram {
 public:
  void learn(const std::vector<std::string>& calls) {
    std::string previous;
    for (const auto& t : calls) {
      ++next_[previous][t];
      ++overall_[t];
      previous = t;
    }
  }
  std::vector<std::string> predict(const std::string& current, size_t k) const {
    std::vector<std::string> tools;
    for (const auto& [t, n] : overall_) tools.push_back(t);
    const auto it = next_.find(current);
    auto count = [&](const std::string& t) {
      if (it == next_.end()) return 0;
      auto c = it->second.find(t);
      return c == it->second.end() ? 0 : c->second;
    };
    std::stable_sort(tools.begin(), tools.end(), [&](const auto& a, const auto& b) {
      if (count(a) != count(b)) return count(a) > count(b);
      return overall_.at(a) > overall_.at(b);
    });
    if (tools.size() > k) tools.resize(k);
    return tools;
  }

 private:
  std::map<std::string, std::map<std::string, int>> next_;
  std::map<std::string, int> overall_;
};

void Tally(const std::vector<std::string>& predicted, const std::string& actual, Accuracy& a) {
  ++a.positions;
  for (size_t i = 0; i < std::min<size_t>(predicted.size(), 3); ++i) {
    if (predicted[i] != actual) continue;
    a.top3 += 1;
    if (i == 0) a.top1 += 1;
    break;
  }
}

}  // namespace

TauEval EvaluateTau(const std::string& url, const char* cli, const std::filesystem::path& dir) {
  const auto attempts = LoadAttempts(std::filesystem::path(ENGRAM_BENCH_DATA) / "tau-airline-dev" /
                                     "trajectories.jsonl");
  // Per task, the attempt with the highest trial is held out; the others are stored.
  std::map<int, const TauAttempt*> held;
  for (const auto& a : attempts) {
    if (!held.count(a.task_id) || held[a.task_id]->trial < a.trial) held[a.task_id] = &a;
  }
  std::vector<const TauAttempt*> stored;
  for (const auto& a : attempts) {
    if (held[a.task_id] != &a) stored.push_back(&a);
  }

  const auto file = dir / "tau-stored.jsonl";
  {
    std::ofstream out(file);
    for (const auto* a : stored) {
      out << json{{"messages", a->traj},
                  {"reward", a->reward},
                  {"metadata", {{"task_id", std::to_string(a->task_id)}}}}
                 .dump()
          << "\n";
    }
    if (!out.flush()) Fail("cannot write " + file.string());
  }
  const std::string cmd =
      fmt::format("'{}' --db '{}' import '{}' --format openai-chat", cli, url, file.string());
  FILE* p = popen(cmd.c_str(), "r");
  std::string summary;
  char line[256] = {};
  while (p && std::fgets(line, sizeof line, p)) summary += line;
  if (!p || pclose(p) != 0 ||
      summary.find(fmt::format("imported {} episode(s)", stored.size())) == std::string::npos) {
    Fail(cmd + ": " + summary);
  }

  TauEval out;
  out.tasks = static_cast<int>(held.size());
  out.stored = static_cast<int>(stored.size());
  out.queries = static_cast<int>(held.size());
  auto m = OpenOrDie(url);
  EpisodeFilter all;
  all.limit = 10'000;
  auto page = m->list_episodes(all);
  if (!page.ok()) Die("list_episodes", page.status());
  std::map<std::string, int> task_of_id;
  for (const auto& e : page->episodes) {
    task_of_id[e.id] = std::stoi(e.metadata.at("task_id").get<std::string>());
  }

  std::vector<std::string> whole, first;
  std::vector<int> task_of;
  Bigram bigram;
  for (const auto* a : stored) {
    whole.push_back(WholeTranscript(a->traj));
    first.push_back(FirstUserMessage(a->traj));
    task_of.push_back(a->task_id);
    bigram.learn(ToolCalls(AsEpisode(a->traj)));
  }
  const PlainBm25 bm25_whole(whole), bm25_first(first);

  for (const auto& [task, a] : held) {
    const std::string query = FirstUserMessage(a->traj);
    Score(TopFive(bm25_whole.scores(query), task_of), task, out.bm25_whole);
    Score(TopFive(bm25_first.scores(query), task_of), task, out.bm25_first);
    for (auto [weights, q] : {std::pair{RecallWeights{}, &out.engram},
                              std::pair{RecallWeights{1, 0, 0, 0}, &out.engram_text_alone}}) {
      RecallQuery rq;
      rq.task = query;
      rq.k = 5;
      rq.weights = weights;
      rq.token_budget = 0;
      auto got = m->recall(rq);
      if (!got.ok()) Die("recall", got.status());
      std::vector<int> ranked;
      for (const auto& e : got->episodes) ranked.push_back(task_of_id.at(e.id));
      Score(ranked, task, *q);
    }

    // Suggestions: the held-out attempt replayed into an open episode, asked before each call.
    Episode replay = AsEpisode(a->traj);
    auto id = m->start_episode({replay.task, replay.task_type, replay.context, {}, {}});
    if (!id.ok()) Die("start_episode", id.status());
    std::string current;
    for (auto& step : replay.steps) {
      if (!IsTurn(step.tool)) {
        auto suggested = m->suggest(*id, 3);
        if (!suggested.ok()) Die("suggest", suggested.status());
        std::vector<std::string> tools;
        for (const auto& s : suggested->suggestions) tools.push_back(s.tool);
        Tally(tools, step.tool, out.engram_suggest);
        Tally(bigram.predict(current, 3), step.tool, out.bigram);
        current = step.tool;
      }
      step.step_number = 0;
      step.timestamp.clear();
      if (auto s = m->log_step(*id, std::move(step)); !s.ok()) Die("log_step", s.status());
    }
    if (Status s = m->delete_episode(*id); !s.ok()) Die("delete_episode", s);
  }
  for (Quality* q : {&out.engram, &out.engram_text_alone, &out.bm25_whole, &out.bm25_first}) {
    q->recall_at_5 /= q->queries;
    q->mrr /= q->queries;
  }
  for (Accuracy* a : {&out.engram_suggest, &out.bigram}) {
    a->top1 /= a->positions;
    a->top3 /= a->positions;
  }
  return out;
}

void PrintTau(const TauEval& sqlite, const TauEval* postgres) {
  fmt::print(
      "\nrecall on real agent work: tau-bench airline development set, {} tasks, {} attempts "
      "stored, {} queries (each task's held-out attempt's first user message, no context, k 5)\n\n",
      sqlite.tasks, sqlite.stored, sqlite.queries);
  fmt::print("| ranking | recall@5 | MRR | target | met |\n|---|---:|---:|---|---|\n");
  const double best_r5 = std::max(sqlite.bm25_whole.recall_at_5, sqlite.bm25_first.recall_at_5);
  const double best_mrr = std::max(sqlite.bm25_whole.mrr, sqlite.bm25_first.mrr);
  const bool r5_met = sqlite.engram.recall_at_5 >= 0.92 && sqlite.engram.recall_at_5 > best_r5;
  const bool mrr_met = sqlite.engram.mrr >= 0.82 && sqlite.engram.mrr > best_mrr;
  fmt::print(
      "| engram recall (SQLite) | {:.3f} | {:.3f} | recall@5 >= 0.92, MRR >= 0.82, both above "
      "both baselines | recall@5 {}, MRR {} |\n",
      sqlite.engram.recall_at_5, sqlite.engram.mrr, r5_met ? "yes" : "NO", mrr_met ? "yes" : "NO");
  fmt::print("| engram recall, text signal alone | {:.3f} | {:.3f} | engram >= this | {} |\n",
             sqlite.engram_text_alone.recall_at_5, sqlite.engram_text_alone.mrr,
             sqlite.engram.recall_at_5 >= sqlite.engram_text_alone.recall_at_5 &&
                     sqlite.engram.mrr >= sqlite.engram_text_alone.mrr
                 ? "yes"
                 : "NO");
  if (postgres) {
    const double gap = std::abs(postgres->engram.recall_at_5 - sqlite.engram.recall_at_5);
    fmt::print(
        "| engram recall (PostgreSQL) | {:.3f} | {:.3f} | recall@5 within 0.03 of SQLite | {} |\n",
        postgres->engram.recall_at_5, postgres->engram.mrr, gap <= 0.03 ? "yes" : "NO");
  }
  fmt::print("| plain BM25, whole transcripts | {:.3f} | {:.3f} | baseline | |\n",
             sqlite.bm25_whole.recall_at_5, sqlite.bm25_whole.mrr);
  fmt::print("| plain BM25, first user messages | {:.3f} | {:.3f} | baseline | |\n",
             sqlite.bm25_first.recall_at_5, sqlite.bm25_first.mrr);

  fmt::print(
      "\nnext-step suggestions on the same split: {} tool calls of the held-out attempts, each "
      "asked before it is made\n\n",
      sqlite.engram_suggest.positions);
  fmt::print("| suggester | top-1 | top-3 | target | met |\n|---|---:|---:|---|---|\n");
  const auto& s = sqlite.engram_suggest;
  const auto& b = sqlite.bigram;
  fmt::print(
      "| engram suggest (SQLite) | {:.3f} | {:.3f} | top-1 >= bigram + 0.05, top-3 >= 0.88 | "
      "top-1 {}, top-3 {} |\n",
      s.top1, s.top3, s.top1 >= b.top1 + 0.05 ? "yes" : "NO", s.top3 >= 0.88 ? "yes" : "NO");
  if (postgres) {
    fmt::print("| engram suggest (PostgreSQL) | {:.3f} | {:.3f} | | |\n",
               postgres->engram_suggest.top1, postgres->engram_suggest.top3);
  }
  fmt::print(
      "| bigram: most frequent next tool after the current one | {:.3f} | {:.3f} | baseline | |\n",
      b.top1, b.top3);
}

}  // namespace engram::bench
