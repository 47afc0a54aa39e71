// Fault injection on the SQLite store: a workload runs once clean to count its reads, writes
// and syncs, then once for every N with the Nth of them failing (an I/O error, or a full disk).
// After each run: every acknowledged step is in the store, every failure was returned to its
// caller as an I/O error or a full disk (never as corruption), no call is half-written, and the
// same Memory takes writes again once the fault is gone.
#include <httplib.h>
#include <sqlite3.h>

#include <iostream>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "engram/engram.h"
#include "server/http_server.h"
#include "store/fault_vfs.h"
#include "store/sqlite/db.h"
#include "test_util.h"

namespace engram {
namespace {

#define EXPECT_OK(expr)                   \
  do {                                    \
    const auto& _s = (expr);              \
    EXPECT_TRUE(_s.ok()) << _s.message(); \
  } while (0)

using testing::FaultVfs;
using testing::TempDir;

constexpr int kEpisodes = 2;
constexpr int kCallsPerEpisode = 3;
constexpr int kStepsPerCall = 3;

struct Record {
  std::map<std::string, int64_t> acknowledged;         // tool tag -> step number
  std::vector<std::vector<std::string>> failed_calls;  // the tags of each failed log_steps
  std::vector<std::string> episodes;
  std::vector<Status> failures;
};

ExecutionStep Step(const std::string& tag) {
  ExecutionStep s;
  s.tool = tag;
  s.action = "run " + tag;
  s.observation = std::string(300, 'o');  // a few steps fill a page
  return s;
}

// The workload, its failures recorded rather than asserted on.
void Workload(Memory& m, Record& run, const std::string& prefix) {
  for (int e = 0; e < kEpisodes; ++e) {
    EpisodeSpec spec;
    spec.task = fmt::format("{} task {}", prefix, e);
    auto id = m.start_episode(spec);
    if (!id.ok()) {
      run.failures.push_back(id.status());
      continue;
    }
    run.episodes.push_back(*id);
    for (int c = 0; c < kCallsPerEpisode; ++c) {
      std::vector<ExecutionStep> steps;
      std::vector<std::string> tags;
      for (int s = 0; s < kStepsPerCall; ++s) {
        tags.push_back(fmt::format("{}-{}-{}-{}", prefix, e, c, s));
        steps.push_back(Step(tags.back()));
      }
      auto numbers = m.log_steps(*id, std::move(steps));
      if (numbers.ok()) {
        for (size_t i = 0; i < tags.size(); ++i) run.acknowledged[tags[i]] = (*numbers)[i];
      } else {
        run.failures.push_back(numbers.status());
        run.failed_calls.push_back(tags);
      }
    }
    if (auto done = m.complete_episode(*id, Outcome{}); !done.ok()) {
      run.failures.push_back(done.status());
    }
    if (auto read = m.get_episode(*id); !read.ok()) run.failures.push_back(read.status());
  }
}

class FaultInjection : public ::testing::Test {
 protected:
  static Options StoreOptions() {
    Options o;
    o.sqlite.emplace().synchronous = Synchronous::kFull;  // a sync at every commit, to be failed
    return o;
  }

  // A Memory on a new file in `dir` with one episode open, whose id is set in `id`.
  static std::unique_ptr<Memory> OpenWithEpisode(const TempDir& dir, const std::string& task,
                                                 std::string& id) {
    auto m = Memory::open(dir.url("m.db"), StoreOptions());
    EXPECT_TRUE(m.ok()) << m.status().message();
    if (!m.ok()) return nullptr;
    EpisodeSpec spec;
    spec.task = task;
    id = testing::ValueOf((*m)->start_episode(spec));
    return std::move(*m);
  }

  // One run with the Nth `op` failing with `error`; the checks that follow it.
  void RunWithFault(FaultVfs::Op op, uint64_t n, int error) {
    SCOPED_TRACE(fmt::format("op {} n {} error {}", static_cast<int>(op), n, error));
    TempDir dir;
    auto m = Memory::open(dir.url("fault.db"), StoreOptions());
    ASSERT_OK(m);
    Record run;
    vfs_.Arm(op, n, error);
    Workload(**m, run, "w");
    vfs_.Disarm();
    faults_ += vfs_.injected();
    for (const Status& s : run.failures) {
      EXPECT_TRUE(s.IsIOError() || s.IsNoSpace()) << s.message();
      if (error == SQLITE_FULL && s.IsIOError()) {
        EXPECT_NE(s.message().find("disk"), std::string::npos) << s.message();
      }
    }
    failures_ += run.failures.size();
    // The fault gone, the same Memory writes again.
    Record after;
    Workload(**m, after, "after");
    EXPECT_TRUE(after.failures.empty()) << after.failures.front().message();
    EXPECT_OK((*m)->health());
    EXPECT_OK((*m)->close());
    m->reset();

    // Reopened: every acknowledged step where it was acknowledged, and each failed call whole
    // or absent.
    auto again = Memory::open(dir.url("fault.db"), StoreOptions());
    ASSERT_OK(again);
    std::map<std::string, int64_t> stored;
    for (const auto* r : {&run, &after}) {
      for (const auto& id : r->episodes) {
        auto e = (*again)->get_episode(id);
        ASSERT_OK(e);
        for (const auto& s : e->steps) stored[s.tool] = s.step_number;
      }
    }
    for (const auto* r : {&run, &after}) {
      for (const auto& [tag, number] : r->acknowledged) {
        auto it = stored.find(tag);
        ASSERT_NE(it, stored.end()) << tag << " was acknowledged and is gone";
        EXPECT_EQ(it->second, number) << tag;
      }
    }
    for (const auto& tags : run.failed_calls) {
      const size_t present = static_cast<size_t>(std::count_if(
          tags.begin(), tags.end(), [&](const std::string& t) { return stored.count(t) > 0; }));
      EXPECT_TRUE(present == 0 || present == tags.size()) << tags.front() << ": " << present;
    }
    ASSERT_OK((*again)->close());
    auto db = sqlite::Connection::Open(dir.file("fault.db"), false, std::chrono::seconds(5));
    ASSERT_OK(db);
    auto check = (*db)->prepare("PRAGMA integrity_check");
    ASSERT_OK(check);
    Status st;
    ASSERT_TRUE(check->step(st));
    EXPECT_EQ(check->column_text(0), "ok");
  }

  // How many of `op` the workload makes when nothing fails.
  uint64_t Count(FaultVfs::Op op) {
    TempDir dir;
    auto m = Memory::open(dir.url("fault.db"), StoreOptions());
    EXPECT_TRUE(m.ok());
    Record run;
    vfs_.Arm(op, 0, SQLITE_OK);
    Workload(**m, run, "w");
    const uint64_t n = vfs_.count(op);
    vfs_.Disarm();
    EXPECT_TRUE(run.failures.empty());
    return n;
  }

  void TearDown() override {
    std::cout << fmt::format("{} faults injected, {} failures returned to callers\n", faults_,
                             failures_);
  }

  FaultVfs& vfs_ = FaultVfs::Install();
  uint64_t faults_ = 0, failures_ = 0;
};

TEST_F(FaultInjection, EveryWriteFailingInTurnWithAnIOError) {
  const uint64_t writes = Count(FaultVfs::Op::kWrite);
  ASSERT_GT(writes, 10u);
  for (uint64_t n = 1; n <= writes; ++n) RunWithFault(FaultVfs::Op::kWrite, n, SQLITE_IOERR_WRITE);
  EXPECT_GT(faults_, 0u);
  EXPECT_GT(failures_, 0u);  // the faults reached callers
}

TEST_F(FaultInjection, EveryWriteFailingInTurnWithAFullDisk) {
  const uint64_t writes = Count(FaultVfs::Op::kWrite);
  for (uint64_t n = 1; n <= writes; ++n) RunWithFault(FaultVfs::Op::kWrite, n, SQLITE_FULL);
  EXPECT_GT(failures_, 0u);
}

TEST_F(FaultInjection, EverySyncFailingInTurn) {
  const uint64_t syncs = Count(FaultVfs::Op::kSync);
  ASSERT_GT(syncs, 5u);
  for (uint64_t n = 1; n <= syncs; ++n) RunWithFault(FaultVfs::Op::kSync, n, SQLITE_IOERR_FSYNC);
  EXPECT_GT(failures_, 0u);
}

TEST_F(FaultInjection, EveryReadFailingInTurnIsAnIOErrorNotCorruption) {
  const uint64_t reads = Count(FaultVfs::Op::kRead);
  ASSERT_GT(reads, 5u);
  for (uint64_t n = 1; n <= reads; ++n) RunWithFault(FaultVfs::Op::kRead, n, SQLITE_IOERR_READ);
  EXPECT_GT(failures_, 0u);
}

TEST_F(FaultInjection, AFullDiskIsNoSpaceWhileItLastsAndHealthSaysSo) {
  TempDir dir;
  std::string id;
  auto m = OpenWithEpisode(dir, "t", id);
  ASSERT_TRUE(m && !id.empty());
  vfs_.Arm(FaultVfs::Op::kWrite, 1, SQLITE_FULL, /*sticky=*/true);
  std::vector<ExecutionStep> one{Step("a")};
  auto refused = m->log_steps(id, one);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsNoSpace()) << refused.status().message();
  EXPECT_NE(refused.status().message().find("the disk is full"), std::string::npos);
  EXPECT_TRUE(m->health().IsNoSpace());
  vfs_.Disarm();
  EXPECT_TRUE(m->health().IsNoSpace());  // until a write succeeds
  std::vector<ExecutionStep> two{Step("b")};
  ASSERT_OK(m->log_steps(id, two));
  EXPECT_OK(m->health());
  EXPECT_OK(m->close());  // the failure was told to its caller
}

// A stream of fire-and-forget steps meets a full disk halfway: the steps queued behind the
// failure fail with it, later ones are refused until flush() reports it, and the stream sent
// again from its first failure ends up whole and in order.
TEST_F(FaultInjection, AStreamThatMeetsAFailureIsNeverStoredOutOfOrder) {
  TempDir dir;
  std::string id;
  auto m = OpenWithEpisode(dir, "a stream", id);
  ASSERT_TRUE(m && !id.empty());
  constexpr int kSteps = 2000;
  std::vector<StepTicket> tickets;
  int first_failed = -1;
  for (int i = 0; i < kSteps && first_failed < 0; ++i) {
    if (i == 300) vfs_.Arm(FaultVfs::Op::kWrite, 1, SQLITE_FULL);  // that write alone
    auto t = m->log_step_async(id, Step(std::to_string(i)));
    if (!t.ok()) {
      EXPECT_TRUE(t.status().IsNoSpace()) << t.status().message();
      first_failed = i;
      break;
    }
    tickets.push_back(std::move(*t));
  }
  // Once one ticket fails, every later one does: no hole is filled behind it.
  int first_ticket_failed = -1;
  for (size_t i = 0; i < tickets.size(); ++i) {
    auto n = tickets[i].wait();
    if (!n.ok() && first_ticket_failed < 0) first_ticket_failed = static_cast<int>(i);
    if (first_ticket_failed >= 0) {
      EXPECT_FALSE(n.ok()) << i;
    }
  }
  vfs_.Disarm();
  ASSERT_GE(first_ticket_failed, 0);
  EXPECT_TRUE(m->flush().IsNoSpace());  // reported once; the episode takes steps again
  for (int i = first_ticket_failed; i < kSteps; ++i) {
    ASSERT_OK(m->log_step_async(id, Step(std::to_string(i))));
  }
  ASSERT_OK(m->flush());
  auto e = m->get_episode(id);
  ASSERT_OK(e);
  ASSERT_EQ(e->steps.size(), static_cast<size_t>(kSteps));
  for (int i = 0; i < kSteps; ++i) {
    EXPECT_EQ(e->steps[static_cast<size_t>(i)].tool, std::to_string(i));
    EXPECT_EQ(e->steps[static_cast<size_t>(i)].step_number, i + 1);
  }
}

// Over HTTP: a full disk is 507 with a message that says so, /readyz says the same while it
// lasts, and both are 2xx again once a write succeeds.
TEST_F(FaultInjection, AFullDiskOverHttpIs507AndReadyzSaysSo) {
  TempDir dir;
  auto m = Memory::open(dir.url("http.db"), StoreOptions());
  ASSERT_OK(m);
  server::ServeOptions options;
  options.port = 0;
  server::HttpServer api(**m, options);
  ASSERT_OK(api.bind());
  std::thread serving([&] { (void)api.run(); });
  httplib::Client client("127.0.0.1", api.port());
  client.set_read_timeout(10);
  auto started = client.Post("/v1/episodes", R"({"task": "t"})", "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 201);
  const std::string steps =
      "/v1/episodes/" + nlohmann::json::parse(started->body)["id"].get<std::string>() + "/steps";
  vfs_.Arm(FaultVfs::Op::kWrite, 1, SQLITE_FULL, /*sticky=*/true);
  auto refused = client.Post(steps, R"({"tool": "a"})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 507);
  auto error = nlohmann::json::parse(refused->body)["error"];
  EXPECT_EQ(error["code"], "insufficient_storage");
  EXPECT_NE(error["message"].get<std::string>().find("the disk is full"), std::string::npos);
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 507);
  vfs_.Disarm();
  auto stored = client.Post(steps, R"({"tool": "b"})", "application/json");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, 201);
  EXPECT_EQ(client.Get("/readyz")->status, 200);
  api.stop();
  serving.join();
  EXPECT_OK((*m)->close());  // the client was told: a clean exit
}

}  // namespace
}  // namespace engram
