// engram export | import | migrate
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include "cli/cli.h"
#include "cli/line_reader.h"
#include "core/openai_chat.h"

namespace engram::cli {
namespace {

using ojson = nlohmann::ordered_json;

// Records handed to Memory::import_episodes at a time: the first batch small so that the store
// starts writing early, each next one twice as large (reading it takes less time than writing
// the one before) up to kImportBatch, large so that the library's pipeline stays full.
constexpr size_t kFirstImportBatch = 256;
constexpr size_t kImportBatch = 2048;

struct ExportArgs {
  std::string format = "jsonl", out;
};

struct ImportArgs {
  std::string file, format = "jsonl";
};

struct MigrateArgs {
  std::string from, to;
};

// Reads records, hands them to the store in batches, and keeps the score.
class Importer {
 public:
  Importer(Memory& memory, const GlobalFlags& flags) : memory_(memory), flags_(flags) {}

  void Add(std::string record, Result<Episode> episode) {
    if (!episode.ok()) {
      Reject(record, episode.status().message());
      return;
    }
    pending_.emplace_back(std::move(record), std::move(*episode));
    if (pending_.size() == batch_) Flush();
  }

  void Reject(const std::string& record, const std::string& why) {
    ++rejected_;
    errors_.push_back({{"record", record}, {"error", why}});
    if (!flags_.json) std::cerr << record << ": " << why << "\n";
  }

  // Hands the pending records to the store; the store writes them while the next ones are read.
  void Flush() {
    Collect();
    if (pending_.empty()) return;
    std::vector<Episode> episodes;
    for (auto& [record, e] : pending_) {
      episodes.push_back(std::move(e));
      inflight_records_.push_back(std::move(record));
    }
    pending_.clear();
    batch_ = std::min(batch_ * 2, kImportBatch);
    inflight_ = std::async(std::launch::async, [this, episodes = std::move(episodes)]() mutable {
      return memory_.import_episodes(std::move(episodes));
    });
  }

  // Prints the summary; exit status 1 when a record was rejected.
  void Finish() {
    Flush();
    Collect();
    if (flags_.json) {
      std::cout << ojson{{"imported", imported_},
                         {"skipped", skipped_},
                         {"rejected", rejected_},
                         {"problems", errors_}}
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      std::cout << fmt::format("imported {} episode(s), skipped {} existing, rejected {}\n",
                               imported_, skipped_, rejected_);
    }
    if (rejected_ > 0) {
      std::cout.flush();
      throw CommandError{fmt::format("{} record(s) rejected", rejected_), 1};
    }
  }

 private:
  // Waits for the batch in flight and counts what became of each of its records.
  void Collect() {
    if (!inflight_.valid()) return;
    auto results = Check(inflight_.get());
    for (size_t i = 0; i < results.size(); ++i) {
      const Status& s = results[i];
      const std::string& record = inflight_records_[i];
      if (s.ok()) {
        ++imported_;
      } else if (s.IsAlreadyExists()) {
        ++skipped_;
        if (!flags_.json) std::cerr << record << ": " << s.message() << ", skipped\n";
        errors_.push_back({{"record", record}, {"skipped", s.message()}});
      } else {
        Reject(record, s.message());
      }
    }
    inflight_records_.clear();
  }

  Memory& memory_;
  const GlobalFlags& flags_;
  std::vector<std::pair<std::string, Episode>> pending_;
  std::future<Result<std::vector<Status>>> inflight_;
  size_t batch_ = kFirstImportBatch;  // the size of the next batch
  std::vector<std::string> inflight_records_;
  int64_t imported_ = 0, skipped_ = 0, rejected_ = 0;
  ojson errors_ = ojson::array();
};

// JSON Lines: every non-blank line, read by `convert`, is a record named "line N".
template <typename Convert>
void ImportLines(std::istream& in, Importer& importer, Convert convert, int64_t first_line = 1) {
  InputLine input;
  for (int64_t line = first_line; ReadLine(in, input); ++line) {
    const std::string record = fmt::format("line {}", line);
    if (input.too_long) {
      importer.Reject(record, "the line is " + TooLong(input));
      continue;
    }
    const std::string& text = input.text;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = parse_json(text);
    if (j.ok()) {
      importer.Add(record, convert(*j));
    } else {
      importer.Reject(record, j.status().message());
    }
  }
}

bool IsMessage(const nlohmann::json& j) {
  return j.is_object() && j.contains("role");
}

void ImportOpenAiChat(std::istream& in, Importer& importer, const Limits& limits) {
  auto convert = [&](const nlohmann::json& j) { return EpisodeFromOpenAiChat(j, limits); };
  // JSON Lines of conversation objects are read as they come, a line at a time.
  int64_t blank_lines = 0;
  for (int c; (c = in.peek()) == ' ' || c == '\t' || c == '\r' || c == '\n'; in.get()) {
    if (c == '\n') ++blank_lines;
  }
  if (in.peek() != '[') {
    ImportLines(in, importer, convert, 1 + blank_lines);
    return;
  }
  // A list: a line that is a whole conversation's messages (JSON Lines, read a line at a time
  // whatever the file's size), or one JSON document listing conversations, read whole.
  InputLine first;
  ReadLine(in, first);
  const int64_t first_line = 1 + blank_lines;
  auto alone = first.too_long ? Result<nlohmann::json>(Status::InvalidArgument("too long"))
                              : parse_json(first.text);
  auto add_list = [&](const nlohmann::json& list, const std::string& prefix) {
    for (size_t i = 0; i < list.size(); ++i) {
      importer.Add(fmt::format("{}conversations[{}]", prefix, i),
                   EpisodeFromOpenAiChat(list[i], limits));
    }
  };
  if (alone.ok()) {
    if (alone->is_array() && !alone->empty() && !IsMessage(alone->front())) {
      add_list(*alone, "");  // a one-line document
    } else {
      importer.Add(fmt::format("line {}", first_line), convert(*alone));
    }
    ImportLines(in, importer, convert, first_line + 1);
    return;
  }
  if (first.too_long) {
    importer.Reject(fmt::format("line {}", first_line), "the line is " + TooLong(first));
    ImportLines(in, importer, convert, first_line + 1);
    return;
  }
  std::stringstream buffer;
  buffer << first.text << '\n' << in.rdbuf();
  auto whole = parse_json(buffer.str());
  if (!whole.ok()) return importer.Reject("the document", whole.status().message());
  if (!whole->is_array() || whole->empty() || IsMessage(whole->front())) {
    return importer.Reject("the document",
                           "a document of several lines must be a list of conversations");
  }
  add_list(*whole, "");
}

}  // namespace

void AddTransferCommands(CLI::App& app, GlobalFlags& flags) {
  auto ex = std::make_shared<ExportArgs>();
  auto* exp = app.add_subcommand("export", "Write every episode, one Episode JSON a line");
  exp->add_option("--format", ex->format, "jsonl (the only format)");
  exp->add_option("--out", ex->out, "Write to this file instead of stdout");
  exp->callback([ex, &flags] {
    if (ex->format != "jsonl") {
      throw CommandError{fmt::format("format must be jsonl, got \"{}\"", ex->format), 2};
    }
    auto memory = OpenMemory(flags);
    std::ofstream file;
    if (!ex->out.empty()) {
      file.open(ex->out, std::ios::binary | std::ios::trunc);
      if (!file) throw CommandError{fmt::format("cannot write {}", ex->out)};
    }
    std::ostream& out = ex->out.empty() ? std::cout : file;
    EpisodeFilter f;
    f.limit = kMaxListLimit;
    int64_t n = 0;
    for (;;) {
      EpisodePage page = Check(memory->list_episodes(f));
      for (const auto& head : page.episodes) {
        out << to_json(Check(memory->get_episode(head.id))).dump() << "\n";
        ++n;
      }
      if (!page.next_cursor) break;
      f.cursor = *page.next_cursor;
    }
    out.flush();
    if (!out) throw CommandError{"write failed: " + (ex->out.empty() ? "stdout" : ex->out)};
    if (!ex->out.empty()) std::cout << fmt::format("exported {} episode(s) to {}\n", n, ex->out);
  });

  auto im = std::make_shared<ImportArgs>();
  auto* imp = app.add_subcommand("import",
                                 "Import episodes: jsonl (as exported) or openai-chat transcripts");
  imp->add_option("file", im->file, "The file to read, - for stdin")->required();
  imp->add_option("--format", im->format, "jsonl (default) or openai-chat");
  imp->callback([im, &flags] {
    if (im->format != "jsonl" && im->format != "openai-chat") {
      throw CommandError{fmt::format("format must be jsonl or openai-chat, got \"{}\"", im->format),
                         2};
    }
    std::ifstream file;
    if (im->file != "-") {
      file.open(im->file, std::ios::binary);
      if (!file) throw CommandError{fmt::format("cannot read {}", im->file)};
    }
    std::istream& in = im->file == "-" ? std::cin : file;
    auto memory = OpenMemory(flags);
    Importer importer(*memory, flags);
    if (im->format == "jsonl") {
      ImportLines(in, importer, [](const nlohmann::json& j) { return episode_from_json(j); });
    } else {
      ImportOpenAiChat(in, importer, Options{}.limits);
    }
    importer.Finish();
  });

  auto mg = std::make_shared<MigrateArgs>();
  auto* mig = app.add_subcommand(
      "migrate", "Copy a whole store to another (SQLite to PostgreSQL or back), counts checked");
  mig->add_option("--from", mg->from, "The store to copy (default: --db, ENGRAM_DB, the default)");
  mig->add_option("--to", mg->to, "The store to copy into; it must hold no episodes")->required();
  mig->callback([mg, &flags] {
    std::string from = mg->from;
    if (from.empty()) from = Check(ResolveDatabaseUrl(flags));
    MigrateOptions options;
    if (isatty(STDERR_FILENO) && !flags.json) {
      options.progress = [](int64_t copied, int64_t total) {
        std::cerr << fmt::format("\rcopied {} of {} episodes", copied, total) << std::flush;
      };
    }
    auto report = migrate(from, mg->to, options);
    if (options.progress) std::cerr << "\n";
    Check(report.status());
    if (flags.json) {
      ojson tables = ojson::object();
      for (const auto& t : report->tables) {
        tables[t.table] = {{"source", t.source}, {"target", t.target}};
      }
      std::cout << ojson{{"from", report->from},
                         {"to", report->to},
                         {"tables", tables},
                         {"seconds", report->seconds}}
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
      return;
    }
    std::cout << fmt::format("copied {} to {} in {:.1f} s\n\n", report->from, report->to,
                             report->seconds);
    std::cout << fmt::format("{:<18}{:>12}{:>12}\n", "table", "source", "target");
    for (const auto& t : report->tables) {
      std::cout << fmt::format("{:<18}{:>12}{:>12}\n", t.table, t.source, t.target);
    }
    std::cout << "\nevery table holds as many rows in the target as in the source\n";
  });
}

}  // namespace engram::cli
