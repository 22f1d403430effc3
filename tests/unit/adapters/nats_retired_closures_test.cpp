#include "adapters/nats/retired_closures.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

namespace psycho::nats {
namespace {

using namespace std::chrono_literals;

struct Closure {
  int* destroyed = nullptr;
  bool complete = false;
  ~Closure() {
    if (destroyed != nullptr) ++*destroyed;
  }
};

std::unique_ptr<Closure> closure(int& destroyed) {
  auto c = std::make_unique<Closure>();
  c->destroyed = &destroyed;
  return c;
}

TEST(RetiredClosures, OnlyThoseNatsHasFinishedWithAreFreed) {
  int destroyed = 0;
  RetiredClosures<Closure> retired;
  auto first = closure(destroyed);
  auto second = closure(destroyed);
  Closure& done = *first;
  retired.add(std::move(first));
  retired.add(std::move(second));
  retired.collect();
  EXPECT_EQ(destroyed, 0);  // a connection that closed is no reason
  retired.completed(done);
  retired.collect();
  EXPECT_EQ(destroyed, 1);
}

TEST(RetiredClosures, ACompletionBeforeRetirementCounts) {
  // The on-complete callback may run while the closure is still live on our side.
  int destroyed = 0;
  RetiredClosures<Closure> retired;
  auto c = closure(destroyed);
  retired.completed(*c);
  retired.add(std::move(c));
  retired.collect();
  EXPECT_EQ(destroyed, 1);
}

TEST(RetiredClosures, FinishWaitsForALateCompletion) {
  int destroyed = 0;
  RetiredClosures<Closure> retired;
  auto c = closure(destroyed);
  Closure& late = *c;
  retired.add(std::move(c));
  std::thread delivery([&] {
    std::this_thread::sleep_for(20ms);  // a callback still running when the close was seen
    retired.completed(late);
  });
  EXPECT_EQ(retired.finish(std::chrono::steady_clock::now() + 10s), 0u);
  delivery.join();
  EXPECT_EQ(destroyed, 1);
}

TEST(RetiredClosures, FinishLeaksWhatNatsMayStillCall) {
  int destroyed = 0;
  RetiredClosures<Closure> retired;
  auto c = closure(destroyed);
  Closure* stuck = c.get();
  retired.add(std::move(c));
  EXPECT_EQ(retired.finish(std::chrono::steady_clock::now() + 10ms), 1u);
  EXPECT_EQ(destroyed, 0);
  delete stuck;  // the test knows nats.c will not call it
}

}  // namespace
}  // namespace psycho::nats
