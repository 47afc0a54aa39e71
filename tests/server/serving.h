// Helpers of the server tests: an HttpServer serving a store of its own in this process, and the
// ledger of the steps concurrent clients had acknowledged, checked against what was stored.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engram/engram.h"
#include "server/http_server.h"
#include "test_util.h"

namespace engram::testing {

// engram serve's HTTP server on a free loopback port, run on a thread of its own; stopped when
// this goes.
class Serving {
 public:
  Serving() = default;
  Serving(const Serving&) = delete;
  Serving& operator=(const Serving&) = delete;
  ~Serving() { Reset(); }

  // Opens the store at `url` and serves it; `options.port` is chosen here.
  Status Start(const std::string& url, server::ServeOptions options = {}) {
    auto m = Memory::open(url);
    if (!m.ok()) return m.status();
    memory_ = std::move(*m);
    options.port = 0;
    server_ = std::make_unique<server::HttpServer>(*memory_, options);
    if (Status s = server_->bind(); !s.ok()) return s;
    thread_ = std::thread([this] { (void)server_->run(); });
    return Status::Ok();
  }
  // Stops serving once the requests in flight are answered; the store stays open.
  void Stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  // Stops and closes the store.
  void Reset() {
    Stop();
    server_.reset();
    memory_.reset();
  }

  Memory* memory() const { return memory_.get(); }
  server::HttpServer* server() const { return server_.get(); }

 private:
  std::unique_ptr<Memory> memory_;
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
};

// The steps a server acknowledged to concurrent clients, each client recording its own.
class Acknowledged {
 public:
  explicit Acknowledged(size_t clients) : acks_(clients) {}

  // Client `client` posted `steps` (an array of steps with actions never sent before) to the
  // episode `episode` and was answered 201 with `answer`.
  void Add(size_t client, size_t episode, const nlohmann::json& steps,
           const nlohmann::json& answer) {
    const auto& numbers = answer.at("step_numbers");
    for (size_t k = 0; k < steps.size(); ++k) {
      acks_[client].push_back({episode, numbers.at(k).get<int64_t>(), steps[k].at("action")});
    }
  }

  // Checks the episodes as stored: numbered 1, 2, 3 … without a gap, no action stored twice,
  // every acknowledged step there under the number it was acknowledged with. Returns how many
  // steps are stored; `acknowledged` is set to how many were acknowledged.
  size_t ExpectStoredOnce(Memory& memory, const std::vector<std::string>& episodes,
                          size_t& acknowledged) const {
    std::vector<std::map<int64_t, std::string>> expected(episodes.size());
    acknowledged = 0;
    for (const auto& list : acks_) {
      for (const auto& a : list) {
        EXPECT_TRUE(expected[a.episode].emplace(a.number, a.action).second)
            << "step number " << a.number << " acknowledged twice";
        ++acknowledged;
      }
    }
    size_t stored_total = 0;
    for (size_t e = 0; e < episodes.size(); ++e) {
      auto stored = memory.get_episode(episodes[e]);
      EXPECT_TRUE(stored.ok()) << Msg(stored);
      if (!stored.ok()) continue;
      std::set<std::string> actions;
      for (size_t i = 0; i < stored->steps.size(); ++i) {
        const auto& s = stored->steps[i];
        EXPECT_EQ(s.step_number, static_cast<int64_t>(i + 1)) << "gap in episode " << e;
        EXPECT_TRUE(actions.insert(s.action).second) << s.action << " stored twice";
        if (auto it = expected[e].find(s.step_number); it != expected[e].end()) {
          EXPECT_EQ(it->second, s.action) << "step " << s.step_number << " of episode " << e;
        }
      }
      for (const auto& [number, action] : expected[e]) {
        EXPECT_TRUE(actions.count(action)) << "acknowledged step " << action << " lost";
      }
      stored_total += stored->steps.size();
    }
    return stored_total;
  }

 private:
  struct Ack {
    size_t episode;
    int64_t number;
    std::string action;
  };
  std::vector<std::vector<Ack>> acks_;  // per client
};

}  // namespace engram::testing
