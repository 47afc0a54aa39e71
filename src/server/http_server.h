// engram serve: the HTTP/JSON API (/v1/...), MCP over Streamable HTTP (/mcp), /healthz and
// /metrics, on one port.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engram/memory.h"

namespace engram::server {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8377;  // 0 picks a free port
  // Required on every route but /healthz when set; required to listen beyond loopback.
  std::optional<std::string> token;
  size_t max_body_bytes = 16 * 1024 * 1024;  // larger request bodies get 413
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
  // Serves until stop(); returns once in-flight requests have been answered.
  Status run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopback(const std::string& host);

}  // namespace engram::server
