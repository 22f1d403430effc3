#include "adapters/multicast/repair_budget.hpp"

#include <gtest/gtest.h>

namespace psycho::multicast {
namespace {

using namespace std::chrono_literals;
using Verdict = RepairBudget::Verdict;

const Clock::time_point t0 = Clock::time_point{} + 1h;

Source requester(std::uint8_t host) {
  Source s;
  s.host[0] = 10;
  s.host[3] = host;
  s.port = 4245;
  return s;
}

// 1000 B/s with 3000 B of burst per requester; 5000 B/s with 5000 B of burst in total.
RepairSettings settings() {
  RepairSettings s;
  s.requester_rate = 1000;
  s.requester_burst = 3000;
  s.total_rate = 5000;
  s.total_burst = 5000;
  return s;
}

TEST(MulticastTokenBucket, StartsFullRefillsAtItsRateAndHoldsAtMostItsBurst) {
  TokenBucket b(1000, 3000, t0);
  EXPECT_TRUE(b.full(t0));
  EXPECT_TRUE(b.take(2000, t0));
  EXPECT_FALSE(b.take(1001, t0));
  EXPECT_TRUE(b.take(1000, t0));
  EXPECT_FALSE(b.take(1, t0));
  EXPECT_FALSE(b.take(600, t0 + 500ms));  // 500 back
  EXPECT_TRUE(b.take(500, t0 + 500ms));
  EXPECT_DOUBLE_EQ(b.tokens(t0 + 1h), 3000);
  EXPECT_TRUE(b.full(t0 + 1h));
}

TEST(MulticastRepairBudget, EachRequestingHostHasItsOwnBudget) {
  RepairBudget budget(settings(), 16, t0);
  int sent = 0;
  while (budget.take(requester(1), 1000, t0) == Verdict::allowed && sent < 100) ++sent;
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(budget.take(requester(1), 1000, t0), Verdict::requester_rate);
  EXPECT_EQ(budget.take(requester(2), 1000, t0), Verdict::allowed);  // another's is untouched
  Source same_host = requester(1);
  same_host.port = 50000;  // another socket on the same host shares its budget
  EXPECT_EQ(budget.take(same_host, 1000, t0), Verdict::requester_rate);
  EXPECT_EQ(budget.take(requester(1), 1000, t0 + 1s), Verdict::allowed);
}

TEST(MulticastRepairBudget, TheTotalBoundsAllRequestersTogether) {
  RepairBudget budget(settings(), 16, t0);
  int sent = 0;
  for (std::uint8_t r = 1; r <= 10; ++r) {
    while (budget.take(requester(r), 1000, t0) == Verdict::allowed && sent < 100) ++sent;
  }
  EXPECT_EQ(sent, 5);
  EXPECT_EQ(budget.take(requester(11), 1000, t0), Verdict::total_rate);
  // A refusal by the total costs the requester nothing.
  EXPECT_EQ(budget.take(requester(11), 1000, t0 + 200ms), Verdict::allowed);
}

TEST(MulticastRepairBudget, RequestersAreBoundedAndIdleOnesForgotten) {
  RepairBudget budget(settings(), 2, t0);
  EXPECT_EQ(budget.take(requester(1), 100, t0), Verdict::allowed);
  EXPECT_EQ(budget.take(requester(2), 100, t0), Verdict::allowed);
  EXPECT_EQ(budget.take(requester(3), 100, t0), Verdict::requester_rate);  // both in use
  EXPECT_EQ(budget.requesters(), 2u);
  EXPECT_EQ(budget.take(requester(3), 100, t0 + 1s), Verdict::allowed);  // they refilled
  EXPECT_EQ(budget.requesters(), 1u);
}

}  // namespace
}  // namespace psycho::multicast
