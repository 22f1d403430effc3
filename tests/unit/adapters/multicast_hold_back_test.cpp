#include "adapters/multicast/hold_back.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace psycho::multicast {
namespace {

std::vector<std::string> release(HoldBack& h, std::uint64_t node, std::uint64_t before) {
  std::vector<std::string> out;
  for (std::string plain; h.take(node, before, plain);) out.push_back(plain);
  return out;
}

TEST(MulticastHoldBack, ReleasesOldestFirstWhatNothingStandsBefore) {
  HoldBack h(1000);
  h.hold(7, 12, "twelve");
  h.hold(7, 10, "ten");
  h.hold(7, 11, "eleven");
  h.hold(8, 3, "other");
  EXPECT_EQ(h.bytes(), 20u);
  EXPECT_TRUE(release(h, 7, 10).empty());  // 9 still missing
  EXPECT_EQ(release(h, 7, 12), (std::vector<std::string>{"ten", "eleven"}));
  EXPECT_EQ(h.bytes(), 11u);
  EXPECT_EQ(release(h, 7, 100), (std::vector<std::string>{"twelve"}));
  EXPECT_EQ(release(h, 8, 100), (std::vector<std::string>{"other"}));
  EXPECT_EQ(h.bytes(), 0u);
  EXPECT_TRUE(release(h, 9, 100).empty());  // never held anything
}

TEST(MulticastHoldBack, IsBoundedAndNamesTheLargestHolder) {
  HoldBack h(11);
  h.hold(1, 5, "12345");
  h.hold(2, 5, "1234");
  h.hold(2, 6, "12");
  EXPECT_FALSE(h.over());
  EXPECT_EQ(h.largest(), 2u);
  h.hold(1, 6, "x");
  EXPECT_TRUE(h.over());
  h.hold(1, 6, "again");  // held once
  EXPECT_EQ(h.bytes(), 12u);
  h.forget(2);
  EXPECT_EQ(h.bytes(), 6u);
  EXPECT_FALSE(h.over());
  EXPECT_EQ(h.largest(), 1u);
  h.forget(1);
  EXPECT_EQ(h.bytes(), 0u);
}

TEST(MulticastHoldBack, MoreMayBeHeldBetweenTakes) {
  HoldBack h(1000);
  h.hold(1, 1, "a");
  h.hold(1, 2, "b");
  std::string plain;
  ASSERT_TRUE(h.take(1, 3, plain));
  EXPECT_EQ(plain, "a");
  h.hold(1, 9, "later");
  ASSERT_TRUE(h.take(1, 3, plain));
  EXPECT_EQ(plain, "b");
  EXPECT_FALSE(h.take(1, 3, plain));
  EXPECT_EQ(h.bytes(), 5u);
}

}  // namespace
}  // namespace psycho::multicast
