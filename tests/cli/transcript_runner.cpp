// Runs a CLI transcript: a file of shell commands, each followed by the output it must print.
//
//   # a comment (a line starting with # is never expected output)
//   $ engram episode start --task "fix the build"
//   {{uuid:ID}}                 <- captures the id into $ID for the commands that follow
//   $ engram episode show $ID --json
//   ...expected lines...
//   [exit 1]                    <- the exit status, when it is not 0
//
// Placeholders in expected lines: {{uuid}}, {{ts}} (an RFC 3339 timestamp), {{int}}, {{*}}
// (anything), {{uuid:NAME}} (a UUID, exported as $NAME). A line "..." matches any number of
// lines. Commands run with `sh -c`, stderr merged into stdout, in a fresh temporary folder
// with ENGRAM_DB pointing at a new database there and engram's folder first on PATH.
//
// With --postgres, ENGRAM_DB is a new database of its own on the server scripts/with-postgres
// started (ENGRAM_TEST_POSTGRES_URL), dropped at the end; without a server the run is skipped
// (exit 77) and says why.
//
// Usage: engram_transcript_runner [--postgres] ENGRAM_BIN_DIR FILE.t
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

struct Case {
  int line = 0;  // of the command in the transcript
  std::string command;
  std::vector<std::string> expected;
  int exit_code = 0;
};

std::vector<Case> Parse(std::istream& in) {
  std::vector<Case> cases;
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.rfind("$ ", 0) == 0) {
      cases.push_back(Case{line, text.substr(2), {}, 0});
    } else if (cases.empty() || text.rfind("#", 0) == 0 ||
               (text.empty() && cases.back().expected.empty())) {
      continue;  // comments, and blank lines between cases
    } else if (std::smatch m; std::regex_match(text, m, std::regex(R"(\[exit (\d+)\])"))) {
      cases.back().exit_code = std::stoi(m[1]);
    } else {
      cases.back().expected.push_back(text);
    }
  }
  // Blank lines that separate one case from the next are not expected output.
  for (auto& c : cases) {
    while (!c.expected.empty() && c.expected.back().empty()) c.expected.pop_back();
  }
  return cases;
}

// Turns an expected line into a regex; names of captures are appended to `names`.
std::regex Pattern(const std::string& expected, std::vector<std::string>& names) {
  static const std::regex placeholder(R"(\{\{(uuid|ts|int|\*)(?::([A-Z_][A-Z0-9_]*))?\}\})");
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  std::string re;
  auto begin = std::sregex_iterator(expected.begin(), expected.end(), placeholder);
  size_t pos = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    re += std::regex_replace(expected.substr(pos, static_cast<size_t>(m.position()) - pos), special,
                             R"(\$&)");
    const std::string kind = m[1];
    std::string group = kind == "uuid"
                            ? "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
                        : kind == "ts"  ? R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"
                        : kind == "int" ? R"(-?\d+)"
                                        : ".*";
    re += "(" + group + ")";
    names.push_back(m[2].matched ? std::string(m[2]) : "");
    pos = static_cast<size_t>(m.position() + m.length());
  }
  re += std::regex_replace(expected.substr(pos), special, R"(\$&)");
  return std::regex(re);
}

// Matches actual lines against expected ones, "..." standing for any run of lines.
bool Match(const std::vector<std::string>& expected, size_t e,
           const std::vector<std::string>& actual, size_t a,
           std::map<std::string, std::string>& vars) {
  if (e == expected.size()) return a == actual.size();
  if (expected[e] == "...") {
    for (size_t skip = a; skip <= actual.size(); ++skip) {
      if (Match(expected, e + 1, actual, skip, vars)) return true;
    }
    return false;
  }
  if (a == actual.size()) return false;
  std::vector<std::string> names;
  std::smatch m;
  if (!std::regex_match(actual[a], m, Pattern(expected[e], names))) return false;
  auto saved = vars;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!names[i].empty()) vars[names[i]] = m[i + 1];
  }
  if (Match(expected, e + 1, actual, a + 1, vars)) return true;
  vars = saved;
  return false;
}

std::pair<std::string, int> Run(const std::string& command) {
  FILE* p = popen(("exec 2>&1; " + command).c_str(), "r");
  if (!p) return {"popen failed", 127};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)};
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

}  // namespace

// Runs one statement on the server at `url`; false, with the server's message, on failure.
bool Admin(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  PGresult* r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql.c_str()) : nullptr;
  const bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) std::cerr << "PostgreSQL: " << PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  return ok;
}

int main(int argc, char** argv) {
  const bool postgres = argc == 4 && std::string(argv[1]) == "--postgres";
  if (postgres) ++argv, --argc;
  if (argc != 3) {
    std::cerr << "usage: engram_transcript_runner [--postgres] ENGRAM_BIN_DIR FILE.t\n";
    return 2;
  }
  std::string server, database;
  if (postgres) {
    const char* url = std::getenv("ENGRAM_TEST_POSTGRES_URL");
    if (!url || !*url) {
      const char* why = std::getenv("ENGRAM_TEST_POSTGRES_SKIP");
      std::cout << "skipped: "
                << (why ? why : "ENGRAM_TEST_POSTGRES_URL is not set (make test sets it)") << "\n";
      return 77;
    }
    server = url;
    database = "engram_cli_" + std::to_string(getpid());
    if (!Admin(server, "CREATE DATABASE " + database)) return 1;
  }
  const std::string bin_dir = std::filesystem::absolute(argv[1]).string();
  const std::string file = std::filesystem::absolute(argv[2]).string();
  std::ifstream in(file);
  if (!in) {
    std::cerr << "cannot read " << file << "\n";
    return 2;
  }
  const std::vector<Case> cases = Parse(in);

  std::string tmpl = (std::filesystem::temp_directory_path() / "engram-cli-XXXXXX").string();
  const std::filesystem::path work = mkdtemp(tmpl.data());
  std::filesystem::current_path(work);
  setenv("PATH", (bin_dir + ":" + std::getenv("PATH")).c_str(), 1);
  setenv("ENGRAM_DB",
         postgres ? (server.substr(0, server.rfind('/') + 1) + database).c_str()
                  : ("sqlite://" + (work / "engram.db").string()).c_str(),
         1);
  setenv("XDG_DATA_HOME", (work / "xdg").c_str(), 1);
  setenv("TRANSCRIPT_DIR", std::filesystem::path(file).parent_path().c_str(), 1);

  std::map<std::string, std::string> vars;
  int failed = 0;
  for (const Case& c : cases) {
    auto [output, code] = Run(c.command);
    const auto actual = Lines(output);
    std::map<std::string, std::string> captured = vars;
    if (Match(c.expected, 0, actual, 0, captured) && code == c.exit_code) {
      for (const auto& [k, v] : captured) setenv(k.c_str(), v.c_str(), 1);
      vars = std::move(captured);
      continue;
    }
    ++failed;
    std::cerr << file << ":" << c.line << ": $ " << c.command << "\n--- expected (exit "
              << c.exit_code << ")\n";
    for (const auto& l : c.expected) std::cerr << l << "\n";
    std::cerr << "--- actual (exit " << code << ")\n" << output << "---\n";
  }
  std::filesystem::current_path("/");
  std::filesystem::remove_all(work);
  if (postgres) Admin(server, "DROP DATABASE " + database + " WITH (FORCE)");
  std::cout << cases.size() - failed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
