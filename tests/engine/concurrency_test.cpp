// Many writers at once: step numbers stay contiguous per episode, in arrival order, whether
// the writers are threads of one Memory or separate Memory instances (separate connections,
// as separate processes and nodes have) on one SQLite file or one PostgreSQL database.
#include <map>
#include <thread>

#include "engram/engram.h"
#include "store_param.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::BothStores;
using testing::StoreKind;
using testing::StoreName;
using testing::TestStores;

class Concurrency : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override { ENGRAM_REQUIRE_STORE(stores_); }
  TestStores stores_{GetParam()};
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
    ids.push_back(*(*m)->start_episode({"task", TaskType::kOther, {}, {}}));
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
    ids.push_back(*(*a)->start_episode({"task", TaskType::kOther, {}, {}}));
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

INSTANTIATE_TEST_SUITE_P(Stores, Concurrency, BothStores(), StoreName);

}  // namespace
}  // namespace engram
