// engram hook claude-code as Claude Code runs it: a process per event, fed the event on stdin,
// on the default store (a SQLite file under $XDG_DATA_HOME). Timed from spawn to exit.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <map>

#include "bench_common.h"

extern char** environ;

namespace engram::bench {
namespace {

// Runs `argv` with stdin from `input` and stdout to /dev/null; its wall time in ms.
double Run(const std::vector<std::string>& argv, const std::filesystem::path& input,
           const std::vector<std::string>& env) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data()) != 0) {
    fmt::print(stderr, "cannot run {}\n", argv[0]);
    std::exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  posix_spawn_file_actions_destroy(&actions);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fmt::print(stderr, "{} exited with {}\n", argv[0], status);
    std::exit(1);
  }
  return ms;
}

}  // namespace

HookFigures MeasureHook(const std::filesystem::path& dir, const char* cli, int sessions,
                        int calls) {
  const auto home = dir / "hook-home";
  std::filesystem::create_directories(home);
  const std::vector<std::string> env = {"XDG_DATA_HOME=" + home.string(),
                                        "XDG_RUNTIME_DIR=" + home.string()};
  const auto input = dir / "event.json";
  HookFigures f;
  auto event = [&](const nlohmann::json& e, std::vector<double>& into) {
    std::ofstream(input, std::ios::trunc) << e.dump() << "\n";
    const double ms = Run({cli, "hook", "claude-code"}, input, env);
    into.push_back(ms);
    f.all.push_back(ms);
  };
  const char* topics[] = {"tokenizer", "parser", "lexer", "formatter", "linker"};
  for (int s = 0; s < sessions; ++s) {
    const std::string id = fmt::format("bench-session-{}", s);
    const std::string topic = topics[s % 5];
    event({{"session_id", id}, {"hook_event_name", "SessionStart"}, {"source", "startup"}},
          f.other);
    event({{"session_id", id},
           {"hook_event_name", "UserPromptSubmit"},
           {"prompt", fmt::format("Fix the failing {} test in the {} crate", topic, topic)}},
          f.first_prompt);
    for (int c = 0; c < calls; ++c) {
      const std::string call = fmt::format("toolu_{}_{}", s, c);
      const nlohmann::json input_json = {{"command", fmt::format("cargo test {} {}", topic, c)}};
      event({{"session_id", id},
             {"hook_event_name", "PreToolUse"},
             {"tool_name", "Bash"},
             {"tool_use_id", call},
             {"tool_input", input_json}},
            f.pre_tool);
      event({{"session_id", id},
             {"hook_event_name", "PostToolUse"},
             {"tool_name", "Bash"},
             {"tool_use_id", call},
             {"tool_input", input_json},
             {"tool_response",
              {{"stdout", std::string(2000, 'o')}, {"stderr", ""}, {"interrupted", false}}}},
            f.post_tool);
    }
    event({{"session_id", id}, {"hook_event_name", "Stop"}}, f.other);
    event({{"session_id", id}, {"hook_event_name", "SessionEnd"}, {"reason", "other"}}, f.other);
  }
  // The floor: starting the same binary for nothing.
  std::ofstream(input, std::ios::trunc) << "\n";
  for (int i = 0; i < 50; ++i) f.version.push_back(Run({cli, "--version"}, input, env));
  return f;
}

}  // namespace engram::bench
