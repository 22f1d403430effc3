// Queue groups that a fabric bridges (NATS): how the router reports their interest and when
// it leaves the choice of a member to the fabric.
#include <gtest/gtest.h>

#include "core/router.hpp"
#include "fakes.hpp"

namespace psycho {
namespace {

using testing::FakeAdapter;
using testing::FakeWorkers;
using testing::RecordingSubscriber;

class RouterQueueTest : public ::testing::Test {
 protected:
  RouterQueueTest() : pool(2), router(pool, RouterOptions{0xAAAA}) {}

  std::shared_ptr<RecordingSubscriber> subscriber(int worker) {
    return std::make_shared<RecordingSubscriber>(router.next_origin_id(), worker, pool);
  }

  FakeWorkers pool;
  Router router;
};

TEST_F(RouterQueueTest, ALinkThatBridgesGroupsHearsOfEachGroupApart) {
  FakeAdapter nats("nats");
  FakeAdapter overlay("overlay");
  nats.bridges = true;
  router.add_adapter(nats);
  router.add_adapter(overlay);
  auto s1 = subscriber(0);
  auto s2 = subscriber(1);
  ASSERT_TRUE(router.subscribe(s1, "jobs", "workers"));
  ASSERT_TRUE(router.subscribe(s2, "jobs", "workers"));  // same group: nothing new
  ASSERT_TRUE(router.subscribe(s2, "jobs", "audit"));
  ASSERT_TRUE(router.subscribe(s1, "jobs", ""));
  ASSERT_TRUE(router.unsubscribe(*s1, "jobs", "workers"));
  ASSERT_TRUE(router.unsubscribe(*s2, "jobs", "workers"));
  ASSERT_TRUE(router.unsubscribe(*s1, "jobs", ""));
  EXPECT_FALSE(router.unsubscribe(*s1, "jobs", "workers"));  // unpaired: nothing heard
  ASSERT_TRUE(router.unsubscribe(*s2, "jobs", "audit"));
  EXPECT_EQ(nats.interest, (std::vector<std::string>{"+jobs workers", "+jobs audit", "+jobs",
                                                     "-jobs workers", "-jobs", "-jobs audit"}));
  // The other link hears of the pattern once, whoever subscribes to it.
  EXPECT_EQ(overlay.interest, (std::vector<std::string>{"+jobs", "-jobs"}));
}

TEST_F(RouterQueueTest, AdapterDeclarationsArePlainInterestForABridgingLink) {
  FakeAdapter nats("nats");
  FakeAdapter overlay("overlay");
  nats.bridges = true;
  nats.set_origin_id(router.next_origin_id());
  overlay.set_origin_id(router.next_origin_id());
  router.add_adapter(nats);
  router.add_adapter(overlay);
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "x", "g"));
  router.declare_interest(overlay.origin_id(), "x", true);
  router.declare_interest(overlay.origin_id(), "x", false);
  ASSERT_TRUE(router.unsubscribe(*s, "x", "g"));
  EXPECT_EQ(nats.interest, (std::vector<std::string>{"+x g", "+x", "-x", "-x g"}));
  // The overlay heard of the group member as of any subscriber; of its own, nothing.
  EXPECT_EQ(overlay.interest, (std::vector<std::string>{"+x", "-x"}));
}

}  // namespace
}  // namespace psycho
