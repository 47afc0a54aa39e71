// Many writers at once: step numbers stay contiguous per episode, in arrival order, whether
// the writers are threads of one Memory or separate Memory instances (separate connections,
// as separate processes and nodes have) on one SQLite file or one PostgreSQL database.
#include <fmt/format.h>

#include <atomic>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "engram/engram.h"
#include "store_param.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::ValueOf;

class Concurrency : public testing::OnEachStore {
 protected:
};

ExecutionStep Step(int writer, int i) {
  ExecutionStep s;
  s.tool = "writer" + std::to_string(writer);
  s.action = std::to_string(i);
  s.observation = std::string(256, 'o');
  return s;
}

// Every episode holds 1..N with no gap, and each writer's steps keep the order it sent them.
void ExpectContiguousAndOrdered(Memory& m, const std::vector<std::string>& ids, size_t total) {
  size_t seen = 0;
  for (const auto& id : ids) {
    auto e = m.get_episode(id);
    ASSERT_OK(e);
    std::map<std::string, int> last_by_writer;
    for (size_t i = 0; i < e->steps.size(); ++i) {
      const auto& s = e->steps[i];
      ASSERT_EQ(s.step_number, int64_t(i + 1)) << id;
      const int n = std::stoi(s.action);
      auto [it, fresh] = last_by_writer.emplace(s.tool, n);
      if (!fresh) {
        ASSERT_GT(n, it->second) << "writer " << s.tool << " out of order in " << id;
        it->second = n;
      }
    }
    seen += e->steps.size();
  }
  EXPECT_EQ(seen, total);
}

TEST_P(Concurrency, ThreadsOfOneMemoryKeepStepNumbersContiguous) {
  auto m = Memory::open(stores_.url("c.db"));
  ASSERT_OK(m);
  std::vector<std::string> ids;
  for (int e = 0; e < 4; ++e)
    ids.push_back(ValueOf((*m)->start_episode({"task", TaskType::kOther, {}, {}, {}})));
  constexpr int kThreads = 8, kSteps = 300;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSteps; ++i) {
        const std::string& id = ids[(t + i) % ids.size()];
        // Half the writers wait for durability, half fire and forget.
        bool ok =
            t % 2 ? (*m)->log_step(id, Step(t, i)).ok() : (*m)->log_step_async(id, Step(t, i)).ok();
        if (!ok) ++failures;
        if (i % 50 == 0) (void)(*m)->get_episode(id);  // readers in the mix
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_OK((*m)->flush());
  ExpectContiguousAndOrdered(**m, ids, kThreads * kSteps);
}

TEST_P(Concurrency, SeparateMemoriesOnOneStoreShareEpisodesWithoutLockErrors) {
  auto a = Memory::open(stores_.url("shared.db"));
  auto b = Memory::open(stores_.url("shared.db"));
  ASSERT_OK(a);
  ASSERT_OK(b);
  std::vector<std::string> ids;
  for (int e = 0; e < 2; ++e)
    ids.push_back(*(*a)->start_episode({"task", TaskType::kOther, {}, {}, {}}));
  constexpr int kSteps = 400;
  std::vector<std::thread> threads;
  std::vector<std::string> errors;
  std::mutex errors_mu;
  for (int t = 0; t < 4; ++t) {
    Memory& m = t % 2 ? **a : **b;
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSteps; ++i) {
        const std::string& id = ids[(t + i) % 2];
        Status s = (i % 3 == 0) ? m.log_step(id, Step(t, i)).status()
                                : m.log_step_async(id, Step(t, i)).status();
        if (!s.ok()) {
          std::lock_guard lock(errors_mu);
          errors.push_back(s.message());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_OK((*a)->flush());
  ASSERT_OK((*b)->flush());
  ASSERT_TRUE(errors.empty()) << errors.front();
  auto c = Memory::open(stores_.url("shared.db"));
  ASSERT_OK(c);
  ExpectContiguousAndOrdered(**c, ids, 4 * kSteps);
}

// A clock that, once armed, runs `hook` inside the next call to now(): completing reads the
// clock between reading the episode and storing what it learnt, so the hook lands there.
class HookedClock : public Clock {
 public:
  void arm(std::function<void()> hook) { hook_ = std::move(hook); }
  std::chrono::system_clock::time_point now() override {
    if (auto hook = std::exchange(hook_, nullptr)) hook();
    return std::chrono::system_clock::now();
  }

 private:
  std::function<void()> hook_;
};

// The reflection's first insight counts the steps the completion was learnt from.
std::string StepsLearnt(const Episode& e) {
  return e.reflection["insights"][0]["text"].get<std::string>();
}

// Hooks and servers racing to start the episode of one name, each with a Memory of its own (as
// separate processes have): one episode, which all of them get.
TEST_P(Concurrency, SeparateMemoriesRacingWithOneNameGetOneEpisode) {
  constexpr int kMemories = 4;
  constexpr int kNames = 20;
  std::vector<std::unique_ptr<Memory>> memories;
  for (int i = 0; i < kMemories; ++i) {
    auto m = Memory::open(stores_.url("names.db"));
    ASSERT_OK(m);
    memories.push_back(std::move(*m));
  }
  std::vector<std::vector<NamedEpisode>> got(kMemories);
  std::vector<std::thread> threads;
  for (int i = 0; i < kMemories; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kNames; ++n) {
        got[static_cast<size_t>(i)].push_back(
            ValueOf(memories[static_cast<size_t>(i)]->start_named_episode(
                fmt::format("session:{}", n), {"a session", TaskType::kOther, {}, {}, {}})));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int n = 0; n < kNames; ++n) {
    int started = 0;
    for (int i = 0; i < kMemories; ++i) {
      const NamedEpisode& e = got[static_cast<size_t>(i)][static_cast<size_t>(n)];
      EXPECT_EQ(e.id, got[0][static_cast<size_t>(n)].id) << "name " << n;
      started += e.started;
    }
    EXPECT_EQ(started, 1) << "name " << n;
  }
  auto page = memories[0]->list_episodes(EpisodeFilter{});
  ASSERT_OK(page);
  EXPECT_EQ(page->episodes.size(), static_cast<size_t>(kNames));
}

TEST_P(Concurrency, StepsAnotherMemoryCommitsWhileCompletingAreLearntFrom) {
  auto clock = std::make_shared<HookedClock>();
  Options with_clock;
  with_clock.clock = clock;
  auto a = Memory::open(stores_.url("shared.db"), with_clock);
  auto b = Memory::open(stores_.url("shared.db"));
  ASSERT_OK(a);
  ASSERT_OK(b);
  EpisodeSpec spec{"task", TaskType::kOther, {}, {}, {}};
  spec.context.domain = "race";
  const std::string id = *(*a)->start_episode(spec);
  for (int i = 0; i < 3; ++i) ASSERT_OK((*a)->log_step(id, Step(1, i)));
  // After A has read its 3 steps and before it stores the completion, B commits 2 more.
  clock->arm([&] {
    for (int i = 0; i < 2; ++i) ASSERT_OK((*b)->log_step(id, Step(2, i)));
  });
  Outcome done{OutcomeKind::kSuccess, "done", {}, {}, {}};
  auto completed = (*a)->complete_episode(id, done);
  ASSERT_OK(completed);
  ASSERT_EQ(completed->steps.size(), 5u);
  EXPECT_EQ(StepsLearnt(*completed), "0 of 5 steps failed, 0 recovered; outcome success");
  auto c = Memory::open(stores_.url("shared.db"));
  ASSERT_OK(c);
  // The patterns count B's tool too: its context pattern has both of its steps.
  PatternFilter writer2;
  writer2.type = PatternType::kContext;
  auto patterns = (*c)->list_patterns(writer2);
  ASSERT_OK(patterns);
  int64_t occurrences = -1;
  for (const auto& p : *patterns) {
    if (p.description.value("tool", "") == "writer2") occurrences = p.occurrences;
  }
  EXPECT_EQ(occurrences, 2);
  // And B cannot add to it now.
  auto late = (*b)->log_step(id, Step(2, 9));
  EXPECT_TRUE(late.status().IsFailedPrecondition()) << late.status().message();
}

TEST_P(Concurrency, CompletingWhileAnotherMemoryLogsCoversEveryAcknowledgedStep) {
  auto a = Memory::open(stores_.url("shared.db"));
  auto b = Memory::open(stores_.url("shared.db"));
  ASSERT_OK(a);
  ASSERT_OK(b);
  const std::string id = *(*a)->start_episode({"task", TaskType::kOther, {}, {}, {}});
  std::atomic<int> acknowledged = 0;
  std::string refusal;
  std::thread logger([&] {
    for (int i = 0; i < 20'000; ++i) {
      auto n = (*b)->log_step(id, Step(2, i));
      if (!n.ok()) {
        refusal = n.status().message();
        return;
      }
      ++acknowledged;
    }
  });
  while (acknowledged < 50) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto completed = (*a)->complete_episode(id, Outcome{OutcomeKind::kSuccess, "done", {}, {}, {}});
  logger.join();
  ASSERT_OK(completed);
  EXPECT_EQ(refusal, "episode " + id + " is completed: it accepts no more steps");
  auto c = Memory::open(stores_.url("shared.db"));
  ASSERT_OK(c);
  auto stored = (*c)->get_episode(id);
  ASSERT_OK(stored);
  ExpectContiguousAndOrdered(**c, {id}, static_cast<size_t>(acknowledged.load()));
  EXPECT_EQ(StepsLearnt(*stored),
            fmt::format("0 of {} steps failed, 0 recovered; outcome success", acknowledged.load()));
}

TEST_P(Concurrency, OneOfManyMemoriesCompletingAnEpisodeAtOnceWins) {
  constexpr int kCompleters = 4;
  std::vector<std::unique_ptr<Memory>> memories;
  for (int i = 0; i < kCompleters; ++i) {
    auto m = Memory::open(stores_.url("shared.db"));
    ASSERT_OK(m);
    memories.push_back(std::move(*m));
  }
  EpisodeSpec spec{"task", TaskType::kOther, {}, {}, {}};
  spec.context.domain = "race";
  const std::string id = *memories[0]->start_episode(spec);
  ASSERT_OK(memories[0]->log_step(id, Step(1, 0)));
  std::vector<Status> results(kCompleters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCompleters; ++i) {
    threads.emplace_back([&, i] {
      Outcome o{OutcomeKind::kSuccess, "completer " + std::to_string(i), {}, {}, {}};
      results[i] = memories[i]->complete_episode(id, o).status();
    });
  }
  for (auto& th : threads) th.join();
  int winners = 0;
  for (const auto& s : results) {
    if (s.ok()) {
      ++winners;
    } else {
      EXPECT_EQ(s.message(), "episode " + id + " is already completed");
    }
  }
  EXPECT_EQ(winners, 1);
  // Learnt once: the patterns count one episode.
  auto patterns = memories[0]->list_patterns({});
  ASSERT_OK(patterns);
  ASSERT_FALSE(patterns->empty());
  for (const auto& p : *patterns) EXPECT_EQ(p.support, 1) << p.id;
}

ENGRAM_ON_BOTH_STORES(Concurrency);

}  // namespace
}  // namespace engram
