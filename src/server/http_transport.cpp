#include "server/http_transport.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <limits>
#include <list>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace engram::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr int kListenBacklog = 1024;
// After a refusal sent before the body was read, what the client still sends is read and
// dropped for a while before the connection closes: closing with unread data would reset it,
// and the client could lose the refusal.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;
// accept() out of descriptors: wait this long before trying again, rather than spin.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
// A worker whose answer is out waits this long for the client's next request before it leaves
// the connection to the I/O threads (so long as half the workers are free).
constexpr std::chrono::milliseconds kWorkerWaits(2);

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A parse error (the client sent something that is not HTTP/1.1), rather than a connection
// that ended or timed out.
bool IsMalformed(const beast::error_code& ec) {
  return ec && ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What a connection answers when parsing stopped with `ec`, a parse error or a limit passed;
// none when the connection just ended or timed out. The same for ParseHttpRequest.
struct Refusal {
  int status;
  const char* code;
  std::string message;
};
std::optional<Refusal> RefusalFor(const beast::error_code& ec, const HttpLimits& limits) {
  if (ec == http::error::header_limit) {
    return Refusal{431, "header_too_large",
                   fmt::format("the request's header section is larger than {} bytes, the limit",
                               limits.max_header_bytes)};
  }
  if (ec == http::error::body_limit) {
    return Refusal{
        413, "payload_too_large",
        fmt::format("the request body is larger than {} bytes, the limit", limits.max_body_bytes)};
  }
  if (IsMalformed(ec)) {
    return Refusal{400, "bad_request", "the request is not valid HTTP/1.1: " + ec.message()};
  }
  return std::nullopt;
}

std::string TooManyFields(const HttpLimits& limits) {
  return fmt::format("the request has more than {} header fields, the limit", limits.max_headers);
}

// The request's head as engram reads it; false when it has more fields than the limit.
bool FillRequest(const http::request_parser<http::string_body>& parser, const HttpLimits& limits,
                 HttpRequest& request) {
  const auto& head = parser.get();
  size_t fields = 0;
  for (const auto& f : head) {
    if (++fields > limits.max_headers) return false;
    request.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  }
  request.method = std::string(head.method_string());
  const std::string_view target(head.target().data(), head.target().size());
  const size_t q = target.find('?');
  request.path = PercentDecode(target.substr(0, q), false);
  if (q != std::string_view::npos) request.params = ParseQuery(target.substr(q + 1));
  request.has_body = parser.chunked() || parser.content_length().value_or(0) > 0;
  return true;
}

// The answer as bytes on the wire (Beast's serializer), with Connection: close when `close`.
std::string Serialize(HttpResponse r, bool close) {
  http::response<http::string_body> reply(static_cast<http::status>(r.status), 11);
  if (!r.content_type.empty()) reply.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) reply.insert(k, v);
  reply.body() = std::move(r.body);
  reply.keep_alive(!close);
  reply.prepare_payload();
  std::ostringstream out;
  out << reply;
  return std::move(out).str();
}

}  // namespace

Result<HttpRequest> ParseHttpRequest(std::string_view bytes, const HttpLimits& limits,
                                     int* http_status) {
  auto refuse = [&](int status, std::string why) -> Result<HttpRequest> {
    if (http_status) *http_status = status;
    return Status::InvalidArgument(std::move(why));
  };
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
  beast::error_code ec;
  asio::const_buffer rest(bytes.data(), bytes.size());
  while (rest.size() > 0 && !parser.is_done()) {
    const size_t used = parser.put(rest, ec);
    if (ec == http::error::need_more) break;
    if (auto r = RefusalFor(ec, limits)) return refuse(r->status, std::move(r->message));
    if (ec) return refuse(400, "the request is not valid HTTP/1.1: " + ec.message());
    rest += used;
  }
  if (!parser.is_done()) return refuse(400, "the request ends before it is whole");
  HttpRequest request;
  if (!FillRequest(parser, limits, request)) return refuse(431, TooManyFields(limits));
  request.body = std::move(parser.get().body());
  if (http_status) *http_status = 200;
  return request;
}

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

bool HttpRequest::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += plus_is_space && c == '+' ? ' ' : c;
  }
  return out;
}

Headers ParseQuery(std::string_view query) {
  Headers out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    out.emplace_back(PercentDecode(pair.substr(0, eq), true),
                     eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true));
  }
  return out;
}

struct HttpTransport::Impl {
  class Connection;

  Impl(HttpLimits l, HttpApplication a)
      : limits(l),
        app(std::move(a)),
        acceptor(asio::make_strand(io)),
        retry(acceptor.get_executor()) {}

  void Accept();
  void Register(const std::shared_ptr<Connection>& c);
  void Unregister(std::list<std::weak_ptr<Connection>>::iterator it);
  // The live connections, held: stopping one may be the last of it, outside the lock.
  std::vector<std::shared_ptr<Connection>> Live();

  const HttpLimits limits;
  const HttpApplication app;
  int port = 0;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::list<std::weak_ptr<Connection>> connections;  // live ones
  std::atomic<int> serving{0};                       // workers handling a request

  // Destroyed in reverse order: the workers (whose tasks hold connections) before the I/O
  // context their sockets belong to, and that before the list connections leave as they go.
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  std::optional<asio::thread_pool> workers;
};

class HttpTransport::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {}
  ~Connection() { server_.Unregister(self_in_list_); }

  void Start(std::list<std::weak_ptr<Connection>>::iterator it) {
    self_in_list_ = it;
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->ReadHeader(self->server_.limits.header_timeout);
    });
  }

  // From stop(): a connection waiting for a request, or for one's header or body, closes; one
  // whose request is being handled or answered closes once the answer is out.
  void Stop() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      std::lock_guard lock(self->mu_);
      self->stopping_ = true;
      if (self->state_ == State::kReading) self->Close();
    });
  }
  // Past the shutdown deadline: closed whatever it was doing.
  void Cut() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class State { kReading, kHandling, kWriting, kClosed };

  // Between requests: the next one's first bytes within the idle timeout, then its header
  // within the header timeout.
  void AwaitRequest() {
    if (stopping_) return Close();
    if (buffer_.size() > 0 || ReadMoreHere()) return ReadHeader(server_.limits.header_timeout);
    state_ = State::kReading;
    stream_.expires_after(server_.limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeader(self->server_.limits.header_timeout);
                            });
  }

  void ReadHeader(std::chrono::milliseconds deadline) {
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.limits.max_header_bytes));
    // The Content-Length is checked once admitted (Beast 1.74 reads "none" as "no body").
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // A header already in the buffer (the usual case once its first bytes are in) is read at
    // once, without another round through the I/O thread.
    while (buffer_.size() > 0) {
      beast::error_code ec;
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec != http::error::need_more) return OnHeader(ec);
      if (!ReadMoreHere()) break;
    }
    stream_.expires_after(deadline);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (auto r = RefusalFor(ec, server_.limits)) return Refuse(std::move(*r));
    if (ec) return Close();  // timed out, reset, or gone between requests
    request_ = HttpRequest();
    if (!FillRequest(*parser_, server_.limits, request_)) {
      return Refuse({431, "header_too_large", TooManyFields(server_.limits)});
    }
    keep_alive_ = parser_->get().keep_alive();

    auto admitted = server_.app.admit(request_);
    if (auto* refusal = std::get_if<HttpResponse>(&admitted)) {
      return Send(std::move(*refusal), /*close=*/request_.has_body);
    }
    handler_ = std::move(std::get<HttpApplication::Handler>(admitted));
    const uint64_t limit = server_.limits.max_body_bytes;
    if (parser_->content_length().value_or(0) > limit) {
      return Refuse({413, "payload_too_large",
                     fmt::format("the request body is {} bytes, limit {} bytes",
                                 *parser_->content_length(), limit)});
    }
    parser_->body_limit(limit);
    if (!request_.has_body) return Handle();
    if (EqualsIgnoreCase(request_.header("Expect"), "100-continue")) {
      continue_ = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      stream_.expires_after(server_.limits.body_timeout);
      return http::async_write(stream_, *continue_,
                               [self = shared_from_this()](beast::error_code ec, size_t) {
                                 if (ec) return self->Close();
                                 self->ReadBody();
                               });
    }
    ReadBody();
  }

  void ReadBody() {
    // What of the body is in the buffer already is read at once; the rest as it comes.
    parser_->eager(true);
    beast::error_code ec;
    do {
      while (buffer_.size() > 0 && !parser_->is_done() && !ec) {
        buffer_.consume(parser_->put(buffer_.data(), ec));
      }
      if (ec == http::error::need_more) ec = {};
      if (ec || parser_->is_done()) return OnBody(ec);
    } while (ReadMoreHere());
    stream_.expires_after(server_.limits.body_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    if (auto r = RefusalFor(ec, server_.limits)) return Refuse(std::move(*r));
    if (ec) return Close();
    request_.body = std::move(parser_->get().body());
    Handle();
  }

  // The handler on a worker thread, where it may block on the store (a commit) without
  // holding an I/O thread. A worker that reads the next request itself handles it itself.
  void Handle() {
    state_ = State::kHandling;
    stream_.expires_never();
    if (tls_next.connection == this) {
      tls_next.ready = true;
      return;
    }
    asio::post(*server_.workers, [self = shared_from_this()] { self->Serve(); });
  }

  // On a worker: the request handled and its answer written; then, while the client sends its
  // next request at once, that one too, on this thread, as a thread per connection would.
  void Serve() {
    server_.serving.fetch_add(1);
    struct Done {
      std::atomic<int>& serving;
      ~Done() { serving.fetch_sub(1); }
    } done_serving{server_.serving};
    do {
      HttpResponse response;
      try {
        handler_(request_, response);
      } catch (const std::exception& e) {
        // A bug of engram's: the client gets no library's text; the log gets the detail.
        std::fprintf(stderr, "engram serve: %s %s failed: %s\n", request_.method.c_str(),
                     request_.path.substr(0, 200).c_str(), e.what());
        response =
            server_.app.error(500, "internal", "the server failed on this request (see its log)");
      }
      // Most answers fit in the socket's buffer: written here, at once, rather than after a
      // round through an I/O thread; what does not fit is written from there. (No other
      // operation is under way on the socket while a request is handled.)
      const bool close = !keep_alive_;
      std::string out = Serialize(std::move(response), close);
      beast::error_code ec;
      size_t done = 0;
      auto& socket = stream_.socket();
      socket.non_blocking(true, ec);
      if (!ec) done = socket.write_some(asio::buffer(out), ec);
      const bool failed = ec && ec != asio::error::would_block;
      if (failed || close || done < out.size()) {
        return asio::dispatch(
            stream_.get_executor(),
            [self = shared_from_this(), out = std::move(out), done, close, failed]() mutable {
              if (failed) return self->Close();
              self->out_ = std::move(out);
              self->WriteOut(done, close);
            });
      }
    } while (ReadNextHere());
  }

  // On a worker whose answer is out: waits a moment for the client's next request and reads
  // it as an I/O thread would, with the same code, under mu_ (which Stop() takes too). True
  // when a whole request came in time and was admitted, for this thread to handle; otherwise
  // the connection is back with the I/O threads, reading what is still to come.
  bool ReadNextHere() {
    auto& next = tls_next;
    next = {this, std::chrono::steady_clock::now(), false};
    if (server_.serving.load() <= server_.limits.worker_threads / 2) next.until += kWorkerWaits;
    ReadMoreHere();  // outside the lock: Stop() need not wait for a quiet client
    std::lock_guard lock(mu_);
    AwaitRequest();
    const bool ready = next.ready;
    next = {};
    return ready;
  }

  // On the worker reading this connection's next request: waits for more bytes until its
  // time is up, and reads them. False when none came (the caller then reads asynchronously).
  bool ReadMoreHere() {
    if (tls_next.connection != this) return false;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        tls_next.until - std::chrono::steady_clock::now());
    pollfd ready{stream_.socket().native_handle(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) return false;
    beast::error_code ec;
    auto& socket = stream_.socket();
    const size_t in = socket.available(ec);
    const size_t n = socket.read_some(buffer_.prepare(std::clamp<size_t>(in, 4096, 1 << 20)), ec);
    buffer_.commit(n);
    return n > 0;  // an error is for the asynchronous read to find
  }

  void Refuse(Refusal r) {
    Send(server_.app.error(r.status, r.code, std::move(r.message)), /*close=*/true);
  }

  void Send(HttpResponse r, bool close) {
    if (!stream_.socket().is_open()) return;
    close = close || !keep_alive_ || stopping_;
    out_ = Serialize(std::move(r), close);
    WriteOut(0, close);
  }

  // The answer in out_ from byte `done` on; then the next request, or the close.
  void WriteOut(size_t done, bool close) {
    if (!stream_.socket().is_open()) return;
    state_ = State::kWriting;
    auto next = [self = shared_from_this(), close](beast::error_code ec, size_t) {
      self->out_.clear();
      if (ec) return self->Close();
      if (close) return self->Linger();
      self->AwaitRequest();
    };
    if (done == out_.size()) return next({}, 0);
    stream_.expires_after(server_.limits.body_timeout);
    asio::async_write(stream_, asio::buffer(out_.data() + done, out_.size() - done),
                      std::move(next));
  }

  // Sends FIN, then reads and drops what the client still sends, for a while, so that the
  // client reads the answer before the connection goes.
  void Linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    state_ = State::kReading;
    stream_.expires_after(kLingerTime);
    Drain();
  }
  void Drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  HttpApplication::Handler handler_;
  std::string out_;  // the answer being written
  std::shared_ptr<http::response<http::empty_body>> continue_;
  State state_ = State::kReading;
  bool keep_alive_ = true;
  bool stopping_ = false;
  size_t lingered_ = 0;
  std::list<std::weak_ptr<Connection>>::iterator self_in_list_;
  // A connection is driven by one thread at a time: an I/O thread as an operation completes,
  // or the worker handling its request. Stop() comes from outside: it takes mu_, and so does a
  // worker while it reads the next request.
  std::mutex mu_;
  // On a worker thread: the connection whose next request it reads, until when it waits for
  // its bytes, and whether one came whole.
  struct ReadingNext {
    Connection* connection = nullptr;
    std::chrono::steady_clock::time_point until;
    bool ready = false;
  };
  static thread_local ReadingNext tls_next;
};

thread_local HttpTransport::Impl::Connection::ReadingNext HttpTransport::Impl::Connection::tls_next;

void HttpTransport::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io),
                        [self = this](beast::error_code ec, tcp::socket socket) {
                          if (ec == asio::error::operation_aborted || !self->acceptor.is_open())
                            return;
                          if (ec) {
                            // Out of descriptors, most likely: a pause, not a spin.
                            self->retry.expires_after(kAcceptBackoff);
                            self->retry.async_wait([self](beast::error_code wait) {
                              if (!wait) self->Accept();
                            });
                            return;
                          }
                          beast::error_code ignored;
                          // A reply goes out in one write, but a client's next request may wait on
                          // its ACK.
                          socket.set_option(tcp::no_delay(true), ignored);
                          auto c = std::make_shared<Connection>(*self, std::move(socket));
                          self->Register(c);
                          self->Accept();
                        });
}

void HttpTransport::Impl::Register(const std::shared_ptr<Connection>& c) {
  std::list<std::weak_ptr<Connection>>::iterator it;
  bool stopped = false;
  {
    std::lock_guard lock(mu);
    it = connections.insert(connections.end(), c);
    stopped = stopping;
  }
  c->Start(it);
  if (stopped) c->Stop();
}

std::vector<std::shared_ptr<HttpTransport::Impl::Connection>> HttpTransport::Impl::Live() {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lock(mu);
  for (auto& weak : connections) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

void HttpTransport::Impl::Unregister(std::list<std::weak_ptr<Connection>>::iterator it) {
  std::lock_guard lock(mu);
  connections.erase(it);
  if (connections.empty()) cv.notify_all();
}

HttpTransport::HttpTransport(HttpLimits limits, HttpApplication app)
    : impl_(std::make_unique<Impl>(limits, std::move(app))) {}

HttpTransport::~HttpTransport() {
  stop();
}

Status HttpTransport::bind(const std::string& host, int port) {
  std::string name = host;
  if (name.size() > 2 && name.front() == '[') name = name.substr(1, name.size() - 2);
  beast::error_code ec;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(name, std::to_string(port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  auto fail = [&](const beast::error_code& why) {
    return Status::IOError(fmt::format("cannot listen on {}:{}: {}", host, port, why.message()));
  };
  if (ec) return fail(ec);
  if (endpoints.empty()) return fail(asio::error::host_not_found);
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& a = impl_->acceptor;
  // SO_REUSEADDR alone: a restart binds at once, but a second server on a port in use fails.
  if (a.open(endpoint.protocol(), ec); ec) return fail(ec);
  if (a.set_option(asio::socket_base::reuse_address(true), ec); ec) return fail(ec);
  if (a.bind(endpoint, ec); ec) {
    a.close(ec);
    return fail(ec);
  }
  if (a.listen(kListenBacklog, ec); ec) return fail(ec);
  impl_->port = a.local_endpoint().port();
  return Status::Ok();
}

int HttpTransport::port() const {
  return impl_->port;
}

Status HttpTransport::run() {
  Impl& s = *impl_;
  if (!s.acceptor.is_open()) return Status::FailedPrecondition("the server is not bound");
  {
    std::lock_guard lock(s.mu);
    if (s.stopping) return Status::Ok();
    s.workers.emplace(static_cast<size_t>(std::max(1, s.limits.worker_threads)));
  }
  auto guard = asio::make_work_guard(s.io);
  s.Accept();
  // A few I/O threads: they only read, parse and write.
  const unsigned io_threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < io_threads; ++i) threads.emplace_back([&s] { s.io.run(); });

  std::unique_lock lock(s.mu);
  s.cv.wait(lock, [&] { return s.stopping; });
  lock.unlock();
  asio::dispatch(s.acceptor.get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.retry.cancel();
  });
  for (auto& c : s.Live()) c->Stop();
  lock.lock();
  const bool drained =
      s.cv.wait_for(lock, s.limits.shutdown_timeout, [&] { return s.connections.empty(); });
  lock.unlock();
  guard.reset();
  if (!drained) s.io.stop();
  for (auto& t : threads) t.join();
  // A handler still running finishes (a commit under way is not cut); its answer goes nowhere.
  s.workers->join();
  if (!drained) {
    // The connections cut at the deadline close here, so that none outlives the server.
    s.io.restart();
    for (auto& c : s.Live()) c->Cut();
    s.io.run();
  }
  return Status::Ok();
}

void HttpTransport::stop() {
  std::lock_guard lock(impl_->mu);
  impl_->stopping = true;
  impl_->cv.notify_all();
}

}  // namespace engram::server
