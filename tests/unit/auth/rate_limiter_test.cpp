#include "auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace psycho::auth {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiter, MessagesPerSecondWithOneSecondOfBurst) {
  RateLimiter r(config::RateLimitConfig{10, 0});
  const auto t0 = RateLimiter::Clock::now();
  int allowed = 0;
  for (int i = 0; i < 20; ++i) allowed += r.allow(1, t0) ? 1 : 0;
  EXPECT_EQ(allowed, 10);
  EXPECT_FALSE(r.allow(1, t0 + 50ms));  // half a token
  EXPECT_TRUE(r.allow(1, t0 + 100ms));
  EXPECT_FALSE(r.allow(1, t0 + 100ms));
}

TEST(RateLimiter, BytesPerSecond) {
  RateLimiter r(config::RateLimitConfig{0, 1000});
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_TRUE(r.allow(600, t0));
  EXPECT_FALSE(r.allow(600, t0));
  EXPECT_TRUE(r.allow(600, t0 + 200ms));
}

TEST(RateLimiter, DisabledAllowsAll) {
  RateLimiter r;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(r.allow(1 << 20));
}

}  // namespace
}  // namespace psycho::auth
