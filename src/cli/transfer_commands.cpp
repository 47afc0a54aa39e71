// engram export | import | migrate
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include "cli/cli.h"
#include "cli/line_reader.h"
#include "core/claude_code.h"
#include "core/openai_chat.h"
#include "core/swe_agent.h"

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
  std::string file, format;  // an empty format: told by the file's shape
};

constexpr std::string_view kImportFormats = "jsonl, openai-chat, claude-code or swe-agent";
// The largest document engram reads whole (a SWE-agent trajectory, a list of conversations).
constexpr size_t kMaxDocumentBytes = size_t{256} << 20;

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

  // A record that is in the store already, under another id.
  void Skip(const std::string& record, const std::string& why) {
    ++skipped_;
    if (!flags_.json) std::cerr << record << ": " << why << ", skipped\n";
    errors_.push_back({{"record", record}, {"skipped", why}});
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
        Skip(record, s.message());
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

// A Claude Code session transcript: every line read into one episode, a line it cannot use
// reported by its number and skipped. A session the hook recorded (its name taken) is skipped:
// it is in the store already.
void ImportClaudeCode(std::istream& in, Memory& memory, Importer& importer, const Limits& limits,
                      const std::string& name) {
  claude_code::TranscriptReader reader(limits);
  InputLine input;
  for (int64_t line = 1; ReadLine(in, input); ++line) {
    const std::string record = fmt::format("line {}", line);
    if (input.too_long) {
      importer.Reject(record, "the line is " + TooLong(input));
      continue;
    }
    if (input.text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = parse_json(input.text);
    if (!j.ok()) {
      importer.Reject(record, j.status().message());
      continue;
    }
    if (Status s = reader.Add(*j); !s.ok()) importer.Reject(record, s.message());
  }
  auto session = reader.Finish();
  if (session.ok() && session->metadata.is_object()) {
    const std::string id = session->metadata.value("session_id", "");
    auto recorded = id.empty() ? Result<NamedEpisode>(Status::NotFound(""))
                               : memory.find_named_episode(claude_code::SessionName(id));
    if (recorded.ok()) {
      importer.Skip(name, fmt::format("session {} is recorded already (engram hook claude-code), "
                                      "as episode {}",
                                      id, recorded->id));
      return;
    }
    if (!recorded.status().IsNotFound()) throw CommandError{recorded.status().message(), 1};
  }
  importer.Add(name, std::move(session));
}

// The whole input as one JSON document, within kMaxDocumentBytes.
Result<nlohmann::json> ReadDocument(std::istream& in) {
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxDocumentBytes) {
      return Status::InvalidArgument(
          fmt::format("the document is over {} bytes, the limit", kMaxDocumentBytes));
    }
  }
  return parse_json(text);
}

// The format a JSON value (a line, or the whole document) has; "" when it has none of them.
std::string FormatOf(const nlohmann::json& j) {
  if (j.is_array()) {
    // A conversation's messages, or a list of conversations.
    return j.empty() || j.front().is_object() || j.front().is_array() ? "openai-chat" : "";
  }
  if (!j.is_object()) return "";
  if (j.contains("trajectory") || (j.contains("history") && j["history"].is_array())) {
    return "swe-agent";
  }
  if (j.contains("type") && j["type"].is_string() &&
      (j.contains("sessionId") || j.contains("message") || j.contains("leafUuid"))) {
    return "claude-code";
  }
  if (j.contains("messages")) return "openai-chat";
  if (j.contains("task")) return "jsonl";
  return "";
}

// Input that begins with text already read (to tell its format), then goes on from a stream.
class PrefixedBuf : public std::streambuf {
 public:
  PrefixedBuf(std::string prefix, std::streambuf* rest) : prefix_(std::move(prefix)), rest_(rest) {
    setg(prefix_.data(), prefix_.data(), prefix_.data() + prefix_.size());
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const std::streamsize n = rest_->sgetn(buffer_, sizeof buffer_);
    if (n <= 0) return traits_type::eof();
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::string prefix_;
  std::streambuf* rest_;
  char buffer_[1 << 16];
};

// The format the input's shape says: the first of its first lines that is JSON, or else the
// whole input as one document. What it read is appended to `read`, for the import to read again.
std::string DetectFormat(std::istream& in, const std::string& file, std::string& read) {
  std::streambuf* buf = in.rdbuf();
  bool brace = false;
  for (int line = 0; line < 100 && read.size() <= kMaxDocumentBytes; ++line) {
    const size_t begin = read.size();
    int c = 0;
    while ((c = buf->sbumpc()) != std::char_traits<char>::eof() && c != '\n') {
      read.push_back(static_cast<char>(c));
    }
    const size_t length = read.size() - begin;
    if (c == '\n') read.push_back('\n');
    // A view of the line made after the last change to `read`, which may move its text.
    const std::string_view text = std::string_view(read).substr(begin, length);
    const size_t first = text.find_first_not_of(" \t\r");
    if (first != std::string_view::npos) {
      brace = brace || (begin == 0 && (text[first] == '{' || text[first] == '['));
      if (auto j = parse_json(text); j.ok()) {
        std::string format = FormatOf(*j);
        if (!format.empty()) return format;
        break;
      }
    }
    if (c == std::char_traits<char>::eof()) break;
  }
  if (brace) {
    // One document over several lines: read whole (within the limit) and looked at.
    std::istream rest(buf);
    char chunk[1 << 16];
    while (read.size() <= kMaxDocumentBytes &&
           (rest.read(chunk, sizeof chunk) || rest.gcount() > 0)) {
      read.append(chunk, static_cast<size_t>(rest.gcount()));
    }
    if (auto whole = parse_json(read); whole.ok() && !FormatOf(*whole).empty()) {
      return FormatOf(*whole);
    }
  }
  throw CommandError{fmt::format("cannot tell the format of {} from its shape: pass --format {}",
                                 file, kImportFormats),
                     2};
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
  auto* imp = app.add_subcommand(
      "import",
      "Import episodes: jsonl (as exported), openai-chat, claude-code or swe-agent transcripts");
  imp->add_option("file", im->file, "The file to read, - for stdin")->required();
  imp->add_option("--format", im->format,
                  fmt::format("{} (default: told by the file's shape)", kImportFormats));
  imp->callback([im, &flags] {
    const std::string& f = im->format;
    if (!f.empty() && f != "jsonl" && f != "openai-chat" && f != "claude-code" &&
        f != "swe-agent") {
      throw CommandError{fmt::format("format must be {}, got \"{}\"", kImportFormats, f), 2};
    }
    std::ifstream file;
    if (im->file != "-") {
      file.open(im->file, std::ios::binary);
      if (!file) throw CommandError{fmt::format("cannot read {}", im->file)};
    }
    std::istream& source = im->file == "-" ? std::cin : file;
    std::string read;  // what telling the format read
    const std::string format =
        f.empty() ? DetectFormat(source, im->file == "-" ? "stdin" : im->file, read) : f;
    PrefixedBuf buffer(std::move(read), source.rdbuf());
    std::istream in(&buffer);
    auto memory = OpenMemory(flags);
    Importer importer(*memory, flags);
    const Limits limits = Options{}.limits;
    if (format == "jsonl") {
      ImportLines(in, importer, [](const nlohmann::json& j) { return episode_from_json(j); });
    } else if (format == "openai-chat") {
      ImportOpenAiChat(in, importer, limits);
    } else if (format == "claude-code") {
      ImportClaudeCode(in, *memory, importer, limits, "the session");
    } else {
      auto doc = ReadDocument(in);
      if (!doc.ok()) {
        importer.Reject("the trajectory", doc.status().message());
      } else {
        importer.Add("the trajectory", EpisodeFromSweAgent(*doc, limits));
      }
    }
    importer.Finish();
  });

  auto backup_to = std::make_shared<std::string>();
  auto* bak = app.add_subcommand(
      "backup", "Copy a live SQLite store to a new file, consistent and checked, while it is used");
  bak->add_option("--to", *backup_to, "The new file")->required();
  bak->callback([backup_to, &flags] {
    auto memory = OpenMemory(flags);
    const auto start = std::chrono::steady_clock::now();
    const auto tables = Check(memory->backup(*backup_to));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (flags.json) {
      std::cout << ojson{{"to", *backup_to}, {"tables", tables}, {"seconds", seconds}}.dump(2)
                << "\n";
      return;
    }
    std::cout << fmt::format(
        "backed up to {} in {:.1f} s, integrity ok: {} episode(s), {} step(s)\n", *backup_to,
        seconds, tables.at("episodes"), tables.at("steps"));
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
