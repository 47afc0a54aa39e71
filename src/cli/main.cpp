// engram: episodic memory for AI agents, from the command line.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "cli/cli.h"
#include "core/redact.h"

namespace engram::cli {

Result<std::string> ResolveDatabaseUrl(const GlobalFlags& flags) {
  if (!flags.db.empty()) return flags.db;
  if (const char* env = std::getenv("ENGRAM_DB"); env && *env) return std::string(env);
  std::filesystem::path dir;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    dir = std::filesystem::path(xdg) / "engram";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    dir = std::filesystem::path(home) / ".local" / "share" / "engram";
  } else {
    return Status::InvalidArgument("no database given: pass --db URL or set ENGRAM_DB");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::IOError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  return "sqlite://" + (dir / "engram.db").string();
}

Result<Options> OptionsFor(const GlobalFlags& flags) {
  Options options;
  std::string file = flags.redact_config;
  if (const char* env = std::getenv("ENGRAM_REDACT_CONFIG"); file.empty() && env) file = env;
  if (file.empty()) return options;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return Status::InvalidArgument(fmt::format("cannot read the redaction settings {}", file));
  std::stringstream text;
  text << in.rdbuf();
  auto j = parse_json(text.str());
  if (!j.ok()) return Status::InvalidArgument(fmt::format("{}: {}", file, j.status().message()));
  auto redaction = RedactionOptionsFromJson(*j);
  if (!redaction.ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", file, redaction.status().message()));
  }
  options.redaction = std::move(*redaction);
  return options;
}

std::unique_ptr<Memory> OpenMemory(const GlobalFlags& flags) {
  std::string url = Check(ResolveDatabaseUrl(flags));
  return Check(Memory::open(url, Check(OptionsFor(flags))));
}

void Check(const Status& s) {
  if (!s.ok()) throw CommandError{s.message(), 1};
}

namespace {

// CLI11 messages can span lines; the contract is one line on stderr.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

int Run(int argc, char** argv) {
  CLI::App app{"engram: episodic memory for AI agents", "engram"};
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", "engram 0.1.0");
  GlobalFlags flags;
  if (argc > 0 && argv[0] && *argv[0]) flags.program = argv[0];
  app.add_option(
      "--db", flags.db,
      "Database URL (sqlite:///path/engram.db, sqlite::memory:, postgres://user@host/db); "
      "default: $ENGRAM_DB, "
      "else $XDG_DATA_HOME/engram/engram.db");
  app.add_flag("--json", flags.json, "Print machine-readable JSON");
  app.add_option("--redact-config", flags.redact_config,
                 "Redaction settings, a JSON file (default: $ENGRAM_REDACT_CONFIG; see README, "
                 "Secrets)");
  AddEpisodeCommands(app, flags);
  AddPatternCommands(app, flags);
  AddRecallCommand(app, flags);
  AddSuggestCommand(app, flags);
  AddStatsCommand(app, flags);
  AddTransferCommands(app, flags);
  AddPruneCommand(app, flags);
  AddMcpCommand(app, flags);
  AddServeCommand(app, flags);
  AddHookCommand(app, flags);
  AddDemoCommand(app, flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A hook must not block the agent (Claude Code reads exit status 2 as "block"): a hook
    // command line it cannot read still exits 0.
    const bool hook = std::any_of(argv, argv + argc,
                                  [](const char* a) { return a && std::string_view(a) == "hook"; });
    if (hook) {
      std::cerr << "engram hook: " << OneLine(e.what()) << " (see engram hook --help)\n";
      return 0;
    }
    // CLI11 reports a missing subcommand before an unexpected word; the word is the real news.
    const auto extra = app.remaining(/*recurse=*/true);
    if (!extra.empty() && e.get_name() == "RequiredError") {
      std::cerr << "error: unknown command or argument \"" << extra.front() << "\" (see --help)\n";
    } else {
      std::cerr << "error: " << OneLine(e.what()) << " (see --help)\n";
    }
    return 2;
  } catch (const CommandError& e) {
    std::cerr << "error: " << OneLine(e.message) << "\n";
    return e.exit_code;
  }
  return 0;
}

}  // namespace
}  // namespace engram::cli

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return engram::cli::Run(argc, argv);
}
