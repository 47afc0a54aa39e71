// engram serve: the HTTP/JSON API and MCP over Streamable HTTP on one port.
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/timestamp.h"
#include "server/http_server.h"

namespace engram::cli {
namespace {

// HOST:PORT, [IPV6]:PORT or :PORT.
server::ServeOptions ParseListen(const std::string& listen) {
  server::ServeOptions o;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    throw CommandError{fmt::format("--listen must be HOST:PORT, got \"{}\"", listen), 2};
  }
  if (colon > 0) o.host = listen.substr(0, colon);
  try {
    size_t used = 0;
    o.port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || o.port < 0 || o.port > 65535)
      throw std::out_of_range("");
  } catch (const std::exception&) {
    throw CommandError{
        fmt::format("--listen port must be 0 to 65535, got \"{}\"", listen.substr(colon + 1)), 2};
  }
  return o;
}

std::string ReadToken(const std::string& file) {
  // As ssh does with keys: a secret that others can read is refused, before it is used.
  struct stat st {};
  if (stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw CommandError{
        fmt::format(
            "--token-file {} is open to its group or others (mode {:04o}): run chmod 600 {}", file,
            st.st_mode & 07777, file),
        1};
  }
  std::ifstream in(file);
  if (!in) throw CommandError{fmt::format("cannot read --token-file {}", file), 1};
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) throw CommandError{fmt::format("--token-file {} is empty", file), 1};
  return token;
}

double Seconds(std::chrono::milliseconds d) {
  return static_cast<double>(d.count()) / 1000.0;
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0 + 0.5));
}

// Each connection is a descriptor: the soft limit (often 1,024) is raised to the hard one, as
// servers do, so that a crowd of clients does not run it out.
void RaiseDescriptorLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
}

// One line on stderr per retention run, as the server's other events are told.
void LogRetention(const Result<PruneResult>& r) {
  if (!r.ok()) {
    std::cerr << fmt::format("engram serve: retention failed: {}\n", r.status().message());
    return;
  }
  std::cerr << fmt::format(
      "engram serve: retention removed {} episode(s) and {} step(s) started before {}\n",
      r->episodes, r->steps, r->before);
}

}  // namespace

void AddServeCommand(CLI::App& app, GlobalFlags& flags) {
  auto* cmd =
      app.add_subcommand("serve", "Serve the HTTP/JSON API and MCP (Streamable HTTP at /mcp)");
  static std::string listen = "127.0.0.1:8377", token_file, retain;
  static const server::ServeOptions defaults;
  static double header_timeout = Seconds(defaults.limits.header_timeout),
                body_timeout = Seconds(defaults.limits.body_timeout),
                idle_timeout = Seconds(defaults.limits.idle_timeout),
                mcp_session_idle = Seconds(defaults.mcp_session_idle),
                otlp_completion_delay = Seconds(defaults.otlp_completion_delay);
  static size_t max_header_bytes = defaults.limits.max_header_bytes,
                max_headers = defaults.limits.max_headers,
                max_body_bytes = defaults.limits.max_body_bytes,
                max_mcp_sessions = defaults.max_mcp_sessions;
  cmd->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8377)");
  cmd->add_option("--token-file", token_file,
                  "File holding the bearer token every route but /healthz then requires");
  auto seconds = CLI::Range(0.001, 86400.0);
  cmd->add_option("--header-timeout", header_timeout,
                  "Seconds a request's header section may take to arrive (default 10)")
      ->check(seconds);
  cmd->add_option("--body-timeout", body_timeout,
                  "Seconds a request's body, or the reading of a reply, may take (default 60)")
      ->check(seconds);
  cmd->add_option("--idle-timeout", idle_timeout,
                  "Seconds a keep-alive connection may wait for its next request (default 60)")
      ->check(seconds);
  cmd->add_option("--max-header-bytes", max_header_bytes,
                  "Largest header section, in bytes (default 65536; larger: 431)")
      ->check(CLI::Range(size_t{1024}, size_t{16} << 20));
  cmd->add_option("--max-headers", max_headers,
                  "Most header fields in a request (default 100; more: 431)")
      ->check(CLI::Range(size_t{8}, size_t{10000}));
  cmd->add_option("--max-body-bytes", max_body_bytes,
                  "Largest request body, chunked or not, in bytes (default 16777216; larger: 413)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  cmd->add_option("--mcp-session-idle", mcp_session_idle,
                  "Seconds an MCP-over-HTTP session may stay unused (default 3600)")
      ->check(seconds);
  cmd->add_option("--otlp-completion-delay", otlp_completion_delay,
                  "Seconds an OpenTelemetry episode waits, after its root span, for spans still "
                  "on their way (default 2; 0 completes it at once)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--retain", retain,
                  "Keep episodes this long (by start, e.g. 90d): older ones are pruned when the "
                  "server starts and every hour after");
  cmd->add_option("--max-mcp-sessions", max_mcp_sessions,
                  "Most MCP-over-HTTP sessions at once (default 1000)")
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->callback([&flags] {
    server::ServeOptions options = ParseListen(listen);
    if (!token_file.empty()) options.token = ReadToken(token_file);
    options.limits.header_timeout = Millis(header_timeout);
    options.limits.body_timeout = Millis(body_timeout);
    options.limits.idle_timeout = Millis(idle_timeout);
    options.limits.max_header_bytes = max_header_bytes;
    options.limits.max_headers = max_headers;
    options.limits.max_body_bytes = max_body_bytes;
    options.mcp_session_idle = Millis(mcp_session_idle);
    options.max_mcp_sessions = max_mcp_sessions;
    options.otlp_completion_delay = Millis(otlp_completion_delay);
    RaiseDescriptorLimit();
    // SIGTERM and SIGINT stop the server from a thread of their own; blocked before any other
    // thread starts, so that none of them takes the signal.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    Options memory_options = Check(OptionsFor(flags));
    if (!retain.empty()) {
      auto age = ParseDuration("--retain", retain);
      if (!age.ok()) throw CommandError{age.status().message(), 2};
      memory_options.retention = RetentionOptions{*age, std::chrono::hours(1), LogRetention};
    }
    auto memory = Check(Memory::open(Check(ResolveDatabaseUrl(flags)), std::move(memory_options)));
    server::HttpServer server(*memory, options);
    Check(server.bind());
    const std::string base =
        fmt::format("http://{}:{}",
                    options.host.find(':') != std::string::npos && options.host.front() != '['
                        ? "[" + options.host + "]"
                        : options.host,
                    server.port());
    std::cout << fmt::format(
        "engram serving {}\n  dashboard  {}/\n  API        {}/v1/episodes\n  MCP        {}/mcp\n"
        "  health     {}/healthz\n  metrics    {}/metrics\n",
        base, base, base, base, base, base);
    if (!retain.empty()) {
      std::cout << fmt::format(
          "  retain     episodes started within {}; older ones pruned hourly\n", retain);
    }
    std::cout << std::flush;
    std::thread waiter([&server, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      server.stop();
    });
    Status served = server.run();
    // Whether stopped by a signal or not, the waiter must end: send ourselves one.
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
    Check(memory->close());  // every accepted step is flushed before exit
    Check(served);
  });
}

}  // namespace engram::cli
