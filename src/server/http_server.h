// engram serve: the HTTP/JSON API (/v1/...), MCP over Streamable HTTP (/mcp), /healthz and
// /metrics, on one port.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "engram/memory.h"
#include "server/http_transport.h"

namespace engram::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8377;  // 0 picks a free port
  // Required on every route but /healthz when set; required to listen beyond loopback.
  std::optional<std::string> token;
  HttpLimits limits;  // deadlines and sizes of requests and connections
  // MCP over HTTP: a session unused this long is forgotten (its client initializes again);
  // past the cap, the one idle longest gives way to a new one.
  std::chrono::milliseconds mcp_session_idle{3'600'000};
  size_t max_mcp_sessions = 1000;
  // OTLP: how long an episode waits, after its root span, for spans of it still on their way
  // (exports race); 0 completes it at once.
  std::chrono::milliseconds otlp_completion_delay{2000};
};

class HttpServer {
 public:
  HttpServer(Memory& memory, ServeOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the port. FailedPrecondition when listening beyond loopback without a token,
  // IOError when the address cannot be bound.
  Status bind();
  int port() const;
  // Serves until stop(); returns once in-flight requests have been answered, within
  // limits.shutdown_timeout, and the episodes whose OTLP root span arrived are completed.
  Status run();
  void stop();

  // Answers a request as the server would, without the network: the token, the route, the
  // handler (for tests and fuzzing). Routes are set up by bind() or on first use.
  HttpResponse respond(HttpRequest request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopback(const std::string& host);

}  // namespace engram::server
