#include "core/dedup_cache.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace psycho
