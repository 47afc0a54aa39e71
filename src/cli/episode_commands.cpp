// engram episode start | log-step | log-steps | complete | show | list | delete
#include <fmt/format.h>

#include <charconv>
#include <deque>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/line_reader.h"
#include "core/validation.h"

namespace engram::cli {
void ContextFlags::AddTo(CLI::App& cmd) {
  cmd.add_option("--domain", domain, "e.g. web, cli, data");
  cmd.add_option("--language", language, "e.g. rust, python");
  cmd.add_option("--framework", framework, "e.g. axum, django");
  cmd.add_option("--tag", tags, "A tag; repeat for several");
}

Context ContextFlags::ToContext() const {
  Context c;
  if (!domain.empty()) c.domain = domain;
  if (!language.empty()) c.language = language;
  if (!framework.empty()) c.framework = framework;
  c.tags = tags;
  return c;
}

// Number flags are read as text so the error names the field as the data model does.
int64_t ParseCount(std::string_view field, const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    const std::string range = max == std::numeric_limits<int64_t>::max()
                                  ? fmt::format(">= {}", min)
                                  : fmt::format("from {} to {}", min, max);
    throw CommandError{fmt::format("{} must be an integer {}, got \"{}\"", field, range, text), 2};
  }
  return v;
}

namespace {

using json = nlohmann::ordered_json;

void PrintJson(const json& j) {
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

struct StartArgs {
  std::string task, type = "other", complexity;
  ContextFlags context;
};

void AddStart(CLI::App& group, GlobalFlags& flags) {
  auto args = std::make_shared<StartArgs>();
  auto* cmd = group.add_subcommand("start", "Start an episode and print its id");
  cmd->add_option("--task", args->task, "What the agent is asked to do")->required();
  cmd->add_option("--type", args->type, OneOf<TaskType>())->capture_default_str();
  args->context.AddTo(*cmd);
  cmd->add_option("--complexity", args->complexity, OneOf<Complexity>());
  cmd->callback([args, &flags] {
    EpisodeSpec spec;
    spec.task = args->task;
    spec.task_type = Check(parse_task_type(args->type));
    spec.context = args->context.ToContext();
    if (!args->complexity.empty())
      spec.context.complexity = Check(parse_complexity(args->complexity));
    auto memory = OpenMemory(flags);
    const std::string id = Check(memory->start_episode(spec));
    if (flags.json) {
      PrintJson(json{{"id", id}});
    } else {
      std::cout << id << "\n";
    }
  });
}

struct LogStepArgs {
  std::string id, tool, action, latency = "0", tokens, observation, parameters;
  bool success = false, failure = false;
};

void AddLogStep(CLI::App& group, GlobalFlags& flags) {
  auto args = std::make_shared<LogStepArgs>();
  auto* cmd =
      group.add_subcommand("log-step", "Log one execution step; returns once it is durable");
  cmd->add_option("id", args->id, "Episode id")->required();
  cmd->add_option("--tool", args->tool, "The tool used, e.g. cargo, git, bash")->required();
  cmd->add_option("--action", args->action, "The command or operation")->required();
  cmd->add_option("--latency-ms", args->latency, "How long the step took, in ms (default 0)");
  cmd->add_option("--tokens", args->tokens, "Tokens used, when an LLM was involved");
  auto* ok = cmd->add_flag("--success", args->success, "The step worked (the default)");
  auto* bad = cmd->add_flag("--failure", args->failure, "The step failed");
  ok->excludes(bad);
  cmd->add_option("--observation", args->observation, "Output summary or error message");
  cmd->add_option("--parameters", args->parameters, "A JSON object");
  cmd->callback([args, &flags] {
    ExecutionStep step;
    step.tool = args->tool;
    step.action = args->action;
    step.latency_ms = ParseCount("latency_ms", args->latency, 0, kMaxStepCount);
    if (!args->tokens.empty()) step.tokens = ParseCount("tokens", args->tokens, 0, kMaxStepCount);
    step.success = !args->failure;
    step.observation = args->observation;
    if (!args->parameters.empty()) {
      auto parameters = parse_json(args->parameters);
      if (!parameters.ok()) throw CommandError{"parameters is " + parameters.status().message()};
      step.parameters = std::move(*parameters);
    }
    auto memory = OpenMemory(flags);
    const int64_t n = Check(memory->log_step(args->id, std::move(step)));
    if (flags.json) {
      PrintJson(json{{"episode_id", args->id}, {"step_number", n}});
    } else {
      std::cout << fmt::format("step {} logged to {}\n", n, args->id);
    }
  });
}

// One input line, parsed and checked: the step, or why the line is rejected.
struct ParsedLine {
  int64_t line;
  Result<ExecutionStep> step;
};

// Parses and checks a chunk of input lines numbered from `first`; blank lines are skipped.
// A line past kMaxLineBytes is refused by its size, unparsed.
std::vector<ParsedLine> ParseLines(int64_t first, const std::vector<InputLine>& lines) {
  std::vector<ParsedLine> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& text = lines[i].text;
    const int64_t line = first + static_cast<int64_t>(i);
    if (lines[i].too_long) {
      out.push_back({line, Status::InvalidArgument("the line is " + TooLong(lines[i]))});
      continue;
    }
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = parse_json(text);
    if (!j.ok()) {
      out.push_back({line, j.status()});
      continue;
    }
    out.push_back({line, step_from_json(std::move(*j))});
  }
  return out;
}

// A failure of the store (a full disk, an I/O error, the file gone), not of the line.
bool IsStoreFailure(const Status& s) {
  return s.IsIOError() || s.IsNoSpace() || s.IsUnavailable() || s.IsCorruption() || s.IsBusy();
}

void LogStepsFromStdin(const std::string& id, const GlobalFlags& flags) {
  Check(ValidateEpisodeId(id));
  auto memory = OpenMemory(flags);
  struct Accepted {
    int64_t line;
    StepTicket ticket;
  };
  std::vector<Accepted> window;
  std::vector<int64_t> numbers;
  json rejected = json::array();
  auto reject = [&](int64_t line, const std::string& why) {
    std::cerr << fmt::format("error: line {}: {}\n", line, why);
    rejected.push_back(json{{"line", line}, {"error", why}});
  };
  // The first line the store failed to take: it and every line after it are not stored (the
  // writer fails the steps queued behind it), and reading stops there, so that sending the
  // input again from that line keeps the episode in order.
  int64_t stopped_at = 0;
  Status store_failure;
  auto store_failed = [&](int64_t line, const Status& s) {
    if (stopped_at == 0 || line < stopped_at) {
      stopped_at = line;
      store_failure = s;
    }
  };
  // Waiting on a window of tickets at a time keeps memory flat for any input size while many
  // steps share each commit.
  auto drain = [&] {
    for (auto& a : window) {
      auto n = a.ticket.wait();
      if (n.ok()) {
        numbers.push_back(*n);
      } else if (IsStoreFailure(n.status())) {
        store_failed(a.line, n.status());
      } else {
        reject(a.line, n.status().message());
      }
    }
    window.clear();
  };
  auto log_parsed = [&](std::vector<ParsedLine> parsed) {
    for (auto& p : parsed) {
      if (stopped_at != 0) return;
      if (!p.step.ok()) {
        reject(p.line, p.step.status().message());
        continue;
      }
      auto ticket = memory->log_step_async(id, std::move(*p.step));
      if (!ticket.ok()) {
        const Status& s = ticket.status();
        // A bad episode fails every line alike: stop at once rather than repeat it.
        if (s.IsNotFound() || s.IsFailedPrecondition() || s.code() == Status::Code::kAborted) {
          drain();
          Check(s);
        }
        if (IsStoreFailure(s)) {
          store_failed(p.line, s);
          drain();  // an earlier line is the one that failed first
          return;
        }
        reject(p.line, s.message());
        continue;
      }
      window.push_back(Accepted{p.line, std::move(*ticket)});
      if (window.size() >= 8192) drain();
    }
  };

  // Parsing, more than the store, is what limits a pipe: chunks of lines are parsed on threads
  // of their own while this one reads the next and logs the parsed ones in input order.
  constexpr size_t kChunkLines = 512;
  constexpr size_t kChunksParsing = 2;
  std::deque<std::future<std::vector<ParsedLine>>> parsing;
  std::vector<InputLine> chunk;
  int64_t line = 0, chunk_first = 1;
  auto dispatch = [&] {
    parsing.push_back(std::async(std::launch::async, ParseLines, chunk_first, std::move(chunk)));
    chunk = {};
    chunk_first = line + 1;
    if (parsing.size() > kChunksParsing) {
      log_parsed(parsing.front().get());
      parsing.pop_front();
    }
  };
  InputLine input;
  while (stopped_at == 0 && ReadLine(std::cin, input)) {
    ++line;
    chunk.push_back(std::move(input));
    if (chunk.size() == kChunkLines) dispatch();
  }
  if (!chunk.empty() && stopped_at == 0) dispatch();
  for (; !parsing.empty(); parsing.pop_front()) log_parsed(parsing.front().get());
  drain();  // every ticket has been waited on
  // A failure flush() would report again was reported here, line by line.
  (void)memory->flush();

  if (flags.json) {
    json out{{"episode_id", id},
             {"logged", numbers.size()},
             {"step_numbers", numbers},
             {"rejected", rejected}};
    if (stopped_at != 0) {
      out["not_stored_from_line"] = stopped_at;
      out["store_error"] = store_failure.message();
    }
    PrintJson(out);
  } else if (numbers.empty()) {
    std::cout << fmt::format("no steps logged to {}\n", id);
  } else {
    // Another process appending to the same episode at once interleaves its steps with ours.
    const bool interleaved = numbers.back() - numbers.front() + 1 != std::ssize(numbers);
    std::cout << fmt::format("logged {} step(s) to {}: steps {}-{}{}\n", numbers.size(), id,
                             numbers.front(), numbers.back(),
                             interleaved ? " (interleaved with another writer's)" : "");
  }
  if (stopped_at != 0) {
    std::cerr << fmt::format("error: line {}: {}\n", stopped_at, store_failure.message());
    throw CommandError{fmt::format(
        "stopped at line {}: the store failed; line {} and the lines after it were not stored: "
        "send them again from line {}, in order",
        stopped_at, stopped_at, stopped_at)};
  }
  if (!rejected.empty()) {
    throw CommandError{fmt::format("{} of {} line(s) rejected", rejected.size(),
                                   rejected.size() + numbers.size())};
  }
}

struct CompleteArgs {
  std::string id, outcome, summary;
  std::vector<std::string> artifacts;
};

void AddComplete(CLI::App& group, GlobalFlags& flags) {
  auto args = std::make_shared<CompleteArgs>();
  auto* cmd = group.add_subcommand("complete", "Complete an episode with its outcome");
  cmd->add_option("id", args->id, "Episode id")->required();
  cmd->add_option("--outcome", args->outcome, OneOf<OutcomeKind>())->required();
  cmd->add_option("--summary", args->summary, "What came of it");
  cmd->add_option("--artifact", args->artifacts, "Something produced; repeat for several");
  cmd->callback([args, &flags] {
    Outcome outcome;
    outcome.kind = Check(parse_outcome_kind(args->outcome));
    outcome.summary = args->summary;
    outcome.artifacts = args->artifacts;
    auto memory = OpenMemory(flags);
    Episode e = Check(memory->complete_episode(args->id, outcome));
    if (flags.json) {
      PrintJson(to_json(e));
    } else {
      std::cout << fmt::format("episode {} completed: {} ({} steps)\n", e.id,
                               to_string(outcome.kind), e.steps.size());
    }
  });
}

struct ListArgs {
  std::string status, outcome, domain, type, tag, since, until, limit = "100", cursor;
};

void AddList(CLI::App& group, GlobalFlags& flags) {
  auto args = std::make_shared<ListArgs>();
  auto* cmd = group.add_subcommand("list", "List episodes, newest first");
  cmd->add_option("--status", args->status, "open or completed");
  cmd->add_option("--outcome", args->outcome,
                  "Only completed episodes with this outcome: " + OneOf<OutcomeKind>());
  cmd->add_option("--domain", args->domain, "Only this domain");
  cmd->add_option("--type", args->type, "Only this task type");
  cmd->add_option("--tag", args->tag, "Only episodes with this tag");
  cmd->add_option("--since", args->since,
                  "Started at or after (RFC 3339, or a date: midnight UTC)");
  cmd->add_option("--until", args->until, "Started before (RFC 3339, or a date: midnight UTC)");
  cmd->add_option("--limit", args->limit,
                  fmt::format("At most this many (1-{}, default 100)", kMaxListLimit));
  cmd->add_option("--cursor", args->cursor, "The next_cursor of the previous page");
  cmd->callback([args, &flags] {
    EpisodeFilter f;
    if (!args->status.empty()) f.status = Check(parse_episode_status(args->status));
    if (!args->outcome.empty()) f.outcome = Check(parse_outcome_kind(args->outcome));
    if (!args->domain.empty()) f.domain = args->domain;
    if (!args->type.empty()) f.task_type = Check(parse_task_type(args->type));
    if (!args->tag.empty()) f.tag = args->tag;
    if (!args->since.empty()) f.since = args->since;
    if (!args->until.empty()) f.until = args->until;
    f.limit = ParseCount("limit", args->limit, 1);
    f.cursor = args->cursor;
    auto memory = OpenMemory(flags);
    EpisodePage page = Check(memory->list_episodes(f));
    if (flags.json) {
      json list = json::array();
      for (const auto& e : page.episodes) list.push_back(to_json(e, /*include_steps=*/false));
      PrintJson(json{{"episodes", std::move(list)},
                     {"next_cursor", page.next_cursor ? json(*page.next_cursor) : json(nullptr)}});
    } else {
      std::cout << RenderEpisodeList(page);
    }
  });
}

}  // namespace

void AddEpisodeCommands(CLI::App& app, GlobalFlags& flags) {
  auto* group = app.add_subcommand("episode", "Record and read episodes");
  group->require_subcommand(1);
  AddStart(*group, flags);
  AddLogStep(*group, flags);

  auto id = std::make_shared<std::string>();
  auto* steps = group->add_subcommand(
      "log-steps", "Log steps read from stdin, one ExecutionStep JSON a line (JSON Lines)");
  steps->add_option("id", *id, "Episode id")->required();
  steps->callback([id, &flags] { LogStepsFromStdin(*id, flags); });

  AddComplete(*group, flags);

  auto show_id = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show an episode with its steps");
  show->add_option("id", *show_id, "Episode id")->required();
  show->callback([show_id, &flags] {
    Episode e = Check(OpenMemory(flags)->get_episode(*show_id));
    if (flags.json) {
      PrintJson(to_json(e));
    } else {
      std::cout << RenderEpisode(e);
    }
  });

  AddList(*group, flags);

  auto del_id = std::make_shared<std::string>();
  auto* del = group->add_subcommand("delete", "Delete an episode and its steps");
  del->add_option("id", *del_id, "Episode id")->required();
  del->callback([del_id, &flags] {
    Check(OpenMemory(flags)->delete_episode(*del_id));
    if (flags.json) {
      PrintJson(json{{"deleted", *del_id}});
    } else {
      std::cout << fmt::format("episode {} deleted\n", *del_id);
    }
  });
}

}  // namespace engram::cli
