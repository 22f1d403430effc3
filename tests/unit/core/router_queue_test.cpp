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
  void attach(FakeAdapter& adapter) {
    adapter.set_origin_id(router.next_origin_id());
    router.add_adapter(adapter);
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
  attach(nats);
  attach(overlay);
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "x", "g"));
  router.declare_interest(overlay.origin_id(), "x", true);
  router.declare_interest(overlay.origin_id(), "x", false);
  ASSERT_TRUE(router.unsubscribe(*s, "x", "g"));
  EXPECT_EQ(nats.interest, (std::vector<std::string>{"+x g", "+x", "-x", "-x g"}));
  // The overlay heard of the group member as of any subscriber; of its own, nothing.
  EXPECT_EQ(overlay.interest, (std::vector<std::string>{"+x", "-x"}));
}

// A bridging link whose fabric chooses the member of `workers`; a plain subscriber, two
// `workers` members and one `audit` member (a group the fabric does not choose for).
class ChosenGroupTest : public RouterQueueTest {
 protected:
  ChosenGroupTest() : nats("nats") {
    nats.bridges = true;
    nats.chooses = {"workers"};
    attach(nats);
    EXPECT_TRUE(router.subscribe(plain, "jobs", ""));
    EXPECT_TRUE(router.subscribe(worker0, "jobs", "workers"));
    EXPECT_TRUE(router.subscribe(worker1, "jobs", "workers"));
    EXPECT_TRUE(router.subscribe(auditor, "jobs", "audit"));
  }
  std::size_t workers_received() const {
    return worker0->received.size() + worker1->received.size();
  }
  MessagePtr chosen(std::string_view queue, std::uint64_t node, std::uint64_t seq) {
    return make_message({"jobs", "", "", "payload", queue}, nats.origin_id(), Trace{node, seq, 1});
  }

  FakeAdapter nats;
  std::shared_ptr<RecordingSubscriber> plain = subscriber(0), worker0 = subscriber(0),
                                       worker1 = subscriber(1), auditor = subscriber(1);
};

TEST_F(ChosenGroupTest, ALocalPublicationLeavesTheChoiceToTheFabric) {
  pool.set_current(0);
  for (int i = 0; i < 10; ++i) {
    router.publish(make_message({"jobs", "", "", "payload"}, 999, Trace{0xAAAA, 1u + i, 0}));
  }
  pool.run();
  EXPECT_EQ(workers_received(), 0u);  // the fabric chooses, among every gateway
  EXPECT_EQ(nats.sent.size(), 10u);
  EXPECT_EQ(plain->received.size(), 10u);
  EXPECT_EQ(auditor->received.size(), 10u);
  EXPECT_EQ(router.stats().queue_fallback.load(), 0u);
}

TEST_F(ChosenGroupTest, WhenTheFabricCannotCarryTheMessageAMemberIsPickedHereAndCounted) {
  nats.carrying = false;
  pool.set_current(0);
  for (int i = 0; i < 10; ++i) {
    router.publish(make_message({"jobs", "", "", "payload"}, 999, Trace{0xAAAA, 1u + i, 0}));
  }
  pool.run();
  EXPECT_EQ(workers_received(), 10u);
  EXPECT_EQ(router.stats().queue_fallback.load(), 10u);
}

// A group the fabric should choose for and cannot yet (NATS never confirmed its queue
// subscription: unreachable since the group appeared) is picked here, as a fallback.
TEST_F(ChosenGroupTest, AGroupTheFabricCannotChooseForYetIsPickedHereAndCounted) {
  nats.chooses.clear();
  nats.awaits = {"workers"};  // before the first route is built
  pool.set_current(0);
  for (int i = 0; i < 10; ++i) {
    router.publish(make_message({"jobs", "", "", "payload"}, 999, Trace{0xAAAA, 1u + i, 0}));
  }
  pool.run();
  EXPECT_EQ(workers_received(), 10u);
  EXPECT_EQ(auditor->received.size(), 10u);
  EXPECT_EQ(router.stats().queue_fallback.load(), 10u);
}

TEST_F(ChosenGroupTest, TheFabricsPlainCopySkipsTheGroupItChoosesFor) {
  ASSERT_TRUE(router.inject(
      make_message({"jobs", "", "", "payload"}, nats.origin_id(), Trace{0xBEEF, 1, 1})));
  pool.run();
  EXPECT_EQ(plain->received.size(), 1u);
  EXPECT_EQ(auditor->received.size(), 1u);
  EXPECT_EQ(workers_received(), 0u);  // its copy comes through the queue subscription
}

TEST_F(ChosenGroupTest, AChosenCopyReachesOneMemberOfItsGroupAndNobodyElse) {
  // Its identity is that of a copy routed here already, or this gateway's own: neither a
  // duplicate nor a loop.
  ASSERT_TRUE(router.inject(
      make_message({"jobs", "", "", "payload"}, nats.origin_id(), Trace{0xBEEF, 1, 1})));
  ASSERT_TRUE(router.inject(chosen("workers", 0xBEEF, 1)));
  ASSERT_TRUE(router.inject(chosen("workers", 0xAAAA, 2)));
  pool.run();
  EXPECT_EQ(workers_received(), 2u);
  EXPECT_EQ(plain->received.size(), 1u);    // the plain copy only
  EXPECT_EQ(auditor->received.size(), 1u);  // likewise
  EXPECT_TRUE(nats.sent.empty());
}

TEST_F(ChosenGroupTest, AChosenCopyForAGroupWithNoMemberLeftIsDroppedAndCounted) {
  ASSERT_TRUE(router.unsubscribe(*worker0, "jobs", "workers"));
  ASSERT_TRUE(router.unsubscribe(*worker1, "jobs", "workers"));
  ASSERT_TRUE(router.inject(chosen("workers", 0xBEEF, 1)));
  pool.run();
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::queue_gone), 1u);
  EXPECT_EQ(plain->received.size() + auditor->received.size(), 0u);
}

TEST_F(RouterQueueTest, AnOverlayMessageIsPickedForOncePerGatewayAndCounted) {
  FakeAdapter overlay("overlay");
  attach(overlay);
  auto a = subscriber(0);
  auto b = subscriber(1);
  ASSERT_TRUE(router.subscribe(a, "x", "g"));
  ASSERT_TRUE(router.subscribe(b, "x", "g"));
  ASSERT_TRUE(router.inject(
      make_message({"x", "", "", "payload"}, overlay.origin_id(), Trace{0xBEEF, 1, 1})));
  pool.run();
  EXPECT_EQ(a->received.size() + b->received.size(), 1u);
  EXPECT_EQ(router.stats().queue_gateway_picks.load(), 1u);
}

}  // namespace
}  // namespace psycho
