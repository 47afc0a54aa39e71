// Several engram nodes in front of one PostgreSQL database: two `engram serve` processes take
// steps for the same episodes at once, one is killed with SIGKILL mid-stream, and afterwards
// every acknowledged step is stored exactly once, under the number it was acknowledged with,
// and every episode's numbers run 1..N without a gap.
#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "engram/engram.h"
#include "pg_test_util.h"
#include "server/serving.h"
#include "test_util.h"

namespace engram {
namespace {

using nlohmann::json;
using testing::PgDatabase;

// `engram serve` on a free loopback port, its stdout read until the banner names the port.
struct Node {
  pid_t pid = -1;
  int port = 0;

  explicit Node(const std::string& url) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid = fork();
    if (pid == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      execl(ENGRAM_CLI, ENGRAM_CLI, "--db", url.c_str(), "serve", "--listen", "127.0.0.1:0",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string banner;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n') banner += c;
    close(out[0]);  // the rest of the banner is not needed
    const size_t colon = banner.rfind(':');
    port = colon == std::string::npos ? 0 : std::atoi(banner.c_str() + colon + 1);
    EXPECT_GT(port, 0) << "engram serve printed: " << banner;
  }
  ~Node() { Stop(SIGKILL); }
  // Signals the node and waits for it; the exit status.
  int Stop(int sig) {
    if (pid <= 0) return -1;
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
};

TEST(MultiNode, TwoNodesOneKilledEveryAcknowledgedStepStoredOnce) {
  ENGRAM_REQUIRE_POSTGRES();
  PgDatabase db;
  Node a(db.url()), b(db.url());
  ASSERT_GT(a.port, 0);
  ASSERT_GT(b.port, 0);

  constexpr int kEpisodes = 4;
  std::vector<std::string> episodes;
  {
    httplib::Client c("127.0.0.1", a.port);
    for (int e = 0; e < kEpisodes; ++e) {
      auto r = c.Post("/v1/episodes", json{{"task", fmt::format("shared {}", e)}}.dump(),
                      "application/json");
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 201) << r->body;
      episodes.push_back(json::parse(r->body)["id"]);
    }
  }

  // 16 clients, half on each node, for a bounded time; B is killed halfway, and its clients
  // move to A when their requests fail, as a load balancer would send them.
  constexpr int kClients = 16;
  const auto start = std::chrono::steady_clock::now();
  const auto kill_at = start + std::chrono::milliseconds(2500);
  const auto stop_at = start + std::chrono::seconds(5);
  testing::Acknowledged acks(kClients);
  std::atomic<int> unanswered{0};
  std::atomic<bool> b_killed{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      int port = t % 2 ? b.port : a.port;
      auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
      client->set_read_timeout(30);
      for (int i = 0; std::chrono::steady_clock::now() < stop_at && i < 100000; ++i) {
        const size_t e = rng() % kEpisodes;
        const int batch = 1 + static_cast<int>(rng() % 10);
        json body = json::array();
        for (int k = 0; k < batch; ++k) {
          body.push_back({{"tool", "node"}, {"action", fmt::format("c{}-r{}-s{}", t, i, k)}});
        }
        auto r =
            client->Post("/v1/episodes/" + episodes[e] + "/steps", body.dump(), "application/json");
        if (!r || r->status != 201) {
          // Unanswered (the node died under it): stored or not, it was never acknowledged.
          if (r) ADD_FAILURE() << r->status << " " << r->body;
          ++unanswered;
          if (port == b.port && b_killed) {
            port = a.port;
            client = std::make_unique<httplib::Client>("127.0.0.1", port);
            client->set_read_timeout(30);
          }
          continue;
        }
        acks.Add(static_cast<size_t>(t), e, body, json::parse(r->body));
      }
    });
  }
  std::this_thread::sleep_until(kill_at);
  b_killed = true;  // from now on a failed request sends its client to A
  b.Stop(SIGKILL);
  for (auto& c : clients) c.join();
  const int status = a.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "node A exit status " << status;

  size_t acknowledged = 0;
  auto m = Memory::open(db.url());
  ASSERT_OK(m);
  const size_t stored_total = acks.ExpectStoredOnce(**m, episodes, acknowledged);
  EXPECT_GT(acknowledged, 500u);
  // Beyond the acknowledged steps, only those of requests that went unanswered.
  EXPECT_LE(stored_total, acknowledged + 10 * static_cast<size_t>(unanswered.load()));
  std::cout << "[ nodes ] " << acknowledged << " steps acknowledged by 2 nodes ("
            << unanswered.load() << " requests unanswered when node B was killed), " << stored_total
            << " stored, each once, numbers contiguous\n";
}

}  // namespace
}  // namespace engram
