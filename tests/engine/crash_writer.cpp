// The child of the crash test: logs durable steps to many episodes from several threads and
// prints "ack <episode id> <step number>" for each step once log_step has returned, until it
// is killed. Usage: engram_crash_writer DB_URL THREADS EPISODES
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "engram/engram.h"

namespace {

// One write(2) per line: lines from several threads never interleave, and nothing waits in a
// stdio buffer when the process is killed.
void Say(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = write(STDOUT_FILENO, p, left);
    if (n <= 0) _exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: engram_crash_writer DB_URL THREADS EPISODES\n");
    return 2;
  }
  const int threads = std::atoi(argv[2]);
  const int episodes = std::atoi(argv[3]);
  auto memory = engram::Memory::open(argv[1]);
  if (!memory.ok()) {
    std::fprintf(stderr, "error: %s\n", memory.status().message().c_str());
    return 1;
  }
  std::vector<std::string> ids;
  for (int e = 0; e < episodes; ++e) {
    auto id = (*memory)->start_episode({"crash test", engram::TaskType::kTesting, {}, {}, {}});
    if (!id.ok()) return 1;
    ids.push_back(*id);
  }
  Say("ready\n");
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0;; ++i) {
        const std::string& id = ids[(t * 7 + i) % ids.size()];
        engram::ExecutionStep step;
        step.tool = "writer" + std::to_string(t);
        step.action = std::to_string(i);
        step.observation = std::string(512, 'x');
        auto n = (*memory)->log_step(id, std::move(step));
        if (!n.ok()) {
          Say("error " + n.status().message() + "\n");
          _exit(1);
        }
        Say("ack " + id + " " + std::to_string(*n) + "\n");
      }
    });
  }
  for (auto& w : workers) w.join();
}
