// The engram command line: shared pieces of the commands.
#pragma once

#include <CLI/CLI.hpp>

#include <limits>
#include <memory>
#include <string>

#include "engram/engram.h"

namespace engram::cli {

// Global flags, accepted anywhere on the line.
struct GlobalFlags {
  std::string db;  // --db URL; empty means ENGRAM_DB, then the default path
  bool json = false;
  std::string program = "engram";  // as invoked, for hints such as "Try: build/engram …"
  std::string redact_config;       // --redact-config FILE; empty means ENGRAM_REDACT_CONFIG
};

// A command's failure: printed as "error: <message>" with exit status 1 (2 for usage).
struct CommandError {
  std::string message;
  int exit_code = 1;
};

// The database URL the flags and the environment choose. For the default path
// ($XDG_DATA_HOME/engram/engram.db, else ~/.local/share/engram/engram.db) the folder is created.
Result<std::string> ResolveDatabaseUrl(const GlobalFlags& flags);

// The library options the flags and the environment choose: the redaction settings of
// --redact-config (else $ENGRAM_REDACT_CONFIG), a JSON file. InvalidArgument naming the file.
Result<Options> OptionsFor(const GlobalFlags& flags);

// Opens the chosen store, or throws CommandError.
std::unique_ptr<Memory> OpenMemory(const GlobalFlags& flags);

// Throws CommandError with the status's message when it is not ok.
void Check(const Status& s);
template <typename T>
T Check(Result<T> r) {
  Check(r.status());
  return std::move(r).value();
}

// --domain, --language, --framework and --tag (repeatable), as `episode start` and `recall`
// take them.
struct ContextFlags {
  std::string domain, language, framework;
  std::vector<std::string> tags;

  void AddTo(CLI::App& cmd);
  // The context the flags give; empty flags are absent fields.
  Context ToContext() const;
};

// Reads a whole number flag, or throws a usage CommandError naming the field.
// Range checks are the calls' own; `max` only words the message.
int64_t ParseCount(std::string_view field, const std::string& text, int64_t min,
                   int64_t max = std::numeric_limits<int64_t>::max());

// Adds the `episode` and `pattern` command groups and `demo`.
// An enumeration's names as help text reads them: "simple, moderate or complex".
template <typename Enum>
std::string OneOf() {
  std::string out;
  const auto names = enum_names<Enum>();
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

void AddEpisodeCommands(CLI::App& app, GlobalFlags& flags);
void AddPatternCommands(CLI::App& app, GlobalFlags& flags);
void AddDemoCommand(CLI::App& app, GlobalFlags& flags);
void AddStatsCommand(CLI::App& app, GlobalFlags& flags);
void AddRecallCommand(CLI::App& app, GlobalFlags& flags);
void AddSuggestCommand(CLI::App& app, GlobalFlags& flags);
void AddTransferCommands(CLI::App& app, GlobalFlags& flags);
void AddMcpCommand(CLI::App& app, GlobalFlags& flags);
void AddServeCommand(CLI::App& app, GlobalFlags& flags);
void AddHookCommand(CLI::App& app, GlobalFlags& flags);
void AddPruneCommand(CLI::App& app, GlobalFlags& flags);

// Human renderings.
std::string RenderEpisode(const Episode& e);
std::string RenderEpisodeList(const EpisodePage& page);
std::string DescribePattern(const Pattern& p);  // one line
std::string RenderPattern(const Pattern& p);
std::string RenderPatternList(const std::vector<Pattern>& patterns);
std::string RenderStats(const Stats& s);
std::string RenderRecall(const Recall& r);
std::string RenderPrune(const PruneResult& r);

}  // namespace engram::cli
