// engram serve against clients that misbehave, over raw sockets on loopback: slow and oversized
// headers, bodies that never end, connections that never leave, methods and types it does not
// take, and a stop with all of them still connected.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "engram/engram.h"
#include "server/http_server.h"
#include "server/serving.h"
#include "test_util.h"

namespace engram::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::TempDir;

// A client socket on 127.0.0.1 that sends raw bytes.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Raw() {
    if (fd_ >= 0) close(fd_);
  }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  Raw(Raw&& o) noexcept : fd_(std::exchange(o.fd_, -1)), connected_(o.connected_) {}

  bool connected() const { return connected_; }
  // False once the server has closed (a write then fails).
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // What arrives until the server closes or `wait` passes without a byte.
  std::string Read(std::chrono::milliseconds wait = 5s) {
    std::string out;
    char buf[65536];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return out;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // One whole answer: its status line and headers, then Content-Length bytes of body.
  std::string Answer(std::chrono::milliseconds wait = 5s) {
    std::string out;
    char buf[65536];
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      const size_t end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        const size_t cl = out.find("Content-Length: ");
        const size_t length = cl < end ? std::stoul(out.substr(cl + 16)) : 0;
        if (out.size() >= end + 4 + length) return out;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // Whether the server closed the connection within `wait`.
  bool ClosedWithin(std::chrono::milliseconds wait) {
    Read(wait);
    return closed_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

int Status(const std::string& answer) {
  return answer.size() > 12 && answer.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(answer.substr(9, 3))
                                                                 : 0;
}

json Body(const std::string& answer) {
  const size_t end = answer.find("\r\n\r\n");
  return end == std::string::npos ? json() : json::parse(answer.substr(end + 4), nullptr, false);
}

class HttpLimitsTest : public ::testing::Test {
 protected:
  void Start(ServeOptions options = {}) {
    ASSERT_OK(serving_.Start(dir_.url("limits.db"), options));
    memory_ = serving_.memory();
    server_ = serving_.server();
  }
  std::string Ask(const std::string& request) {
    Raw c(server_->port());
    EXPECT_TRUE(c.Send(request));
    return c.Answer();
  }
  std::string NewEpisode() {
    const std::string body = R"({"task": "t"})";
    auto a =
        Ask("POST /v1/episodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(Status(a), 201) << a;
    return Body(a).value("id", "");
  }

  TempDir dir_;
  testing::Serving serving_;
  Memory* memory_ = nullptr;
  HttpServer* server_ = nullptr;
};

TEST_F(HttpLimitsTest, HeaderSectionsPastTheirLimitsAre431) {
  Start();
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  auto a = Ask(many + "\r\n");
  EXPECT_EQ(Status(a), 431) << a;
  EXPECT_EQ(Body(a)["error"]["message"], "the request has more than 100 header fields, the limit");
  // 99 fields and Host: 100, the limit, are read.
  many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 99; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(Status(Ask(many + "\r\n")), 200);
  a = Ask("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70'000, 'a') + "\r\n\r\n");
  EXPECT_EQ(Status(a), 431) << a;
  EXPECT_EQ(Body(a)["error"]["message"],
            "the request's header section is larger than 65536 bytes, the limit");
  // Millions of headers: refused at the limit, not held in memory.
  Raw flood(server_->port());
  flood.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  std::string lines;
  for (int i = 0; i < 100'000; ++i) lines += "X: y\r\n";
  flood.Send(lines);
  EXPECT_EQ(Status(flood.Answer()), 431);
}

TEST_F(HttpLimitsTest, DeadlinesCloseSlowHeadersBodiesAndIdleConnections) {
  ServeOptions o;
  o.limits.header_timeout = 400ms;
  o.limits.body_timeout = 400ms;
  o.limits.idle_timeout = 400ms;
  Start(o);
  // A header trickled a line at a time: cut at its deadline, however steady the trickle.
  Raw slow(server_->port());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\n"));
  bool cut = false;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 40 && !cut; ++i) {
    std::this_thread::sleep_for(50ms);
    cut = !slow.Send("X-Slow: 1\r\n") || slow.ClosedWithin(0ms);
  }
  EXPECT_TRUE(cut);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  // A body that stops halfway.
  Raw half(server_->port());
  ASSERT_TRUE(
      half.Send("POST /v1/episodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n{\"ta"));
  EXPECT_TRUE(half.ClosedWithin(2s));
  // A keep-alive connection answered, then idle.
  Raw idle(server_->port());
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(Status(idle.Answer()), 200);
  EXPECT_TRUE(idle.ClosedWithin(2s));
  // A connection that sends nothing at all.
  Raw silent(server_->port());
  EXPECT_TRUE(silent.ClosedWithin(2s));
  // A client that keeps its connection busy is served on it for as long as it likes.
  Raw busy(server_->port());
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(busy.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(Status(busy.Answer()), 200) << i;
  }
}

TEST_F(HttpLimitsTest, AKeepAliveConnectionsNextRequestIsReadHoweverItArrives) {
  ServeOptions o;
  // Long enough for a header sent a byte at a time on a loaded machine, short enough for the
  // stalled header at the end to be cut within its bound.
  o.limits.header_timeout = 900ms;
  Start(o);
  const std::string id = NewEpisode();
  auto post = [&](int n) {
    const std::string body = fmt::format(R"({{"tool": "t{}"}})", n);
    return std::pair("POST /v1/episodes/" + id +
                         "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n",
                     body);
  };
  auto number = [](const std::string& answer) {
    EXPECT_EQ(Status(answer), 201) << answer;
    const json numbers = Body(answer)["step_numbers"];
    return numbers.is_array() && numbers.size() == 1 ? numbers[0].get<int64_t>() : int64_t{0};
  };
  Raw c(server_->port());
  int64_t n = 0;
  // At once, whole: the worker that answered the last one reads it.
  for (; n < 3; ++n) {
    auto [head, body] = post(static_cast<int>(n));
    ASSERT_TRUE(c.Send(head + body));
    EXPECT_EQ(number(c.Answer()), n + 1);
  }
  // The header, then the body well after the worker stopped waiting for it.
  {
    auto [head, body] = post(static_cast<int>(n));
    ASSERT_TRUE(c.Send(head));
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(c.Send(body));
    EXPECT_EQ(number(c.Answer()), ++n);
  }
  // A byte at a time, a millisecond apart.
  {
    auto [head, body] = post(static_cast<int>(n));
    for (char byte : head + body) {
      ASSERT_TRUE(c.Send(std::string_view(&byte, 1)));
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(number(c.Answer()), ++n);
  }
  // Two in one write: answered in turn.
  {
    auto [h1, b1] = post(static_cast<int>(n));
    auto [h2, b2] = post(static_cast<int>(n + 1));
    ASSERT_TRUE(c.Send(h1 + b1 + h2 + b2));
    EXPECT_EQ(number(c.Answer()), ++n);
    EXPECT_EQ(number(c.Answer()), ++n);
  }
  // After a pause.
  std::this_thread::sleep_for(100ms);
  {
    auto [head, body] = post(static_cast<int>(n));
    ASSERT_TRUE(c.Send(head + body));
    EXPECT_EQ(number(c.Answer()), ++n);
  }
  // A header that then stops is still cut at its deadline.
  ASSERT_TRUE(c.Send("GET /v1/episodes HTTP/1.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.ClosedWithin(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  const auto steps = memory_->get_episode(id)->steps;
  ASSERT_EQ(steps.size(), static_cast<size_t>(n));
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].tool, fmt::format("t{}", i));
}

TEST_F(HttpLimitsTest, TheBodyLimitHoldsForChunkedBodies) {
  ServeOptions o;
  o.limits.max_body_bytes = 64 * 1024;
  Start(o);
  const std::string id = NewEpisode();
  Raw c(server_->port());
  ASSERT_TRUE(c.Send("POST /v1/episodes/" + id +
                     "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "4000\r\n" + std::string(0x4000, ' ') + "\r\n";
  for (int i = 0; i < 8; ++i) {
    if (!c.Send(chunk)) break;  // the server may close once it has answered
  }
  const std::string a = c.Answer();
  EXPECT_EQ(Status(a), 413) << a;
  EXPECT_EQ(Body(a)["error"]["message"], "the request body is larger than 65536 bytes, the limit");
  // A declared length past the limit is refused before any of the body is read.
  auto declared =
      Ask("POST /v1/episodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 99999999999\r\n\r\n");
  EXPECT_EQ(Status(declared), 413);
  EXPECT_EQ(Body(declared)["error"]["message"],
            "the request body is 99999999999 bytes, limit 65536 bytes");
  // A chunked body within the limit is read whole.
  const std::string step = R"({"tool": "git", "action": "status"})";
  Raw ok(server_->port());
  ASSERT_TRUE(ok.Send("POST /v1/episodes/" + id +
                      "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n" +
                      fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", step.size(), step)));
  EXPECT_EQ(Status(ok.Answer()), 201);
  EXPECT_EQ(memory_->get_episode(id)->steps.size(), 1u);
}

TEST_F(HttpLimitsTest, AThousandTricklingConnectionsDoNotStopHealthz) {
  // Each connection is two descriptors here (client and server in one process).
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::max<rlim_t>(files.rlim_cur, std::min<rlim_t>(files.rlim_max, 4096));
  setrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 2100) GTEST_SKIP() << "RLIMIT_NOFILE is " << files.rlim_cur;
  Start();
  std::vector<Raw> trickles;
  for (int i = 0; i < 1000; ++i) {
    trickles.emplace_back(server_->port());
    ASSERT_TRUE(trickles.back().connected()) << i;
    ASSERT_TRUE(trickles.back().Send("GET /v1/episodes HTTP/1.1\r\nHost: x\r\n"));
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& t : trickles) t.Send("X-Trickle: 1\r\n");
    const auto start = std::chrono::steady_clock::now();
    Raw probe(server_->port());
    ASSERT_TRUE(probe.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(Status(probe.Answer(1s)), 200) << round;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  }
}

TEST_F(HttpLimitsTest, StopAnswersWhatIsInFlightAndLeavesTheRest) {
  ServeOptions o;
  Start(o);
  const std::string id = NewEpisode();
  // Connections mid-header, mid-body and idle, none of which will ever finish.
  std::vector<Raw> stuck;
  for (int i = 0; i < 50; ++i) {
    stuck.emplace_back(server_->port());
    stuck.back().Send(i % 2
                          ? "GET /healthz HTTP/1.1\r\n"
                          : "POST /v1/episodes HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{");
  }
  Raw idle(server_->port());
  idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(Status(idle.Answer()), 200);
  // Steps sent, answered, then the stop.
  const std::string step = R"([{"tool": "a"}, {"tool": "b"}])";
  const auto a = Ask("POST /v1/episodes/" + id +
                     "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: " +
                     std::to_string(step.size()) + "\r\n\r\n" + step);
  EXPECT_EQ(Status(a), 201);
  const auto start = std::chrono::steady_clock::now();
  serving_.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  for (auto& s : stuck) EXPECT_TRUE(s.ClosedWithin(1s));
  EXPECT_TRUE(idle.ClosedWithin(1s));
  ASSERT_OK(memory_->close());
  auto reopened = Memory::open(dir_.url("limits.db"));
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->get_episode(id)->steps.size(), 2u);
}

TEST_F(HttpLimitsTest, MethodsAndContentTypesItDoesNotTake) {
  Start();
  const std::string id = NewEpisode();
  for (const char* method : {"PUT", "PATCH"}) {
    auto a = Ask(std::string(method) + " /v1/episodes/" + id +
                 " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(Status(a), 405) << a;
    EXPECT_NE(a.find("\r\nAllow: GET, DELETE\r\n"), std::string::npos) << a;
  }
  auto mcp = Ask("GET /mcp HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(Status(mcp), 405);
  EXPECT_NE(mcp.find("\r\nAllow: POST, DELETE\r\n"), std::string::npos) << mcp;
  EXPECT_EQ(Status(Ask("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")), 404);
  // A form, small or past 8 KiB: 415 either way, and nothing stored.
  for (size_t size : {10u, 20'000u}) {
    const std::string body = "task=" + std::string(size, 'x');
    auto a =
        Ask("POST /v1/episodes HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
    EXPECT_EQ(Status(a), 415) << a;
    EXPECT_EQ(Body(a)["error"]["code"], "unsupported_media_type");
  }
  EXPECT_EQ(memory_->list_episodes({})->episodes.size(), 1u);
  // JSON by its parameters or a +json type is taken.
  const std::string body = R"({"task": "t"})";
  for (const char* type : {"application/json; charset=utf-8", "application/vnd.x+json"}) {
    EXPECT_EQ(
        Status(Ask(std::string("POST /v1/episodes HTTP/1.1\r\nHost: x\r\nContent-Type: ") + type +
                   "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body)),
        201)
        << type;
  }
  // Not HTTP at all.
  auto junk = Ask("HELLO\r\n\r\n");
  EXPECT_EQ(Status(junk), 400);
  // Expect: 100-continue is honoured.
  Raw c(server_->port());
  c.Send(
      "POST /v1/episodes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(c.Read(500ms).rfind("HTTP/1.1 100 Continue\r\n", 0), 0u);
  c.Send(body);
  EXPECT_EQ(Status(c.Answer()), 201);
}

TEST_F(HttpLimitsTest, McpSessionsExpireWhenIdleAndAreCapped) {
  ServeOptions o;
  o.mcp_session_idle = 500ms;
  o.max_mcp_sessions = 2;
  Start(o);
  auto initialize = [&] {
    const std::string body =
        R"({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})";
    auto a =
        Ask("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
    const size_t at = a.find("Mcp-Session-Id: ");
    return at == std::string::npos ? std::string() : a.substr(at + 16, 36);
  };
  auto ping = [&](const std::string& session) {
    const std::string body = R"({"jsonrpc": "2.0", "id": 2, "method": "ping"})";
    return Status(
        Ask("POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Mcp-Session-Id: " +
            session + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  };
  const std::string first = initialize(), second = initialize();
  ASSERT_EQ(first.size(), 36u);
  EXPECT_EQ(ping(first), 200);  // the second is now the one idle longest
  const std::string third = initialize();
  EXPECT_EQ(ping(second), 404);
  EXPECT_EQ(ping(first), 200);
  EXPECT_EQ(ping(third), 200);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(ping(first), 404);
  EXPECT_EQ(ping(third), 404);
}

// The database file deleted, renamed over or its WAL removed under a running server: writes are
// refused (503) rather than acknowledged and lost at the next restart, and /readyz says so.
TEST_F(HttpLimitsTest, WritesAreRefusedWhenTheFileIsNoLongerTheStore) {
  const std::string db = dir_.file("limits.db");
  for (const std::string how : {"deleted", "replaced", "wal removed"}) {
    SCOPED_TRACE(how);
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
    Start();
    const std::string id = NewEpisode();
    const std::string step = R"({"tool": "a"})";
    auto post_step = [&] {
      return Ask("POST /v1/episodes/" + id +
                 "/steps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: " +
                 std::to_string(step.size()) + "\r\n\r\n" + step);
    };
    ASSERT_EQ(Status(post_step()), 201);
    EXPECT_EQ(Status(Ask("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
    if (how == "deleted") {
      std::filesystem::remove(db);
    } else if (how == "replaced") {
      std::filesystem::copy_file(db, db + ".copy");
      std::filesystem::rename(db + ".copy", db);
    } else {
      std::filesystem::remove(db + "-wal");
    }
    auto refused = post_step();
    EXPECT_EQ(Status(refused), 503) << refused;
    EXPECT_EQ(Body(refused)["error"]["code"], "unavailable");
    EXPECT_NE(Body(refused)["error"]["message"].get<std::string>().find("writes are refused"),
              std::string::npos)
        << refused;
    auto ready = Ask("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(Status(ready), 503) << ready;
    EXPECT_EQ(Status(Ask("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")), 200);
    EXPECT_FALSE(memory_->health().ok());
    serving_.Reset();
  }
}

}  // namespace
}  // namespace engram::server
