// engram backup: a copy of a live SQLite store taken while another thread keeps writing opens,
// passes its integrity check, and holds every step acknowledged before the backup started.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "engram/engram.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::ValueOf;
namespace fs = std::filesystem;

TEST(Backup, ACopyTakenDuringWritesHoldsEveryStepAcknowledgedBeforeIt) {
  const fs::path dir = fs::temp_directory_path() / ("engram-backup-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto memory = ValueOf(Memory::open("sqlite://" + (dir / "live.db").string()));
  EpisodeSpec spec;
  spec.task = "write while the backup runs";
  const std::string id = ValueOf(memory->start_episode(spec));
  std::atomic<int64_t> acknowledged{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    ExecutionStep s;
    s.tool = "cargo";
    s.observation = std::string(512, 'o');
    while (!stop) {
      auto n = memory->log_step(id, s);
      if (!n.ok()) break;
      acknowledged = *n;
    }
  });
  while (acknowledged < 200) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int64_t before = acknowledged;
  const auto tables = ValueOf(memory->backup((dir / "copy.db").string()));
  const int64_t after = acknowledged;
  stop = true;
  writer.join();
  EXPECT_GE(tables.at("steps"), before);
  EXPECT_LE(tables.at("steps"), after + 1);
  EXPECT_EQ(tables.at("episodes"), 1);
  EXPECT_FALSE(fs::exists(dir / "copy.db.partial"));
  // It opens as any store, with the steps in order.
  auto copy = ValueOf(Memory::open("sqlite://" + (dir / "copy.db").string()));
  const Episode e = ValueOf(copy->get_episode(id));
  EXPECT_EQ(static_cast<int64_t>(e.steps.size()), tables.at("steps"));
  for (size_t i = 0; i < e.steps.size(); ++i) {
    EXPECT_EQ(e.steps[i].step_number, static_cast<int64_t>(i + 1));
  }
  // A second backup to the same file is refused; the first is left as it was.
  auto again = memory->backup((dir / "copy.db").string());
  EXPECT_TRUE(again.status().IsAlreadyExists()) << again.status().message();
  ASSERT_OK(memory->close());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace engram
