// engram demo: records a few realistic agent episodes, completes them and prints them back.
#include <fmt/format.h>

#include <iostream>

#include "cli/cli.h"

namespace engram::cli {
namespace {

using json = nlohmann::ordered_json;

struct DemoStep {
  const char* tool;
  const char* action;
  int64_t latency_ms;
  std::optional<int64_t> tokens;
  bool success;
  const char* observation;
  json parameters = json::object();
};

struct DemoEpisode {
  EpisodeSpec spec;
  std::vector<DemoStep> steps;
  Outcome outcome;
};

std::vector<DemoEpisode> Episodes() {
  std::vector<DemoEpisode> out;

  DemoEpisode add_flag;
  add_flag.spec.task = "Add a --verbose flag to the ripgrep-lite CLI";
  add_flag.spec.task_type = TaskType::kCodeGeneration;
  add_flag.spec.context = {"cli", "rust", "clap", Complexity::kModerate, {"feature", "demo"}};
  add_flag.steps = {
      {"git", "status --short", 35, {}, true, "clean working tree on branch feat/verbose"},
      {"claude", "generate: add a verbose flag to Args and thread it to the searcher", 6400, 2310,
       true, "patched src/args.rs and src/search.rs (+41 -6)",
       json{{"model", "claude-sonnet"}, {"temperature", 0.2}}},
      {"cargo",
       "build",
       8200,
       {},
       false,
       "error[E0425]: cannot find value `verbose` in this scope --> src/search.rs:88:12"},
      {"claude", "fix: pass args.verbose into Searcher::new", 2100, 640, true,
       "patched src/search.rs (+2 -1)"},
      {"cargo", "build", 7900, {}, true, "Finished dev [unoptimized + debuginfo] target(s)"},
      {"cargo", "clippy -- -D warnings", 5300, {}, true, "no warnings"},
      {"cargo", "test", 12400, {}, true, "test result: ok. 48 passed; 0 failed"},
      {"git", "commit -am \"Add --verbose flag\"", 80, {}, true, "[feat/verbose 3f2a9c1] 2 files"},
  };
  add_flag.outcome = {OutcomeKind::kSuccess,
                      "--verbose prints each file searched",
                      {"src/args.rs", "src/search.rs"},
                      {},
                      {}};
  out.push_back(std::move(add_flag));

  DemoEpisode flaky;
  flaky.spec.task = "Fix the flaky integration test test_concurrent_downloads";
  flaky.spec.task_type = TaskType::kDebugging;
  flaky.spec.context = {
      "networking", "rust", "tokio", Complexity::kComplex, {"flaky", "ci", "demo"}};
  flaky.steps = {
      {"cargo",
       "test --test integration_test",
       31000,
       {},
       false,
       "test test_concurrent_downloads ... FAILED: timed out after 30s"},
      {"bash",
       "grep -n 'Semaphore' tests/integration_test.rs",
       20,
       {},
       true,
       "42: let permits = Semaphore::new(4);"},
      {"claude", "explain why 8 downloads hang on 4 permits", 4800, 1520, true,
       "permits are acquired twice per download and never released on the error path"},
      {"bash", "apply patch: release the permit in a guard", 150, {}, true, "1 file changed"},
      {"cargo",
       "test --test integration_test",
       9100,
       {},
       false,
       "assertion failed: `(left == right)` left: 7, right: 8"},
      {"claude", "fix: count completed downloads after join_all", 2600, 710, true,
       "patched tests/integration_test.rs (+3 -2)"},
      {"cargo",
       "test --test integration_test",
       8800,
       {},
       true,
       "test result: ok. 12 passed; 0 failed"},
  };
  flaky.outcome = {OutcomeKind::kSuccess,
                   "permit released in a guard; test passes 50 runs in a row",
                   {},
                   {},
                   {}};
  out.push_back(std::move(flaky));

  DemoEpisode docs;
  docs.spec.task = "Write the API reference for the search module";
  docs.spec.task_type = TaskType::kDocumentation;
  docs.spec.context = {"cli", "rust", {}, Complexity::kSimple, {"docs", "demo"}};
  docs.steps = {
      {"bash", "cargo doc --no-deps", 15200, {}, true, "Generated target/doc/ripgrep_lite"},
      {"claude", "generate: rustdoc comments for pub items of src/search.rs", 11800, 4120, true,
       "documented 14 public items", json{{"model", "claude-sonnet"}, {"max_tokens", 8192}}},
      {"cargo", "test --doc", 6700, {}, false, "2 doctests failed: Searcher::with_glob"},
      {"claude", "fix the two failing doctest examples", 3100, 980, true, "patched 2 examples"},
      {"cargo", "test --doc", 6400, {}, true, "test result: ok. 14 passed"},
  };
  docs.outcome = {OutcomeKind::kPartialSuccess,
                  "search module documented; examples for the glob matcher still missing",
                  {"src/search.rs"},
                  {"rustdoc for 14 public items", "doctests pass"},
                  {"examples for Searcher::with_glob"}};
  out.push_back(std::move(docs));
  return out;
}

}  // namespace

void AddDemoCommand(CLI::App& app, GlobalFlags& flags) {
  auto* cmd = app.add_subcommand(
      "demo", "Record three realistic agent episodes, complete them and print them back");
  cmd->callback([&flags] {
    const std::string url = Check(ResolveDatabaseUrl(flags));
    auto memory = Check(Memory::open(url));
    json all = json::array();
    for (auto& demo : Episodes()) {
      demo.spec.metadata = json{{"source", "engram demo"}};
      const std::string id = Check(memory->start_episode(demo.spec));
      for (const auto& d : demo.steps) {
        ExecutionStep step;
        step.tool = d.tool;
        step.action = d.action;
        step.latency_ms = d.latency_ms;
        step.tokens = d.tokens;
        step.success = d.success;
        step.observation = d.observation;
        step.parameters = d.parameters;
        Check(memory->log_step(id, std::move(step)));
      }
      Episode e = Check(memory->complete_episode(id, demo.outcome));
      if (flags.json) {
        all.push_back(to_json(e));
      } else {
        std::cout << RenderEpisode(e) << "\n";
      }
    }
    if (flags.json) {
      std::cout << json{{"episodes", all}}.dump(2) << "\n";
    } else {
      PatternFilter recurring;
      recurring.min_support = 2;
      auto patterns = Check(memory->list_patterns(recurring));
      if (patterns.size() > 6) patterns.resize(6);
      if (!patterns.empty()) {
        std::cout << "Patterns engram has learnt so far (seen in at least two episodes):\n"
                  << RenderPatternList(patterns) << "\n";
      }
      // A new task arrives: what does engram remember that helps?
      RecallQuery q;
      q.task = "Add a --quiet flag to the CLI and make sure the build passes";
      q.context.domain = "cli";
      q.context.language = "rust";
      q.k = 3;
      q.token_budget = 300;
      Recall r = Check(memory->recall(q));
      std::cout << fmt::format("A new task: \"{}\" (domain cli, language rust)\n", q.task)
                << fmt::format("engram recall finds:\n") << RenderRecall(r) << "\n";
      std::cout << fmt::format(
          "Recorded {} episodes in {}.\nTry: {} episode list   |   {} episode show ID --json   "
          "|   {} recall \"fix a flaky test\"   |   {} stats\n",
          Episodes().size(), url, flags.program, flags.program, flags.program, flags.program);
    }
  });
}

}  // namespace engram::cli
