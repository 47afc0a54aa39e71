#include "server/http_server.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include "core/uuid.h"
#include "engram/json.h"
#include "mcp/session.h"

namespace engram::server {
namespace {

constexpr int kListenBacklog = 1024;

using nlohmann::json;
using nlohmann::ordered_json;

// The error document and status of a failed call.
struct HttpError {
  int status;
  const char* code;
};

HttpError ErrorFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
    case Status::Code::kResourceExhausted:
      return {422, "invalid_argument"};
    case Status::Code::kNotFound:
      return {404, "not_found"};
    case Status::Code::kFailedPrecondition:
      return {409, "conflict"};
    case Status::Code::kAlreadyExists:
      return {409, "already_exists"};
    case Status::Code::kBusy:
    case Status::Code::kAborted:
      return {503, "unavailable"};
    default:
      return {500, "internal"};
  }
}

void SendJson(httplib::Response& res, int status, const ordered_json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const char* code, const std::string& message) {
  SendJson(res, status, ordered_json{{"error", {{"code", code}, {"message", message}}}});
}

void SendStatus(httplib::Response& res, const Status& s) {
  const HttpError e = ErrorFor(s);
  SendError(res, e.status, e.code, s.message());
}

// The request body as JSON; a 400 sent when it is not (invalid UTF-8 included), or is beyond
// parse_json's limits.
std::optional<json> Body(const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json(req.body);
  if (!body.ok()) {
    SendError(res, 400, "bad_request", "the request body is " + body.status().message());
    return std::nullopt;
  }
  return std::move(*body);
}

// A query parameter's whole value as a number read by `parse` (std::stoll, std::stod); none
// when it does not read as one.
template <typename Parse>
std::optional<json> Number(const std::string& value, Parse parse) {
  try {
    size_t used = 0;
    auto v = parse(value, &used);
    if (used == value.size()) return json(v);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Query parameters as the JSON the codec reads: `integers` and `numbers` converted, a 422 sent
// when one does not read as such.
std::optional<json> Query(const httplib::Request& req, httplib::Response& res,
                          std::initializer_list<std::string_view> integers,
                          std::initializer_list<std::string_view> numbers = {}) {
  json j = json::object();
  for (const auto& [key, value] : req.params) {
    const bool integer = std::find(integers.begin(), integers.end(), key) != integers.end();
    const bool number = std::find(numbers.begin(), numbers.end(), key) != numbers.end();
    if (!integer && !number) {
      j[key] = value;
      continue;
    }
    auto v = integer
                 ? Number(value, [](const std::string& s, size_t* n) { return std::stoll(s, n); })
                 : Number(value, [](const std::string& s, size_t* n) { return std::stod(s, n); });
    if (!v) {
      SendError(res, 422, "invalid_argument",
                fmt::format("{} must be {}, got \"{}\"", key, integer ? "an integer" : "a number",
                            value.substr(0, 64)));
      return std::nullopt;
    }
    j[key] = std::move(*v);
  }
  return j;
}

// Prometheus counters and sums, per route.
class Metrics {
 public:
  void request(const std::string& route, const std::string& method, int status, double seconds) {
    std::lock_guard lock(mu_);
    ++requests_[{route, method, status}];
    auto& d = durations_[{route, method}];
    d.first += 1;
    d.second += seconds;
  }
  void steps(size_t n) {
    std::lock_guard lock(mu_);
    steps_ += n;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      if (n <= kBuckets[i]) ++batch_buckets_[i];
    }
    ++batches_;
    batch_sum_ += n;
  }
  std::string text() const {
    std::lock_guard lock(mu_);
    std::string out =
        "# HELP engram_http_requests_total HTTP requests answered, by route, method and status.\n"
        "# TYPE engram_http_requests_total counter\n";
    for (const auto& [k, v] : requests_) {
      out +=
          fmt::format("engram_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                      std::get<0>(k), std::get<1>(k), std::get<2>(k), v);
    }
    out +=
        "# HELP engram_http_request_duration_seconds Time to answer a request, by route.\n"
        "# TYPE engram_http_request_duration_seconds summary\n";
    for (const auto& [k, v] : durations_) {
      const auto labels = fmt::format("route=\"{}\",method=\"{}\"", k.first, k.second);
      out += fmt::format("engram_http_request_duration_seconds_count{{{}}} {}\n", labels, v.first);
      out +=
          fmt::format("engram_http_request_duration_seconds_sum{{{}}} {:.6f}\n", labels, v.second);
    }
    out += fmt::format(
        "# HELP engram_steps_ingested_total Steps made durable through the HTTP API.\n"
        "# TYPE engram_steps_ingested_total counter\n"
        "engram_steps_ingested_total {}\n"
        "# HELP engram_step_batch_size Steps per POST /v1/episodes/{{id}}/steps.\n"
        "# TYPE engram_step_batch_size histogram\n",
        steps_);
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format("engram_step_batch_size_bucket{{le=\"{}\"}} {}\n", kBuckets[i],
                         batch_buckets_[i]);
    }
    out += fmt::format(
        "engram_step_batch_size_bucket{{le=\"+Inf\"}} {}\nengram_step_batch_size_sum {}\n"
        "engram_step_batch_size_count {}\n",
        batches_, batch_sum_, batches_);
    return out;
  }

 private:
  static constexpr std::array<size_t, 7> kBuckets = {1, 5, 10, 50, 100, 500, 1000};
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, double>> durations_;
  uint64_t steps_ = 0, batches_ = 0, batch_sum_ = 0;
  std::array<uint64_t, kBuckets.size()> batch_buckets_{};
};

// The step writer's counters in Prometheus text: commits and their latency, steps written.
std::string WriterText(const WriterMetrics& w) {
  std::string out = fmt::format(
      "# HELP engram_steps_committed_total Steps made durable by the store's writer.\n"
      "# TYPE engram_steps_committed_total counter\n"
      "engram_steps_committed_total {}\n"
      "# HELP engram_steps_failed_total Steps the writer could not store (their callers were told "
      "why).\n"
      "# TYPE engram_steps_failed_total counter\n"
      "engram_steps_failed_total {}\n"
      "# HELP engram_steps_queued Steps accepted and not yet written.\n"
      "# TYPE engram_steps_queued gauge\n"
      "engram_steps_queued {}\n"
      "# HELP engram_commit_duration_seconds Time to write and commit one batch of steps.\n"
      "# TYPE engram_commit_duration_seconds histogram\n",
      w.steps_committed, w.steps_failed, w.steps_queued);
  for (size_t i = 0; i < w.commit_seconds_buckets.size(); ++i) {
    out += fmt::format("engram_commit_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                       WriterMetrics::kCommitSecondsBounds[i], w.commit_seconds_buckets[i]);
  }
  out += fmt::format(
      "engram_commit_duration_seconds_bucket{{le=\"+Inf\"}} {}\n"
      "engram_commit_duration_seconds_sum {:.6f}\nengram_commit_duration_seconds_count {}\n",
      w.commits, w.commit_seconds_sum, w.commits);
  return out;
}

// SHA-256 of `text`.
std::array<unsigned char, SHA256_DIGEST_LENGTH> Digest(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

// "Bearer <token>", the scheme in any case (RFC 9110: schemes are case-insensitive). The guess
// and the token are compared by their SHA-256 digests with OpenSSL's constant-time compare: the
// time taken says nothing of where they differ, nor of the token's length.
bool TokenMatches(const std::string& header, const std::string& token) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return false;
  }
  const auto guess = Digest(std::string_view(header).substr(kScheme.size()));
  const auto expected = Digest(token);
  return CRYPTO_memcmp(guess.data(), expected.data(), guess.size()) == 0;
}

}  // namespace

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

struct HttpServer::Impl {
  Impl(Memory& m, ServeOptions o) : memory(m), options(std::move(o)) {}

  // Registers a handler for `pattern` (a regular expression) that records its metrics under
  // `route`, the pattern as people read it.
  template <typename Register>
  void Route(Register reg, const char* method, const std::string& route, const std::string& pattern,
             std::function<void(const httplib::Request&, httplib::Response&)> handler) {
    (server.*reg)(pattern, [this, method, route, handler](const httplib::Request& req,
                                                          httplib::Response& res) {
      const auto start = std::chrono::steady_clock::now();
      handler(req, res);
      metrics.request(
          route, method, res.status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    });
  }

  void Mcp(const httplib::Request& req, httplib::Response& res);
  void Setup();

  Memory& memory;
  ServeOptions options;
  httplib::Server server;
  Metrics metrics;
  int port = 0;
  int listening = -1;  // the listening socket, once bound
  std::mutex sessions_mu;
  std::map<std::string, std::shared_ptr<mcp::Session>> sessions;
};

void HttpServer::Impl::Mcp(const httplib::Request& req, httplib::Response& res) {
  auto rpc_error = [&](int status, int code, const std::string& message) {
    SendJson(res, status,
             ordered_json{{"jsonrpc", "2.0"},
                          {"id", nullptr},
                          {"error", {{"code", code}, {"message", message}}}});
  };
  auto parsed = parse_json(req.body);
  if (!parsed.ok()) {
    rpc_error(400, -32700, "Parse error: the message is " + parsed.status().message());
    return;
  }
  json message = std::move(*parsed);
  // After initialize a client names its protocol version in a header (2025-06-18 on); one the
  // server does not speak is refused. Without the header, 2025-03-26 is assumed, as the
  // specification says, and the session goes by what initialize agreed.
  if (req.has_header("MCP-Protocol-Version")) {
    const std::string version = req.get_header_value("MCP-Protocol-Version");
    if (std::find(std::begin(mcp::kProtocolVersions), std::end(mcp::kProtocolVersions), version) ==
        std::end(mcp::kProtocolVersions)) {
      rpc_error(400, -32000,
                fmt::format("Bad Request: MCP-Protocol-Version \"{}\" is not supported ({})",
                            version.substr(0, 64), fmt::join(mcp::kProtocolVersions, ", ")));
      return;
    }
  }
  std::shared_ptr<mcp::Session> session;
  const std::string id = req.get_header_value("Mcp-Session-Id");
  if (message.is_object() && message.value("method", "") == "initialize") {
    session = std::make_shared<mcp::Session>(memory);
    const std::string new_id = NewUuidV7(std::chrono::system_clock::now());
    std::lock_guard lock(sessions_mu);
    sessions[new_id] = session;
    res.set_header("Mcp-Session-Id", new_id);
  } else if (id.empty()) {
    rpc_error(400, -32000, "Bad Request: the Mcp-Session-Id header is required");
    return;
  } else {
    std::lock_guard lock(sessions_mu);
    auto it = sessions.find(id);
    if (it == sessions.end()) {
      rpc_error(404, -32001, "Session not found: initialize again");
      return;
    }
    session = it->second;
  }
  auto reply = session->handle(message);
  if (!reply) {
    res.status = 202;
    return;
  }
  res.status = 200;
  res.set_content(reply->dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void HttpServer::Impl::Setup() {
  server.new_task_queue = [] { return new httplib::ThreadPool(256); };
  server.set_payload_max_length(options.max_body_bytes);
  server.set_keep_alive_max_count(100000);  // a client keeps its connection
  server.set_keep_alive_timeout(5);
  server.set_read_timeout(5, 0);
  // A reply goes out in a few writes (headers, body); with Nagle's algorithm the second waits
  // for the client's delayed ACK, some 40 ms, on every request of a keep-alive connection.
  server.set_tcp_nodelay(true);
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options.token || req.path == "/healthz" || req.path == "/readyz")
      return httplib::Server::HandlerResponse::Unhandled;
    if (TokenMatches(req.get_header_value("Authorization"), *options.token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401, "unauthorized",
              "a valid bearer token is required (Authorization: Bearer ...)");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own error document
    if (res.status == 413) {
      SendError(res, 413, "payload_too_large", "the request body is larger than the limit");
    } else if (res.status == 404) {
      SendError(res, 404, "not_found", fmt::format("no route {} {}", req.method, req.path));
    } else {
      SendError(res, res.status, "bad_request", fmt::format("HTTP {}", res.status));
    }
  });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        SendError(res, 500, "internal", what);
      });

  using S = httplib::Server;
  auto get = static_cast<S& (S::*)(const std::string&, S::Handler)>(&S::Get);
  auto post = static_cast<S& (S::*)(const std::string&, S::Handler)>(&S::Post);
  auto del = static_cast<S& (S::*)(const std::string&, S::Handler)>(&S::Delete);
  Memory& m = memory;

  Route(get, "GET", "/healthz", "/healthz", [](const auto&, auto& res) {
    SendJson(res, 200, ordered_json{{"status", "ok"}});
  });
  // /healthz says the process serves; /readyz that its store answers too (one indexed read), so
  // that a load balancer takes a node whose database is gone out of rotation.
  Route(get, "GET", "/readyz", "/readyz", [&m](const auto&, auto& res) {
    EpisodeFilter one;
    one.limit = 1;
    auto page = m.list_episodes(one);
    if (!page.ok()) {
      return SendError(res, 503, "unavailable", "the store: " + page.status().message());
    }
    SendJson(res, 200, ordered_json{{"status", "ok"}});
  });
  Route(get, "GET", "/metrics", "/metrics", [this](const auto&, auto& res) {
    res.set_content(metrics.text() + WriterText(memory.writer_metrics()),
                    "text/plain; version=0.0.4");
  });
  Route(post, "POST", "/v1/episodes", "/v1/episodes", [&m](const auto& req, auto& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto spec = episode_spec_from_json(*body);
    if (!spec.ok()) return SendStatus(res, spec.status());
    auto id = m.start_episode(*spec);
    if (!id.ok()) return SendStatus(res, id.status());
    auto e = m.get_episode(*id);
    if (!e.ok()) return SendStatus(res, e.status());
    res.set_header("Location", "/v1/episodes/" + *id);
    SendJson(res, 201, to_json(*e));
  });
  Route(get, "GET", "/v1/episodes", "/v1/episodes", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {"limit"});
    if (!q) return;
    auto filter = episode_filter_from_json(*q);
    if (!filter.ok()) return SendStatus(res, filter.status());
    auto page = m.list_episodes(*filter);
    if (!page.ok()) return SendStatus(res, page.status());
    SendJson(res, 200, to_json(*page));
  });
  const std::string one = R"(/v1/episodes/([^/]+))";
  Route(get, "GET", "/v1/episodes/{id}", one, [&m](const auto& req, auto& res) {
    auto e = m.get_episode(req.matches[1].str());
    if (!e.ok()) return SendStatus(res, e.status());
    SendJson(res, 200, to_json(*e));
  });
  Route(del, "DELETE", "/v1/episodes/{id}", one, [&m](const auto& req, auto& res) {
    if (Status s = m.delete_episode(req.matches[1].str()); !s.ok()) return SendStatus(res, s);
    res.status = 204;
  });
  Route(post, "POST", "/v1/episodes/{id}/steps", one + "/steps",
        [this, &m](const auto& req, auto& res) {
          auto body = Body(req, res);
          if (!body) return;
          std::vector<ExecutionStep> steps;
          if (body->is_array()) {
            auto many = steps_from_json(*body);
            if (!many.ok()) return SendStatus(res, many.status());
            steps = std::move(*many);
          } else {
            auto one = step_from_json(*body);
            if (!one.ok()) return SendStatus(res, one.status());
            steps.push_back(std::move(*one));
          }
          if (steps.empty()) {
            return SendError(res, 422, "invalid_argument", "the array of steps is empty");
          }
          const size_t n = steps.size();
          // Durable when this returns: the reply is sent after the commit.
          auto numbers = m.log_steps(req.matches[1].str(), std::move(steps));
          if (!numbers.ok()) return SendStatus(res, numbers.status());
          metrics.steps(n);
          SendJson(res, 201, ordered_json{{"step_numbers", *numbers}});
        });
  Route(post, "POST", "/v1/episodes/{id}/complete", one + "/complete",
        [&m](const auto& req, auto& res) {
          auto body = Body(req, res);
          if (!body) return;
          auto outcome = outcome_from_json(*body);
          if (!outcome.ok()) return SendStatus(res, outcome.status());
          auto e = m.complete_episode(req.matches[1].str(), *outcome);
          if (!e.ok()) return SendStatus(res, e.status());
          SendJson(res, 200, to_json(*e));
        });
  Route(get, "GET", "/v1/episodes/{id}/suggest", one + "/suggest",
        [&m](const auto& req, auto& res) {
          auto q = Query(req, res, {"k"});
          if (!q) return;
          auto k = suggest_k_from_json(*q);
          if (!k.ok()) return SendStatus(res, k.status());
          auto s = m.suggest(req.matches[1].str(), *k);
          if (!s.ok()) return SendStatus(res, s.status());
          SendJson(res, 200, to_json(*s));
        });
  Route(post, "POST", "/v1/recall", "/v1/recall", [&m](const auto& req, auto& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto query = recall_query_from_json(*body);
    if (!query.ok()) return SendStatus(res, query.status());
    auto r = m.recall(*query);
    if (!r.ok()) return SendStatus(res, r.status());
    SendJson(res, 200, to_json(*r));
  });
  Route(get, "GET", "/v1/patterns", "/v1/patterns", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {"min_support"}, {"min_success"});
    if (!q) return;
    auto filter = pattern_filter_from_json(*q);
    if (!filter.ok()) return SendStatus(res, filter.status());
    auto patterns = m.list_patterns(*filter);
    if (!patterns.ok()) return SendStatus(res, patterns.status());
    ordered_json list = ordered_json::array();
    for (const auto& p : *patterns) list.push_back(to_json(p));
    SendJson(res, 200, ordered_json{{"patterns", std::move(list)}});
  });
  Route(get, "GET", "/v1/stats", "/v1/stats", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {});
    if (!q) return;
    auto filter = stats_filter_from_json(*q);
    if (!filter.ok()) return SendStatus(res, filter.status());
    auto stats = m.stats(*filter);
    if (!stats.ok()) return SendStatus(res, stats.status());
    SendJson(res, 200, to_json(*stats));
  });
  Route(post, "POST", "/mcp", "/mcp", [this](const auto& req, auto& res) { Mcp(req, res); });
  Route(del, "DELETE", "/mcp", "/mcp", [this](const auto& req, auto& res) {
    std::lock_guard lock(sessions_mu);
    res.status = sessions.erase(req.get_header_value("Mcp-Session-Id")) ? 200 : 404;
  });
  Route(get, "GET", "/mcp", "/mcp", [](const auto&, auto& res) {
    res.set_header("Allow", "POST, DELETE");
    SendError(res, 405, "method_not_allowed",
              "this server sends no stream of its own: POST JSON-RPC messages to /mcp");
  });
}

HttpServer::HttpServer(Memory& memory, ServeOptions options)
    : impl_(std::make_unique<Impl>(memory, std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

Status HttpServer::bind() {
  if (!IsLoopback(impl_->options.host) && !impl_->options.token) {
    return Status::FailedPrecondition(
        fmt::format("listening on {} (beyond loopback) needs a bearer token: pass --token-file",
                    impl_->options.host));
  }
  impl_->Setup();
  // SO_REUSEADDR alone: a restart binds at once, but a second server on a port in use fails
  // (cpp-httplib's default, SO_REUSEPORT, would let both listen and split the clients).
  impl_->server.set_socket_options([impl = impl_.get()](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    impl->listening = sock;
  });
  std::string host = impl_->options.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (impl_->options.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(host);
  } else if (impl_->server.bind_to_port(host, impl_->options.port)) {
    impl_->port = impl_->options.port;
  } else {
    impl_->port = -1;
  }
  if (impl_->port <= 0) {
    return Status::IOError(
        fmt::format("cannot listen on {}:{}", impl_->options.host, impl_->options.port));
  }
  // cpp-httplib listens with a backlog of 5: a burst of clients connecting at once overflows
  // it, and their first requests stall for a retransmission or fail. Listening again on the
  // bound socket raises it (the kernel caps it at net.core.somaxconn).
  if (::listen(impl_->listening, kListenBacklog) != 0) {
    return Status::IOError(fmt::format("cannot listen on {}:{}: {}", impl_->options.host,
                                       impl_->port, std::strerror(errno)));
  }
  return Status::Ok();
}

int HttpServer::port() const {
  return impl_->port;
}

Status HttpServer::run() {
  if (!impl_->server.listen_after_bind())
    return Status::IOError("the server stopped with an error");
  return Status::Ok();
}

void HttpServer::stop() {
  if (impl_->server.is_running()) impl_->server.stop();
}

}  // namespace engram::server
