// HTTP/1.1 on Boost.Beast: connections, deadlines and size limits, and a clean stop. The API
// (routes, JSON, the token) lives in http_server.cpp; this file knows nothing of engram.
//
// Threads: a few I/O threads read and write every connection asynchronously, so a connection
// that trickles bytes holds no thread; a request whose header is in goes to the application's
// `admit` on the thread that read it (cheap checks: the token, the route, the Content-Type),
// and, once its body is read, to its handler on a pool of worker threads, where the store's
// calls may block (a commit). The worker writes the answer, or as much of it as the socket
// takes, and then waits a moment (2 ms) for the client's next request on that connection: one
// that comes in time is read and handled on the same thread, with no hand-off, as a thread per
// connection would; otherwise the connection goes back to the I/O threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "engram/status.h"

namespace engram::server {

struct HttpLimits {
  std::chrono::milliseconds header_timeout{10'000};  // a request's header section, whole
  std::chrono::milliseconds body_timeout{60'000};    // its body, and the reply's write
  std::chrono::milliseconds idle_timeout{60'000};    // a keep-alive connection between requests
  size_t max_header_bytes = 64 * 1024;               // larger header sections: 431
  size_t max_headers = 100;                          // more header fields: 431
  size_t max_body_bytes = 16 * 1024 * 1024;          // larger bodies, chunked too: 413
  // On stop(): requests in flight are answered; what is left past this is cut.
  std::chrono::milliseconds shutdown_timeout{8'000};
  int worker_threads = 64;  // requests handled at once (the store's calls wait on commits)
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // percent-decoded, without the query
  Headers params;      // the query, percent-decoded, in order
  Headers headers;     // as sent
  bool has_body = false;
  std::string body;                   // read once admitted
  std::vector<std::string> captures;  // set by the application's router: {id}, ...

  // The first header of that name (any case), or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  Headers headers;
  void set_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// What the application does with a request.
struct HttpApplication {
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
  // Once the header is in, on the thread reading it (an I/O thread, or the worker waiting for
  // the connection's next request): a response to send at once (the body, if any, is then not
  // read), or the handler to run on a worker thread with the body. It must not block.
  std::function<std::variant<HttpResponse, Handler>(HttpRequest&)> admit;
  // The error document for a refusal the transport makes itself (413, 431, 400).
  std::function<HttpResponse(int status, const char* code, std::string message)> error;
};

class HttpTransport {
 public:
  HttpTransport(HttpLimits limits, HttpApplication app);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Binds and listens (SO_REUSEADDR, backlog 1,024). IOError when the address cannot be bound.
  Status bind(const std::string& host, int port);
  int port() const;
  // Serves until stop(): then stops accepting, closes connections waiting for a request,
  // answers the requests in flight and returns, within limits.shutdown_timeout.
  Status run();
  // From any thread, before or during run().
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads one request from `bytes` as a connection reads it, with the same limits and into the
// same HttpRequest (for tests and fuzzing). InvalidArgument names what is wrong: not HTTP, a
// limit passed (its status, 400, 413 or 431, as a connection would answer, in `http_status`).
Result<HttpRequest> ParseHttpRequest(std::string_view bytes, const HttpLimits& limits,
                                     int* http_status = nullptr);

// "a%20b" -> "a b"; with `plus_is_space`, '+' too (query strings). Malformed escapes are kept
// as they are.
std::string PercentDecode(std::string_view text, bool plus_is_space);
// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}.
Headers ParseQuery(std::string_view query);

}  // namespace engram::server
