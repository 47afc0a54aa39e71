// engram recall, engram suggest
#include <fmt/format.h>

#include <iostream>

#include "cli/cli.h"

namespace engram::cli {
namespace {

struct RecallArgs {
  std::string task, k = "5", budget = "500";
  ContextFlags context;  // matching episodes rank higher
};

}  // namespace

std::string RenderRecall(const Recall& r) {
  if (r.episodes.empty()) return "no past episodes match; complete some episodes first\n";
  std::string out;
  for (size_t i = 0; i < r.episodes.size(); ++i) {
    const auto& e = r.episodes[i];
    std::string outcome = e.outcome ? std::string(to_string(e.outcome->kind)) : "open";
    if (e.reward) outcome += fmt::format(", reward {:.2f}", *e.reward);
    out += fmt::format("{:>2}. {:.2f}  {}{}  [{}]\n", i + 1, e.score, e.warning ? "WARNING " : "",
                       e.task, outcome);
    std::vector<std::string> why;
    for (const auto& [signal, part] : e.why) why.push_back(fmt::format("{} {:.2f}", signal, part));
    out += fmt::format("      {}  why: {}\n", e.id, fmt::join(why, ", "));
    for (const auto& l : e.lessons) out += fmt::format("      - {}\n", l);
  }
  if (!r.patterns.empty()) {
    out += "\npatterns that apply\n";
    for (const auto& p : r.patterns) {
      out += fmt::format("  {}  {:<15} in {} here, {:.0f}% success  {}\n", p.pattern.id,
                         to_string(p.pattern.type), p.seen_in, p.success_here * 100,
                         DescribePattern(p.pattern));
    }
  }
  out += fmt::format("\nplaybook ({} tokens)\n{}", r.playbook_tokens, r.playbook);
  return out;
}

void AddRecallCommand(CLI::App& app, GlobalFlags& flags) {
  auto args = std::make_shared<RecallArgs>();
  auto* cmd = app.add_subcommand(
      "recall", "Past episodes, patterns and a playbook for a new task, each with why");
  cmd->add_option("task", args->task, "The new task, in words")->required();
  args->context.AddTo(*cmd);
  cmd->add_option("--k", args->k, fmt::format("Episodes to return, 1-{} (default 5)", kMaxRecallK));
  cmd->add_option("--budget", args->budget, "The playbook's size in tokens (default 500)");
  cmd->callback([args, &flags] {
    RecallQuery q;
    q.task = args->task;
    q.context = args->context.ToContext();
    q.k = ParseCount("k", args->k, 1);
    q.token_budget = ParseCount("budget", args->budget, 0);
    Recall r = Check(OpenMemory(flags)->recall(q));
    if (flags.json) {
      std::cout << to_json(r).dump(2) << "\n";
    } else {
      std::cout << RenderRecall(r);
    }
  });
}

std::string RenderSuggestions(const Suggestions& s) {
  if (s.suggestions.empty()) {
    return "no suggestion: no similar past episode or learnt pattern speaks to this point\n";
  }
  std::string out;
  for (size_t i = 0; i < s.suggestions.size(); ++i) {
    const auto& x = s.suggestions[i];
    out += fmt::format("{:>2}. {:.2f}  {}  (support {}, {:.0f}% success)\n", i + 1, x.score, x.tool,
                       x.support, x.success_rate * 100);
    if (!x.example_action.empty()) out += fmt::format("      e.g. {}\n", x.example_action);
    out += fmt::format("      why: {}\n", x.why);
  }
  return out;
}

void AddSuggestCommand(CLI::App& app, GlobalFlags& flags) {
  auto id = std::make_shared<std::string>();
  auto k = std::make_shared<std::string>("5");
  auto* cmd = app.add_subcommand(
      "suggest", "What an episode might do next, from what similar past episodes did there");
  cmd->add_option("id", *id, "The episode's id")->required();
  cmd->add_option("--k", *k,
                  fmt::format("Suggestions to return, 1-{} (default 5)", kMaxSuggestions));
  cmd->callback([id, k, &flags] {
    Suggestions s = Check(OpenMemory(flags)->suggest(*id, ParseCount("k", *k, 1)));
    if (flags.json) {
      std::cout << to_json(s).dump(2) << "\n";
    } else {
      std::cout << RenderSuggestions(s);
    }
  });
}

}  // namespace engram::cli
