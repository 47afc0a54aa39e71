// engram serve: the HTTP/JSON API and MCP over Streamable HTTP on one port.
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <sys/stat.h>

#include "cli/cli.h"
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

}  // namespace

void AddServeCommand(CLI::App& app, GlobalFlags& flags) {
  auto* cmd =
      app.add_subcommand("serve", "Serve the HTTP/JSON API and MCP (Streamable HTTP at /mcp)");
  static std::string listen = "127.0.0.1:8377", token_file;
  cmd->add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:8377)");
  cmd->add_option("--token-file", token_file,
                  "File holding the bearer token every route but /healthz then requires");
  cmd->callback([&flags] {
    server::ServeOptions options = ParseListen(listen);
    if (!token_file.empty()) options.token = ReadToken(token_file);
    // SIGTERM and SIGINT stop the server from a thread of their own; blocked before any other
    // thread starts, so that none of them takes the signal.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto memory = OpenMemory(flags);
    server::HttpServer server(*memory, options);
    Check(server.bind());
    const std::string base =
        fmt::format("http://{}:{}",
                    options.host.find(':') != std::string::npos && options.host.front() != '['
                        ? "[" + options.host + "]"
                        : options.host,
                    server.port());
    std::cout << fmt::format(
                     "engram serving {}\n  API      {}/v1/episodes\n  MCP      {}/mcp\n"
                     "  health   {}/healthz\n  metrics  {}/metrics\n",
                     base, base, base, base, base)
              << std::flush;
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
