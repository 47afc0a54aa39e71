// Group commit as docs/design.md section 3 states it, observed through a store that records every
// transaction and can hold a commit in flight.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/memory_impl.h"
#include "store/url.h"
#include "store_param.h"
#include "test_util.h"

namespace engram {
namespace {

using testing::ValueOf;
using namespace std::chrono_literals;

// Forwards to a real store (SQLite or PostgreSQL); records the size of each committed transaction;
// can hold commits at a gate and fail the next one.
class RecordingStore final : public Store {
 public:
  explicit RecordingStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  struct Txn final : WriteTransaction {
    Txn(RecordingStore& s, std::unique_ptr<WriteTransaction> t) : store(s), inner(std::move(t)) {}
    Result<std::vector<EpisodeHead>> heads(const std::vector<int64_t>& keys) override {
      return inner->heads(keys);
    }
    Status insert_step(int64_t key, int64_t n, const PreparedStep& p) override {
      ++steps;
      return inner->insert_step(key, n, p);
    }
    Status commit() override {
      std::unique_lock lock(store.mu);
      ++store.commits_entered;
      store.cv.notify_all();
      store.cv.wait(lock, [&] { return store.gate_open; });
      if (store.fail_next) {
        store.fail_next = false;
        return Status::IOError("disk on fire");  // inner is rolled back on destruction
      }
      lock.unlock();
      Status s = inner->commit();
      lock.lock();
      store.batch_sizes.push_back(steps);
      return s;
    }
    RecordingStore& store;
    std::unique_ptr<WriteTransaction> inner;
    int steps = 0;
  };

  Result<int64_t> insert_episode(const Episode& e) override { return inner_->insert_episode(e); }
  Result<EpisodeHead> find_episode(std::string_view id) override {
    return inner_->find_episode(id);
  }
  Result<NamedEpisodeRow> insert_named_episode(const Episode& e, std::string_view name) override {
    return inner_->insert_named_episode(e, name);
  }
  Result<NamedEpisodeRow> find_named_episode(std::string_view name) override {
    return inner_->find_named_episode(name);
  }
  Status order_steps_by_time(int64_t key) override { return inner_->order_steps_by_time(key); }
  Status amend_episode(int64_t key, const EpisodeAmendment& amendment,
                       size_t max_metadata_bytes) override {
    return inner_->amend_episode(key, amendment, max_metadata_bytes);
  }
  Status name_episode(int64_t key, std::string_view name) override {
    return inner_->name_episode(key, name);
  }
  Result<std::unique_ptr<WriteTransaction>> begin_write() override {
    auto t = inner_->begin_write();
    if (!t.ok()) return t.status();
    return std::unique_ptr<WriteTransaction>(new Txn(*this, std::move(*t)));
  }
  Status complete_episode(int64_t key, const Completion& c, const Relearn& relearn) override {
    return inner_->complete_episode(key, c, relearn);
  }
  Result<std::vector<EpisodeCost>> recent_costs(TaskType t, const std::optional<std::string>& d,
                                                int limit) override {
    return inner_->recent_costs(t, d, limit);
  }
  Result<Episode> load_episode(std::string_view id) override { return inner_->load_episode(id); }
  Result<std::vector<ExecutionStep>> load_steps(int64_t key, int64_t after,
                                                int64_t limit) override {
    return inner_->load_steps(key, after, limit);
  }
  Result<EpisodePage> list_episodes(const EpisodeFilter& f) override {
    return inner_->list_episodes(f);
  }
  Status delete_episode(std::string_view id) override { return inner_->delete_episode(id); }
  Result<PruneBatch> prune_batch(const PruneQuery& q, int limit) override {
    return inner_->prune_batch(q, limit);
  }
  Result<std::vector<PrunedEpisode>> prunable(const PruneQuery& q, int limit) override {
    return inner_->prunable(q, limit);
  }
  PrunePace prune_pace() const override { return inner_->prune_pace(); }
  Result<FileSpace> release_space(int64_t max_pages) override {
    return inner_->release_space(max_pages);
  }
  Result<std::vector<Pattern>> list_patterns(const PatternFilter& f) override {
    return inner_->list_patterns(f);
  }
  Result<Pattern> get_pattern(std::string_view id) override { return inner_->get_pattern(id); }
  Status scan_steps(const StatsFilter& f,
                    const std::function<void(const StepFacts&)>& visit) override {
    return inner_->scan_steps(f, visit);
  }
  Status count_episodes(const StatsFilter& f,
                        const std::function<void(const EpisodeCount&)>& visit) override {
    return inner_->count_episodes(f, visit);
  }
  Result<std::vector<SearchHit>> search_episodes(const std::vector<std::string>& words,
                                                 int limit) override {
    return inner_->search_episodes(words, limit);
  }
  Result<std::vector<Result<int64_t>>> import_episodes(const NextImported& next) override {
    return inner_->import_episodes(next);
  }
  Result<std::unordered_map<int64_t, std::vector<StepBrief>>> step_briefs(
      const std::vector<int64_t>& keys) override {
    return inner_->step_briefs(keys);
  }
  Result<std::vector<PatternHit>> patterns_of_episodes(const std::vector<int64_t>& keys) override {
    return inner_->patterns_of_episodes(keys);
  }
  Result<std::vector<StoredEpisode>> scan_episodes(int64_t after_key, int limit) override {
    return inner_->scan_episodes(after_key, limit);
  }
  Status scan_learnt(const std::function<Status(LearntRows&&)>& page) override {
    return inner_->scan_learnt(page);
  }
  Status write_learnt(const LearntRows& rows) override { return inner_->write_learnt(rows); }
  Result<RowCounts> count_rows() override { return inner_->count_rows(); }
  Result<RowCounts> backup(const std::string& path) override { return inner_->backup(path); }

  void close_gate() {
    std::lock_guard lock(mu);
    gate_open = false;
  }
  void open_gate() {
    std::lock_guard lock(mu);
    gate_open = true;
    cv.notify_all();
  }
  void wait_for_commits(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return commits_entered >= n; });
  }
  std::vector<int> sizes() {
    std::lock_guard lock(mu);
    return batch_sizes;
  }

  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = true;
  bool fail_next = false;
  int commits_entered = 0;
  std::vector<int> batch_sizes;

 private:
  std::unique_ptr<Store> inner_;
};

class Batching : public testing::OnEachStore {
 protected:
  void Open(Options options) {
    auto inner = OpenStore(stores_.url("b.db"), options);
    ASSERT_OK(inner);
    auto store = std::make_unique<RecordingStore>(std::move(*inner));
    store_ = store.get();
    memory_ = std::make_unique<MemoryImpl>(std::move(store), options,
                                           ValueOf(Redactor::Make(options.redaction)));
    auto id = memory_->start_episode(EpisodeSpec{"batching", TaskType::kTesting, {}, {}, {}});
    ASSERT_OK(id);
    id_ = *id;
  }
  static ExecutionStep Step(int i) {
    ExecutionStep s;
    s.tool = "tool" + std::to_string(i);
    return s;
  }

  RecordingStore* store_ = nullptr;
  std::unique_ptr<MemoryImpl> memory_;
  std::string id_;
};

TEST_P(Batching, ALoneStepIsCommittedAtOnceNotAfterTheDelay) {
  Options o;
  o.max_batch_delay = 30s;  // were the delay imposed on a lone step, this test would hang
  Open(o);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_OK(memory_->log_step(id_, Step(1)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(store_->sizes(), std::vector<int>{1});
}

TEST_P(Batching, StepsArrivingDuringACommitShareTheNextOne) {
  Options o;
  o.max_batch_delay = 60s;  // only the commit in flight decides here, however slow the machine
  Open(o);
  store_->close_gate();
  ASSERT_OK(memory_->log_step_async(id_, Step(0)));
  store_->wait_for_commits(1);  // the first batch is in flight, held at the gate
  std::vector<StepTicket> tickets;
  for (int i = 1; i <= 100; ++i) tickets.push_back(ValueOf(memory_->log_step_async(id_, Step(i))));
  store_->open_gate();
  for (size_t i = 0; i < tickets.size(); ++i) EXPECT_EQ(ValueOf(tickets[i].wait()), int64_t(i + 2));
  EXPECT_EQ(store_->sizes(), (std::vector<int>{1, 100}));
}

TEST_P(Batching, ABatchClosesAtMaxBatchSteps) {
  Options o;
  o.max_batch_steps = 32;
  o.max_batch_delay = 60s;
  Open(o);
  store_->close_gate();
  ASSERT_OK(memory_->log_step_async(id_, Step(0)));
  store_->wait_for_commits(1);
  for (int i = 1; i <= 100; ++i) ASSERT_OK(memory_->log_step_async(id_, Step(i)));
  store_->open_gate();
  ASSERT_OK(memory_->flush());
  EXPECT_EQ(store_->sizes(), (std::vector<int>{1, 32, 32, 32, 4}));
}

TEST_P(Batching, TheStepsOfOneCallShareOneTransaction) {
  Options o;
  o.max_batch_steps = 32;
  Open(o);
  std::vector<ExecutionStep> steps;
  for (int i = 0; i < 100; ++i) steps.push_back(Step(i));
  ASSERT_OK(memory_->log_steps(id_, steps));
  EXPECT_EQ(store_->sizes(), std::vector<int>{100});
  // And so a failed commit fails them all: none of the call's steps is written.
  {
    std::lock_guard lock(store_->mu);
    store_->fail_next = true;
  }
  EXPECT_FALSE(memory_->log_steps(id_, steps).ok());
  EXPECT_EQ(memory_->get_episode(id_)->steps.size(), 100u);
}

TEST_P(Batching, ABatchClosesAtMaxBatchDelayAfterItsFirstStep) {
  Options o;
  o.max_batch_delay = 100ms;
  Open(o);
  store_->close_gate();
  ASSERT_OK(memory_->log_step_async(id_, Step(0)));
  store_->wait_for_commits(1);
  for (int i = 1; i <= 5; ++i) ASSERT_OK(memory_->log_step_async(id_, Step(i)));
  std::this_thread::sleep_for(400ms);  // the open batch is now older than its delay
  for (int i = 6; i <= 10; ++i) ASSERT_OK(memory_->log_step_async(id_, Step(i)));
  store_->open_gate();
  ASSERT_OK(memory_->flush());
  EXPECT_EQ(store_->sizes(), (std::vector<int>{1, 5, 5}));
}

TEST_P(Batching, AFireAndForgetStepBecomesDurableWithoutAnotherCall) {
  Open(Options{});
  { auto ticket = memory_->log_step_async(id_, Step(1)); }  // ticket dropped
  // Another connection, as another process would, sees it once committed.
  auto other = Memory::open(stores_.url("b.db"));
  ASSERT_OK(other);
  for (int i = 0; i < 500 && (*other)->get_episode(id_)->steps.empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ((*other)->get_episode(id_)->steps.size(), 1u);
}

TEST_P(Batching, BackPressureBoundsTheQueueAndLosesNothing) {
  Options o;
  o.max_pending_steps = 8;
  Open(o);
  store_->close_gate();
  ASSERT_OK(memory_->log_step_async(id_, Step(0)));
  store_->wait_for_commits(1);
  std::atomic<int> accepted = 0;
  std::thread producer([&] {
    for (int i = 1; i <= 50; ++i) {
      ASSERT_OK(memory_->log_step_async(id_, Step(i)));
      ++accepted;
    }
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_LE(accepted.load(), 8);  // blocked while 8 steps wait for the held commit
  store_->open_gate();
  producer.join();
  ASSERT_OK(memory_->flush());
  auto e = memory_->get_episode(id_);
  ASSERT_OK(e);
  ASSERT_EQ(e->steps.size(), 51u);
  for (size_t i = 0; i < e->steps.size(); ++i) EXPECT_EQ(e->steps[i].step_number, int64_t(i + 1));
}

TEST_P(Batching, AFailedCommitFailsItsStepsAndWritesNoneOfThem) {
  Open(Options{});
  ASSERT_OK(memory_->log_step(id_, Step(1)));
  {
    std::lock_guard lock(store_->mu);
    store_->fail_next = true;
  }
  auto r = memory_->log_step(id_, Step(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "disk on fire");
  EXPECT_TRUE(memory_->flush().ok());  // its caller was told: not reported again
  // The next step takes the number the failed one would have had: no gap.
  EXPECT_EQ(ValueOf(memory_->log_step(id_, Step(3))), 2);
  // A fire-and-forget step's failure has no one to tell but flush(), once.
  {
    std::lock_guard lock(store_->mu);
    store_->fail_next = true;
  }
  ASSERT_OK(memory_->log_step_async(id_, Step(4)));
  EXPECT_EQ(memory_->flush().message(), "disk on fire");
  EXPECT_TRUE(memory_->flush().ok());
  auto e = memory_->get_episode(id_);
  ASSERT_OK(e);
  ASSERT_EQ(e->steps.size(), 2u);
  EXPECT_EQ(e->steps[1].tool, "tool3");
}

TEST_P(Batching, ReadYourWritesBeforeTheBatchCommits) {
  Open(Options{});
  store_->close_gate();
  ASSERT_OK(memory_->log_step_async(id_, Step(1)));
  store_->wait_for_commits(1);
  ASSERT_OK(memory_->log_step_async(id_, Step(2)));
  auto e = memory_->get_episode(id_);  // neither step has committed
  ASSERT_OK(e);
  ASSERT_EQ(e->steps.size(), 2u);
  EXPECT_EQ(e->steps[0].tool, "tool1");
  EXPECT_EQ(e->steps[1].step_number, 2);
  store_->open_gate();
  ASSERT_OK(memory_->flush());
}

ENGRAM_ON_BOTH_STORES(Batching);

}  // namespace
}  // namespace engram
