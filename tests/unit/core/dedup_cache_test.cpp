#include "core/dedup_cache.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <set>
#include <utility>

namespace psycho {
namespace {

TEST(DedupCache, RemembersUpToCapacityThenForgetsTheOldest) {
  DedupCache cache(3);
  EXPECT_TRUE(cache.insert(1, 1));
  EXPECT_FALSE(cache.insert(1, 1));
  EXPECT_TRUE(cache.insert(1, 2));
  EXPECT_TRUE(cache.insert(2, 1));
  EXPECT_TRUE(cache.insert(1, 3));  // evicts (1,1)
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.insert(1, 1));
  EXPECT_FALSE(cache.insert(1, 3));
  EXPECT_EQ(cache.size(), 3u);
}

TEST(DedupCache, ACapacityOfZeroStillRemembersTheLastOne) {
  DedupCache cache(0);
  EXPECT_TRUE(cache.insert(0, 0));
  EXPECT_FALSE(cache.insert(0, 0));
  EXPECT_TRUE(cache.insert(0, 1));
  EXPECT_TRUE(cache.insert(0, 0));
}

// The table's probing and backward-shift deletion against the obvious model (a set and a
// FIFO), over small tables where probe runs collide, wrap around the end and are cut by
// evictions all the time; keys repeat often, so duplicates are found across shifts.
TEST(DedupCache, BehavesLikeASetWithAFifoOfItsInsertions) {
  std::mt19937_64 random(7);
  for (std::size_t capacity : {1u, 2u, 3u, 5u, 8u, 13u, 64u, 1000u}) {
    DedupCache cache(capacity);
    std::set<std::pair<std::uint64_t, std::uint64_t>> model;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> order;
    std::uniform_int_distribution<std::uint64_t> pick(0, 3 * capacity);
    for (int i = 0; i < 20'000; ++i) {
      const std::pair key{pick(random) % 4, pick(random)};
      const bool fresh = !model.contains(key);
      ASSERT_EQ(cache.insert(key.first, key.second), fresh)
          << "capacity " << capacity << ", step " << i;
      if (fresh) {
        if (order.size() == capacity) {
          model.erase(order.front());
          order.pop_front();
        }
        model.insert(key);
        order.push_back(key);
      }
      ASSERT_EQ(cache.size(), model.size());
    }
  }
}

}  // namespace
}  // namespace psycho
