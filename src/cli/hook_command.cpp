// engram hook claude-code: Claude Code's hook events recorded as an episode per session, and the
// first prompt answered with what engram learnt from past sessions.
//
// A hook must never get in the agent's way: whatever happens (a malformed event, a store that
// cannot be opened), the command exits 0 with one line on stderr. Each event is its own process;
// parallel tool calls run at once, their steps numbered in arrival order by the store.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "cli/line_reader.h"
#include "core/claude_code.h"
#include "core/utf8.h"

namespace engram::cli {
namespace {

namespace cc = claude_code;
namespace fs = std::filesystem;

struct HookArgs {
  int64_t budget = 500;
  bool no_recall = false;
  bool print_config = false;
};

// A hook's failure: one line on stderr, exit 0.
struct HookError {
  std::string message;
};

void Require(const Status& s) {
  if (!s.ok()) throw HookError{s.message()};
}
template <typename T>
T Require(Result<T> r) {
  Require(r.status());
  return std::move(r).value();
}

// The folder where PreToolUse leaves each call's start for its PostToolUse:
// $XDG_RUNTIME_DIR/engram-hooks, else /tmp/engram-hooks-<uid>.
fs::path TimingRoot() {
  if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run && *run) {
    return fs::path(run) / "engram-hooks";
  }
  return fs::temp_directory_path() / fmt::format("engram-hooks-{}", getuid());
}

// An id as a file name: itself when it is made of letters, digits, '-' and '_' (as Claude
// Code's ids are), else nothing (no timing for it).
std::optional<std::string> FileName(std::string_view id) {
  if (id.empty() || id.size() > 200) return std::nullopt;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return std::nullopt;
  }
  return std::string(id);
}

// The file of a call's start; none for ids unfit for a file name, or when the folder is
// another user's (a shared /tmp).
std::optional<fs::path> TimingFile(const cc::HookEvent& e) {
  auto session = FileName(e.session_id), call = FileName(e.tool_use_id);
  if (!session || !call) return std::nullopt;
  const fs::path root = TimingRoot();
  std::error_code ec;
  fs::create_directory(root, ec);
  struct stat st {};
  if (lstat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
    return std::nullopt;
  }
  fs::permissions(root, fs::perms::owner_all, fs::perm_options::replace, ec);
  return root / *session / *call;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// PreToolUse: the call's start, for PostToolUse's latency. Best effort: without it the step
// has no latency.
void NoteStart(const cc::HookEvent& e) {
  auto file = TimingFile(e);
  if (!file) return;
  std::error_code ec;
  fs::create_directories(file->parent_path(), ec);
  std::ofstream(*file) << NowMillis() << "\n";
}

// The milliseconds since the call's PreToolUse, and its note removed; 0 when there was none.
int64_t TakeLatency(const cc::HookEvent& e) {
  auto file = TimingFile(e);
  if (!file) return 0;
  int64_t start = 0;
  std::ifstream(*file) >> start;
  std::error_code ec;
  fs::remove(*file, ec);
  const int64_t now = NowMillis();
  return start > 0 && now >= start ? now - start : 0;
}

// The episode a session's events go to now: the one its name names, or (after a SessionEnd, a
// resumed session) the first of "<name>:2", "<name>:3", ... that is open or free. `found` is
// empty when the name is free.
struct Session {
  std::string name;
  std::optional<NamedEpisode> found;
};
Session FindSession(Memory& memory, const std::string& session_id) {
  const std::string base = cc::SessionName(session_id);
  for (int n = 1;; ++n) {
    Session s{n == 1 ? base : fmt::format("{}:{}", base, n), std::nullopt};
    auto found = memory.find_named_episode(s.name);
    if (!found.ok()) {
      if (found.status().IsNotFound()) return s;
      Require(found.status());
    }
    s.found = std::move(*found);
    if (s.found->status == EpisodeStatus::kOpen || n >= 1000) return s;
  }
}

// The session's open episode, started with `task` when there is none.
NamedEpisode OpenSession(Memory& memory, const cc::HookEvent& e, const std::string& task,
                         const Limits& limits) {
  Session s = FindSession(memory, e.session_id);
  if (s.found && s.found->status == EpisodeStatus::kOpen) return *s.found;
  return Require(memory.start_named_episode(s.name, cc::SessionSpec(e, task, limits)));
}

// The recall playbook for the first prompt, as Claude Code takes added context; "" when nothing
// stored matches the prompt's words.
std::string PlaybookFor(Memory& memory, const std::string& prompt, int64_t budget) {
  RecallQuery q;
  q.task = std::string(Utf8Prefix(StorableText(prompt), Limits{}.max_task_bytes));
  q.k = 5;
  q.token_budget = budget;
  auto recalled = memory.recall(q);
  if (!recalled.ok()) {
    std::cerr << "engram hook: recall: " << recalled.status().message() << "\n";
    return "";
  }
  bool relevant = false;
  for (const auto& ep : recalled->episodes) {
    auto text = ep.why.find("text");
    relevant = relevant || (text != ep.why.end() && text->second > 0);
  }
  return relevant ? recalled->playbook : "";
}

void UserPromptSubmit(Memory& memory, const cc::HookEvent& e, const HookArgs& args) {
  const Limits limits;
  if (e.prompt.empty()) return;
  Session s = FindSession(memory, e.session_id);
  bool first = false;
  if (!s.found || s.found->status != EpisodeStatus::kOpen) {
    auto started =
        Require(memory.start_named_episode(s.name, cc::SessionSpec(e, e.prompt, limits)));
    first = started.started;
    s.found = std::move(started);
  }
  const NamedEpisode& episode = *s.found;
  if (!first && episode.task == cc::PendingTask(e.session_id)) {  // started by SessionStart
    EpisodeAmendment amendment;
    amendment.task = cc::SessionSpec(e, e.prompt, limits).task;
    Require(memory.amend_episode(episode.id, amendment));
    first = true;
  }
  if (!first) {
    Require(memory.log_step(episode.id, cc::PromptStep(e.prompt, limits)));
    return;
  }
  if (args.no_recall) return;
  const std::string playbook = PlaybookFor(memory, e.prompt, args.budget);
  if (playbook.empty()) return;
  nlohmann::ordered_json out = {
      {"hookSpecificOutput",
       {{"hookEventName", "UserPromptSubmit"}, {"additionalContext", playbook}}}};
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void ToolDone(Memory& memory, const cc::HookEvent& e) {
  const Limits limits;
  ExecutionStep step = cc::ToolStep(e, limits);
  step.latency_ms = TakeLatency(e);
  const NamedEpisode episode = OpenSession(memory, e, cc::PendingTask(e.session_id), limits);
  Require(memory.log_step(episode.id, std::move(step)));
}

void SessionEnd(Memory& memory, const cc::HookEvent& e) {
  if (auto session = FileName(e.session_id)) {
    std::error_code ec;
    fs::remove_all(TimingRoot() / *session, ec);
  }
  Session s = FindSession(memory, e.session_id);
  if (!s.found || s.found->status != EpisodeStatus::kOpen) return;
  // A session closed before any prompt or step did nothing: nothing is kept of it.
  if (s.found->steps == 0 && s.found->task == cc::PendingTask(e.session_id)) {
    Require(memory.delete_episode(s.found->id));
    return;
  }
  const Episode episode = Require(memory.get_episode(s.found->id));
  auto done = memory.complete_episode(episode.id, cc::SessionOutcome(episode.steps, e.reason));
  if (!done.ok() && !done.status().IsFailedPrecondition()) Require(done.status());
}

void Record(const GlobalFlags& flags, const HookArgs& args) {
  InputLine input;
  std::string text;
  // The event is one JSON document; read whole, within the limit of a line.
  for (bool more = ReadLine(std::cin, input); more; more = ReadLine(std::cin, input)) {
    if (input.too_long || text.size() + input.text.size() > kMaxLineBytes) {
      throw HookError{fmt::format("the event is over {} bytes", kMaxLineBytes)};
    }
    text += input.text;
    text += '\n';
  }
  auto parsed = parse_json(text);
  if (!parsed.ok()) throw HookError{"the event is " + parsed.status().message()};
  const cc::HookEvent e = Require(cc::ReadHookEvent(*parsed));
  if (e.name == "PreToolUse") return NoteStart(e);  // no store needed
  static constexpr std::string_view kRecorded[] = {"SessionStart", "UserPromptSubmit",
                                                   "PostToolUse",  "PostToolUseFailure",
                                                   "Stop",         "SessionEnd"};
  if (std::find(std::begin(kRecorded), std::end(kRecorded), e.name) == std::end(kRecorded)) {
    return;  // Notification, PreCompact, SubagentStop, ...: nothing to record
  }
  auto url = ResolveDatabaseUrl(flags);
  if (!url.ok()) throw HookError{url.status().message()};
  std::unique_ptr<Memory> memory = Require(Memory::open(*url, Require(OptionsFor(flags))));
  if (e.name == "SessionStart") {
    OpenSession(*memory, e, cc::PendingTask(e.session_id), Limits{});
  } else if (e.name == "UserPromptSubmit") {
    UserPromptSubmit(*memory, e, args);
  } else if (e.name == "PostToolUse" || e.name == "PostToolUseFailure") {
    ToolDone(*memory, e);
  } else if (e.name == "Stop") {
    Require(memory->flush());
  } else if (e.name == "SessionEnd") {
    SessionEnd(*memory, e);
  }
  Require(memory->close());
}

// The command as a shell reads it: each word single-quoted when it needs to be.
std::string ShellWord(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789/._-:=@+,") == std::string::npos) {
    return word;
  }
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void PrintConfig(const GlobalFlags& flags, const HookArgs& args) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) self = fs::absolute(flags.program);
  std::string command = ShellWord(self.string());
  if (!flags.db.empty()) {
    // A file path as an absolute one: hooks run in whatever folder the session is in.
    std::string db = flags.db;
    const bool file = db.rfind("postgres", 0) != 0 && db.find('=') == std::string::npos &&
                      db != "sqlite::memory:" && db != ":memory:";
    if (file) {
      constexpr std::string_view kSqlite = "sqlite://";
      std::string path = db.rfind(kSqlite, 0) == 0 ? db.substr(kSqlite.size()) : db;
      db = "sqlite://" + fs::absolute(path).lexically_normal().string();
    }
    command += " --db " + ShellWord(db);
  }
  if (!flags.redact_config.empty()) {
    command += " --redact-config " + ShellWord(fs::absolute(flags.redact_config).string());
  }
  command += " hook claude-code";
  if (args.budget != 500) command += fmt::format(" --budget {}", args.budget);
  if (args.no_recall) command += " --no-recall";
  const nlohmann::ordered_json handler = {
      {"type", "command"}, {"command", command}, {"timeout", 10}};
  nlohmann::ordered_json hooks;
  for (const char* event : {"SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse",
                            "PostToolUseFailure", "Stop", "SessionEnd"}) {
    nlohmann::ordered_json entry = {{"hooks", nlohmann::ordered_json::array({handler})}};
    const std::string_view name = event;
    if (name == "PreToolUse" || name == "PostToolUse" || name == "PostToolUseFailure") {
      entry = nlohmann::ordered_json{{"matcher", "*"}, {"hooks", entry["hooks"]}};
    }
    hooks[event] = nlohmann::ordered_json::array({entry});
  }
  std::cout << nlohmann::ordered_json{{"hooks", hooks}}.dump(2) << "\n";
}

}  // namespace

void AddHookCommand(CLI::App& app, GlobalFlags& flags) {
  auto* hook = app.add_subcommand("hook", "Record a coding agent's hook events");
  hook->require_subcommand(1);
  auto args = std::make_shared<HookArgs>();
  auto* cc_cmd = hook->add_subcommand(
      "claude-code",
      "Record a Claude Code hook event (JSON on stdin): a session is an episode, a tool call a "
      "step; the first prompt gets the recall playbook. Always exits 0.");
  cc_cmd
      ->add_option("--budget", args->budget,
                   "Tokens of recall playbook given on a session's first prompt")
      ->check(CLI::Range(int64_t{1}, kMaxRecallTokenBudget));
  cc_cmd->add_flag("--no-recall", args->no_recall, "Give nothing back on the first prompt");
  cc_cmd->add_flag("--print-config", args->print_config,
                   "Print the hooks block for ~/.claude/settings.json and exit");
  cc_cmd->callback([&flags, args] {
    if (args->print_config) return PrintConfig(flags, *args);
    try {
      Record(flags, *args);
    } catch (const HookError& e) {
      std::cerr << "engram hook: " << ClipLine(e.message, 1000) << "\n";
    } catch (const std::exception& e) {
      std::cerr << "engram hook: " << ClipLine(e.what(), 1000) << "\n";
    }
  });
}

}  // namespace engram::cli
