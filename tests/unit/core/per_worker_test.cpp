// PerWorker: one slot per worker, each on its own cache line, built once and never moved.
#include "core/per_worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace psycho {
namespace {

TEST(PerWorker, SlotsAreDefaultConstructedAndIndexedByWorker) {
  PerWorker<int> slots(3);
  ASSERT_EQ(slots.size(), 3);
  for (int w = 0; w < 3; ++w) EXPECT_EQ(slots[w], 0);
  slots[1] = 7;
  EXPECT_EQ(slots[0], 0);
  EXPECT_EQ(slots[1], 7);
  EXPECT_EQ(slots[2], 0);
}

TEST(PerWorker, EachSlotIsMadeForItsWorker) {
  PerWorker<std::string> names(4, [](int w) { return "worker-" + std::to_string(w); });
  for (int w = 0; w < 4; ++w) EXPECT_EQ(names[w], "worker-" + std::to_string(w));
}

// Worker 0's io_context holds the acceptor, whose pending accept holds a socket of another
// worker's context: contexts must go in index order, as they did from a std::vector (ASan
// found a use after free when the order was reversed).
TEST(PerWorker, SlotsAreDestroyedInWorkerOrder) {
  std::vector<int> destroyed;
  struct Recorder {
    std::vector<int>* log;
    int worker;
    ~Recorder() { log->push_back(worker); }
  };
  {
    PerWorker<Recorder> slots(3, [&](int w) { return Recorder{&destroyed, w}; });
  }
  EXPECT_EQ(destroyed, (std::vector<int>{0, 1, 2}));
}

TEST(PerWorker, SlotsDoNotShareACacheLine) {
  PerWorker<std::atomic<std::uint64_t>> counters(4);
  for (int w = 0; w + 1 < counters.size(); ++w) {
    const auto here = reinterpret_cast<std::uintptr_t>(&counters[w]);
    const auto next = reinterpret_cast<std::uintptr_t>(&counters[w + 1]);
    EXPECT_EQ(here % kCacheLine, 0u);
    EXPECT_GE(next - here, kCacheLine);
  }
}

TEST(PerWorker, HoldsTypesThatCannotMove) {
  // Atomics and mutexes can be neither copied nor moved: the slots are built in place.
  struct Queue {
    std::mutex mutex;
    std::vector<int> items;
  };
  PerWorker<Queue> queues(2);
  {
    std::lock_guard lock(queues[1].mutex);
    queues[1].items.push_back(5);
  }
  EXPECT_TRUE(queues[0].items.empty());
  EXPECT_EQ(queues[1].items, std::vector<int>{5});
}

TEST(PerWorker, ForEachVisitsEveryWorkerInOrder) {
  PerWorker<int> slots(3, [](int w) { return 10 * w; });
  std::vector<std::pair<int, int>> seen;
  slots.for_each([&](int w, int& v) {
    seen.emplace_back(w, v);
    v += 1;
  });
  EXPECT_EQ(seen, (std::vector<std::pair<int, int>>{{0, 0}, {1, 10}, {2, 20}}));
  EXPECT_EQ(slots[2], 21);
}

TEST(PerWorker, SumAddsWhatEachSlotContributes) {
  PerWorker<std::atomic<std::uint64_t>> counters(3);
  std::vector<std::thread> threads;
  for (int w = 0; w < counters.size(); ++w) {
    threads.emplace_back([&counters, w] {
      for (int i = 0; i <= w; ++i) counters[w].fetch_add(100, std::memory_order_relaxed);
    });
  }
  for (auto& t : threads) t.join();
  const std::uint64_t total =
      counters.sum([](const std::atomic<std::uint64_t>& c) { return c.load(); });
  EXPECT_EQ(total, 600u);  // 100 + 200 + 300
  EXPECT_EQ(PerWorker<int>(0).sum([](int v) { return v; }), 0);
}

TEST(PerWorker, AFailedSlotDestroysTheOnesAlreadyBuilt) {
  static int alive = 0;
  struct Tracked {
    Tracked() { ++alive; }
    Tracked(const Tracked&) = delete;
    ~Tracked() { --alive; }
  };
  auto make = [](int w) {
    if (w == 2) throw std::runtime_error("no third slot");
    return Tracked();
  };
  EXPECT_THROW((PerWorker<Tracked>(4, make)), std::runtime_error);
  EXPECT_EQ(alive, 0);
  {
    PerWorker<Tracked> built(3);
    EXPECT_EQ(alive, 3);
  }
  EXPECT_EQ(alive, 0);
}

}  // namespace
}  // namespace psycho
