#include "server/http_server.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include "core/uuid.h"
#include "engram/json.h"
#include "mcp/session.h"
#include "otlp/receiver.h"
#include "server/http_transport.h"
#include "server/web_assets.h"

namespace engram::server {
namespace {

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
    case Status::Code::kUnavailable:
      return {503, "unavailable"};
    case Status::Code::kNoSpace:
      return {507, "insufficient_storage"};
    default:
      return {500, "internal"};
  }
}

void SendJson(HttpResponse& res, int status, const ordered_json& body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void SendError(HttpResponse& res, int status, const char* code, const std::string& message) {
  SendJson(res, status, ordered_json{{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse Error(int status, const char* code, const std::string& message) {
  HttpResponse res;
  SendError(res, status, code, message);
  return res;
}

void SendStatus(HttpResponse& res, const Status& s) {
  const HttpError e = ErrorFor(s);
  SendError(res, e.status, e.code, s.message());
}

// The request body as JSON; a 400 sent when it is not (invalid UTF-8 included), or is beyond
// parse_json's limits.
std::optional<json> Body(const HttpRequest& req, HttpResponse& res) {
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
std::optional<json> Query(const HttpRequest& req, HttpResponse& res,
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

std::string PruneText(const PruneMetrics& p) {
  return fmt::format(
      "# HELP engram_prune_runs_total Prunes that removed episodes (DELETE /v1/episodes and "
      "retention), by what ran them.\n"
      "# TYPE engram_prune_runs_total counter\n"
      "engram_prune_runs_total{{trigger=\"request\"}} {}\n"
      "engram_prune_runs_total{{trigger=\"retention\"}} {}\n"
      "# HELP engram_prune_failures_total Prunes stopped by an error of the store.\n"
      "# TYPE engram_prune_failures_total counter\n"
      "engram_prune_failures_total {}\n"
      "# HELP engram_pruned_episodes_total Episodes removed by prunes.\n"
      "# TYPE engram_pruned_episodes_total counter\n"
      "engram_pruned_episodes_total {}\n"
      "# HELP engram_pruned_steps_total Steps removed with them.\n"
      "# TYPE engram_pruned_steps_total counter\n"
      "engram_pruned_steps_total {}\n"
      "# HELP engram_retention_last_run_timestamp_seconds When retention last ran (0: never).\n"
      "# TYPE engram_retention_last_run_timestamp_seconds gauge\n"
      "engram_retention_last_run_timestamp_seconds {:.3f}\n",
      p.runs - p.retention_runs, p.retention_runs, p.failures, p.episodes, p.steps,
      p.retention_last_run);
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

// application/json, or a type with the +json suffix (RFC 6839), parameters aside.
bool IsJsonType(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return type == "application/json" ||
         (type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0);
}

// The dashboard's page and assets need no token: they hold no data, and a browser cannot send
// one when it opens a URL. Everything they show comes from the API, which does.
bool IsDashboardPath(std::string_view path) {
  return path == "/" || path.starts_with("/assets/");
}

std::string_view ContentTypeOf(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// One of the dashboard's files: revalidated on each use (ETag), scripts only from this server.
void SendAsset(const HttpRequest& req, HttpResponse& res, const WebAsset& asset) {
  const std::string etag = fmt::format("\"{:016x}\"", std::hash<std::string_view>{}(asset.bytes));
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                 "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
  if (req.header("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.content_type = ContentTypeOf(asset.name);
  res.body = asset.bytes;
}

// "/v1/episodes/{id}/steps" -> {"v1", "episodes", "{id}", "steps"}.
std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t at = path.empty() || path[0] != '/' ? 0 : 1;
  while (at <= path.size()) {
    const size_t slash = std::min(path.find('/', at), path.size());
    out.emplace_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

struct Route {
  std::string method;
  std::string label;  // as people read it, and the metrics' label: /v1/episodes/{id}
  std::vector<std::string> segments;
  HttpApplication::Handler handler;
  // Bodies of another Content-Type are refused with 415 before the handler runs; a route that
  // reads its own types (OTLP's protobuf) checks them itself.
  bool json_body = true;

  // Whether `path` is this route's, its {...} segments into `captures`.
  bool Matches(const std::vector<std::string>& path, std::vector<std::string>& captures) const {
    if (path.size() != segments.size()) return false;
    captures.clear();
    for (size_t i = 0; i < path.size(); ++i) {
      if (!segments[i].empty() && segments[i].front() == '{') {
        if (path[i].empty()) return false;
        captures.push_back(path[i]);
      } else if (segments[i] != path[i]) {
        return false;
      }
    }
    return true;
  }
};

// An MCP session over HTTP and when it was last used.
struct McpSession {
  std::shared_ptr<mcp::Session> session;
  std::chrono::steady_clock::time_point used;
};

}  // namespace

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

struct HttpServer::Impl {
  Impl(Memory& m, ServeOptions o)
      : memory(m),
        options(std::move(o)),
        transport(options.limits,
                  HttpApplication{[this](HttpRequest& req) { return Admit(req); }, Error}) {}

  void Add(const char* method, std::string label, HttpApplication::Handler handler,
           bool json_body = true) {
    routes.push_back(Route{method, label, Segments(label), std::move(handler), json_body});
  }
  std::variant<HttpResponse, HttpApplication::Handler> Admit(HttpRequest& req);
  void Mcp(const HttpRequest& req, HttpResponse& res);
  // OTLP/HTTP: POST /v1/traces, answered in the request's encoding.
  void Traces(const HttpRequest& req, HttpResponse& res);
  // The session of that id, none when unknown or idle past its time (then forgotten).
  std::shared_ptr<mcp::Session> FindSession(const std::string& id);
  std::string NewSession(std::shared_ptr<mcp::Session> session);
  void Setup();

  Memory& memory;
  ServeOptions options;
  std::vector<Route> routes;
  Metrics metrics;
  std::mutex sessions_mu;
  std::map<std::string, McpSession> sessions;
  otlp::TraceReceiver traces{memory, options.otlp_completion_delay};
  HttpTransport transport;  // last: stopped and gone before what its handlers use
};

std::variant<HttpResponse, HttpApplication::Handler> HttpServer::Impl::Admit(HttpRequest& req) {
  const bool open = req.path == "/healthz" || req.path == "/readyz" || IsDashboardPath(req.path);
  if (options.token && !open && !TokenMatches(req.header("Authorization"), *options.token)) {
    HttpResponse res =
        Error(401, "unauthorized", "a valid bearer token is required (Authorization: Bearer ...)");
    res.set_header("WWW-Authenticate", "Bearer");
    return res;
  }
  const auto path = Segments(req.path);
  const Route* chosen = nullptr;
  std::vector<std::string> allowed, captures;
  for (const Route& r : routes) {
    if (!r.Matches(path, captures)) continue;
    allowed.push_back(r.method);
    if (r.method == req.method) {
      chosen = &r;
      req.captures = captures;
    }
  }
  const std::string shown = req.path.substr(0, 200);
  if (allowed.empty()) {
    return Error(404, "not_found", fmt::format("no route {} {}", req.method.substr(0, 16), shown));
  }
  if (!chosen) {
    HttpResponse res = Error(405, "method_not_allowed",
                             fmt::format("{} is not allowed on {}: {}", req.method.substr(0, 16),
                                         shown, fmt::join(allowed, ", ")));
    res.set_header("Allow", fmt::format("{}", fmt::join(allowed, ", ")));
    return res;
  }
  if (chosen->json_body && req.has_body && req.has_header("Content-Type") &&
      !IsJsonType(req.header("Content-Type"))) {
    return Error(415, "unsupported_media_type",
                 fmt::format("the request body must be JSON (Content-Type: application/json), "
                             "got Content-Type \"{}\"",
                             req.header("Content-Type").substr(0, 100)));
  }
  HttpApplication::Handler handler = [this, route = chosen](const HttpRequest& r,
                                                            HttpResponse& res) {
    const auto start = std::chrono::steady_clock::now();
    route->handler(r, res);
    metrics.request(
        route->label, route->method, res.status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  // The liveness probe answers on the I/O thread, however busy the workers are.
  if (req.path == "/healthz") {
    HttpResponse res;
    handler(req, res);
    return res;
  }
  return handler;
}

std::shared_ptr<mcp::Session> HttpServer::Impl::FindSession(const std::string& id) {
  std::lock_guard lock(sessions_mu);
  auto it = sessions.find(id);
  if (it == sessions.end()) return nullptr;
  const auto now = std::chrono::steady_clock::now();
  if (now - it->second.used > options.mcp_session_idle) {
    sessions.erase(it);
    return nullptr;
  }
  it->second.used = now;
  return it->second.session;
}

std::string HttpServer::Impl::NewSession(std::shared_ptr<mcp::Session> session) {
  const auto now = std::chrono::steady_clock::now();
  const std::string id = NewUuidV7(std::chrono::system_clock::now());
  std::lock_guard lock(sessions_mu);
  std::erase_if(sessions,
                [&](const auto& s) { return now - s.second.used > options.mcp_session_idle; });
  // At the cap, the session idle longest gives way: its client meets 404 and initializes again,
  // as the transport's specification has clients do.
  if (!sessions.empty() && sessions.size() >= options.max_mcp_sessions) {
    sessions.erase(std::min_element(
        sessions.begin(), sessions.end(),
        [](const auto& a, const auto& b) { return a.second.used < b.second.used; }));
  }
  sessions[id] = McpSession{std::move(session), now};
  return id;
}

void HttpServer::Impl::Mcp(const HttpRequest& req, HttpResponse& res) {
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
    const std::string version = req.header("MCP-Protocol-Version");
    if (std::find(std::begin(mcp::kProtocolVersions), std::end(mcp::kProtocolVersions), version) ==
        std::end(mcp::kProtocolVersions)) {
      rpc_error(400, -32000,
                fmt::format("Bad Request: MCP-Protocol-Version \"{}\" is not supported ({})",
                            version.substr(0, 64), fmt::join(mcp::kProtocolVersions, ", ")));
      return;
    }
  }
  std::shared_ptr<mcp::Session> session;
  const std::string id = req.header("Mcp-Session-Id");
  if (mcp::StringField(message, "method") == "initialize") {
    session = std::make_shared<mcp::Session>(memory);
    res.set_header("Mcp-Session-Id", NewSession(session));
  } else if (id.empty()) {
    rpc_error(400, -32000, "Bad Request: the Mcp-Session-Id header is required");
    return;
  } else if (session = FindSession(id); !session) {
    rpc_error(404, -32001, "Session not found: initialize again");
    return;
  }
  auto reply = session->handle(std::move(message));
  if (!reply) {
    res.status = 202;
    return;
  }
  res.status = 200;
  res.content_type = "application/json";
  res.body = reply->dump(-1, ' ', false, json::error_handler_t::replace);
}

void HttpServer::Impl::Traces(const HttpRequest& req, HttpResponse& res) {
  // gRPC's codes, which OTLP's Status carries.
  constexpr int kInvalidArgument = 3, kInternal = 13, kUnavailable = 14;
  const auto encoding = otlp::EncodingOf(req.header("Content-Type"));
  auto refuse = [&](int status, int code, const std::string& message) {
    const otlp::Encoding e = encoding.value_or(otlp::Encoding::kJson);
    res.status = status;
    res.content_type = otlp::ContentTypeOf(e);
    res.body = otlp::EncodeStatus(code, message, e);
  };
  if (!encoding) {
    return refuse(415, kInvalidArgument,
                  fmt::format("an OTLP export is application/x-protobuf or application/json, got "
                              "Content-Type \"{}\"",
                              req.header("Content-Type").substr(0, 100)));
  }
  std::string_view body = req.body;
  std::string inflated;
  const std::string coding = req.header("Content-Encoding");
  if (coding == "gzip") {
    auto r = otlp::Gunzip(body, options.limits.max_body_bytes);
    if (!r.ok()) {
      return refuse(r.status().IsResourceExhausted() ? 413 : 400, kInvalidArgument,
                    r.status().message());
    }
    inflated = std::move(*r);
    body = inflated;
  } else if (!coding.empty() && coding != "identity") {
    return refuse(
        415, kInvalidArgument,
        fmt::format("Content-Encoding \"{}\" is not supported (gzip is)", coding.substr(0, 100)));
  }
  auto request = otlp::DecodeTraceRequest(body, *encoding);
  if (!request.ok()) return refuse(400, kInvalidArgument, request.status().message());
  auto outcome = traces.Export(*request);
  if (!outcome.ok()) {
    // The store's failure: the exporter sends the export again, and what was stored is skipped.
    const bool internal = ErrorFor(outcome.status()).status == 500;
    if (!internal) res.set_header("Retry-After", "1");
    return refuse(internal ? 500 : 503, internal ? kInternal : kUnavailable,
                  "the store: " + outcome.status().message());
  }
  otlp::collector::ExportTraceServiceResponse response;
  if (outcome->rejected_spans > 0) {
    response.mutable_partial_success()->set_rejected_spans(outcome->rejected_spans);
    response.mutable_partial_success()->set_error_message(outcome->error_message);
  }
  res.status = 200;
  res.content_type = otlp::ContentTypeOf(*encoding);
  res.body = otlp::EncodeTraceResponse(response, *encoding);
}

void HttpServer::Impl::Setup() {
  Memory& m = memory;
  // Whether the API wants a token, so that a client (the dashboard) asks for it before its first
  // call rather than after a 401.
  Add("GET", "/healthz", [this](const auto&, auto& res) {
    SendJson(res, 200,
             ordered_json{{"status", "ok"}, {"token_required", options.token.has_value()}});
  });
  // /healthz says the process serves; /readyz that its store answers too (one indexed read), so
  // that a load balancer takes a node whose database is gone out of rotation.
  // Writes that cannot be kept (the file replaced, the disk full) make the node unready too,
  // with the status its writes get.
  Add("GET", "/readyz", [&m](const auto&, auto& res) {
    if (Status s = m.health(); !s.ok()) {
      const HttpError e = ErrorFor(s);
      return SendError(res, e.status == 500 || e.status == 409 ? 503 : e.status,
                       e.status == 507 ? e.code : "unavailable", "the store: " + s.message());
    }
    EpisodeFilter one;
    one.limit = 1;
    auto page = m.list_episodes(one);
    if (!page.ok()) {
      return SendError(res, 503, "unavailable", "the store: " + page.status().message());
    }
    SendJson(res, 200, ordered_json{{"status", "ok"}});
  });
  Add("GET", "/metrics", [this](const auto&, auto& res) {
    res.content_type = "text/plain; version=0.0.4";
    res.body =
        metrics.text() + WriterText(memory.writer_metrics()) + PruneText(memory.prune_metrics());
  });
  Add("POST", "/v1/episodes", [&m](const auto& req, auto& res) {
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
  Add("GET", "/v1/episodes", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {"limit"});
    if (!q) return;
    // ids=a,b,c: the episodes of those ids.
    if (auto it = q->find("ids"); it != q->end()) {
      json ids = json::array();
      const std::string list = it->template get<std::string>();
      for (size_t at = 0; at <= list.size();) {
        const size_t comma = std::min(list.find(',', at), list.size());
        if (comma > at) ids.push_back(list.substr(at, comma - at));
        at = comma + 1;
      }
      if (ids.empty()) {
        return SendError(res, 422, "invalid_argument",
                         "ids must name at least one episode id (comma-separated), got \"\"");
      }
      *it = std::move(ids);
    }
    auto filter = episode_filter_from_json(*q);
    if (!filter.ok()) return SendStatus(res, filter.status());
    auto page = m.list_episodes(*filter);
    if (!page.ok()) return SendStatus(res, page.status());
    SendJson(res, 200, to_json(*page));
  });
  // Prune: the filters as query parameters (older_than required), dry_run=true to count only.
  Add("DELETE", "/v1/episodes", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {});
    if (!q) return;
    if (auto it = q->find("dry_run"); it != q->end()) {
      const std::string v = it->template get<std::string>();
      if (v != "true" && v != "false") {
        return SendError(res, 422, "invalid_argument",
                         fmt::format("dry_run must be true or false, got \"{}\"", v.substr(0, 64)));
      }
      *it = v == "true";
    }
    auto filter = prune_filter_from_json(*q);
    if (!filter.ok()) return SendStatus(res, filter.status());
    auto pruned = m.prune(*filter);
    if (!pruned.ok()) return SendStatus(res, pruned.status());
    SendJson(res, 200, to_json(*pruned));
  });
  // steps=false: the episode with its totals and without its steps (GET .../steps pages them).
  Add("GET", "/v1/episodes/{id}", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {});
    if (!q) return;
    for (const auto& item : q->items()) {
      if (item.key() != "steps") {
        return SendError(
            res, 422, "invalid_argument",
            fmt::format("unknown query parameter \"{}\" (known: steps)", item.key().substr(0, 64)));
      }
    }
    const std::string steps = q->value("steps", "");
    if (!steps.empty() && steps != "true" && steps != "false") {
      return SendError(res, 422, "invalid_argument",
                       fmt::format("steps must be true or false, got \"{}\"", steps.substr(0, 64)));
    }
    if (steps == "false") {
      EpisodeFilter one;
      one.ids = {req.captures[0]};
      one.limit = 1;
      auto page = m.list_episodes(one);
      if (!page.ok()) return SendStatus(res, page.status());
      if (page->episodes.empty()) {
        return SendError(res, 404, "not_found",
                         fmt::format("episode {} not found", req.captures[0].substr(0, 64)));
      }
      return SendJson(res, 200, to_json(page->episodes.front(), /*include_steps=*/false));
    }
    auto e = m.get_episode(req.captures[0]);
    if (!e.ok()) return SendStatus(res, e.status());
    SendJson(res, 200, to_json(*e));
  });
  Add("GET", "/v1/episodes/{id}/steps", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {"after", "limit"});
    if (!q) return;
    auto range = step_range_from_json(*q);
    if (!range.ok()) return SendStatus(res, range.status());
    auto page = m.list_steps(req.captures[0], *range);
    if (!page.ok()) return SendStatus(res, page.status());
    SendJson(res, 200, to_json(*page));
  });
  Add("DELETE", "/v1/episodes/{id}", [&m](const auto& req, auto& res) {
    if (Status s = m.delete_episode(req.captures[0]); !s.ok()) return SendStatus(res, s);
    res.status = 204;
  });
  Add("POST", "/v1/episodes/{id}/steps", [this, &m](const auto& req, auto& res) {
    auto body = Body(req, res);
    if (!body) return;
    std::vector<ExecutionStep> steps;
    if (body->is_array()) {
      auto many = steps_from_json(std::move(*body));
      if (!many.ok()) return SendStatus(res, many.status());
      steps = std::move(*many);
    } else {
      auto one = step_from_json(std::move(*body));
      if (!one.ok()) return SendStatus(res, one.status());
      steps.push_back(std::move(*one));
    }
    if (steps.empty()) {
      return SendError(res, 422, "invalid_argument", "the array of steps is empty");
    }
    const size_t n = steps.size();
    // Durable when this returns: the reply is sent after the commit.
    auto numbers = m.log_steps(req.captures[0], std::move(steps));
    if (!numbers.ok()) return SendStatus(res, numbers.status());
    metrics.steps(n);
    SendJson(res, 201, ordered_json{{"step_numbers", *numbers}});
  });
  Add("POST", "/v1/episodes/{id}/complete", [&m](const auto& req, auto& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto outcome = outcome_from_json(*body);
    if (!outcome.ok()) return SendStatus(res, outcome.status());
    auto e = m.complete_episode(req.captures[0], *outcome);
    if (!e.ok()) return SendStatus(res, e.status());
    SendJson(res, 200, to_json(*e));
  });
  Add("GET", "/v1/episodes/{id}/suggest", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {"k"});
    if (!q) return;
    auto k = suggest_k_from_json(*q);
    if (!k.ok()) return SendStatus(res, k.status());
    auto s = m.suggest(req.captures[0], *k);
    if (!s.ok()) return SendStatus(res, s.status());
    SendJson(res, 200, to_json(*s));
  });
  Add("POST", "/v1/recall", [&m](const auto& req, auto& res) {
    auto body = Body(req, res);
    if (!body) return;
    auto query = recall_query_from_json(*body);
    if (!query.ok()) return SendStatus(res, query.status());
    auto r = m.recall(*query);
    if (!r.ok()) return SendStatus(res, r.status());
    SendJson(res, 200, to_json(*r));
  });
  Add("GET", "/v1/patterns", [&m](const auto& req, auto& res) {
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
  Add("GET", "/v1/stats", [&m](const auto& req, auto& res) {
    auto q = Query(req, res, {});
    if (!q) return;
    auto filter = stats_filter_from_json(*q);
    if (!filter.ok()) return SendStatus(res, filter.status());
    auto stats = m.stats(*filter);
    if (!stats.ok()) return SendStatus(res, stats.status());
    SendJson(res, 200, to_json(*stats));
  });
  // The dashboard: its page at /, its scripts and styles under /assets/.
  Add("GET", "/", [](const auto& req, auto& res) {
    for (const WebAsset& a : WebAssets()) {
      if (a.name == "index.html") return SendAsset(req, res, a);
    }
    SendError(res, 404, "not_found", "the dashboard is not built in");
  });
  Add("GET", "/assets/{name}", [](const auto& req, auto& res) {
    for (const WebAsset& a : WebAssets()) {
      if (a.name == req.captures[0] && a.name != "index.html") return SendAsset(req, res, a);
    }
    SendError(res, 404, "not_found",
              fmt::format("no dashboard asset \"{}\"", req.captures[0].substr(0, 100)));
  });
  // This server sends no stream of its own: GET /mcp is 405, as the transport allows.
  Add("POST", "/mcp", [this](const auto& req, auto& res) { Mcp(req, res); });
  Add(
      "POST", "/v1/traces", [this](const auto& req, auto& res) { Traces(req, res); },
      /*json_body=*/false);
  Add("DELETE", "/mcp", [this](const auto& req, auto& res) {
    std::lock_guard lock(sessions_mu);
    res.status = sessions.erase(req.header("Mcp-Session-Id")) ? 200 : 404;
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
  if (impl_->routes.empty()) impl_->Setup();
  return impl_->transport.bind(impl_->options.host, impl_->options.port);
}

HttpResponse HttpServer::respond(HttpRequest request) {
  if (impl_->routes.empty()) impl_->Setup();
  auto admitted = impl_->Admit(request);
  if (auto* answer = std::get_if<HttpResponse>(&admitted)) return std::move(*answer);
  HttpResponse response;
  std::get<HttpApplication::Handler>(admitted)(request, response);
  return response;
}

int HttpServer::port() const {
  return impl_->transport.port();
}

Status HttpServer::run() {
  Status served = impl_->transport.run();
  // The episodes whose root span arrived complete now, rather than wait out their delay.
  impl_->traces.CompletePending();
  return served;
}

void HttpServer::stop() {
  impl_->transport.stop();
}

}  // namespace engram::server
