#include "core/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "fakes.hpp"

namespace psycho {
namespace {

using testing::FakeAdapter;
using testing::FakeWorkers;
using testing::RecordingSubscriber;

constexpr std::uint64_t kNode = 0xAAAA;

MessagePtr local_message(std::string_view subject, OriginId origin = 999) {
  return make_message({subject, "", "", "payload"}, origin, Trace{kNode, 1, 0});
}

MessagePtr remote_message(std::string_view subject, OriginId origin, std::uint64_t node,
                          std::uint64_t seq, std::uint8_t hops = 1) {
  return make_message({subject, "", "", "payload"}, origin, Trace{node, seq, hops});
}

class RouterTest : public ::testing::Test {
 protected:
  // Inject backlog: room for exactly 8 test messages (subject 1 + body 7 + 64 overhead).
  RouterTest() : pool(2), router(pool, RouterOptions{kNode, 128, 4, 16, 8 * 72}) {}

  std::shared_ptr<RecordingSubscriber> subscriber(int worker) {
    return std::make_shared<RecordingSubscriber>(router.next_origin_id(), worker, pool);
  }

  // Gives `a` an origin id and adds it to the router.
  void attach(FakeAdapter& a) {
    a.set_origin_id(router.next_origin_id());
    router.add_adapter(a);
  }

  // `n` test messages on "x" from adapter `a`, each with an identity of its own (none is a
  // duplicate), through the router's inject().
  void inject_x(const FakeAdapter& a, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(router.inject(remote_message("x", a.origin_id(), 0xBEEF, ++injected_)));
    }
  }

  // Injects 16 messages on "x", each routed before the next: routing samples recipients'
  // congestion once in 16 messages.
  void inject_and_route_x(const FakeAdapter& a) {
    for (int i = 0; i < 16; ++i) {
      inject_x(a, 1);
      pool.run();
    }
  }

  FakeWorkers pool;
  Router router;
  std::uint64_t injected_ = 0;  // the last sequence inject_x() used
};

TEST_F(RouterTest, DeliversLocallyAtOnceAndToOtherWorkersInOneBatch) {
  auto here = subscriber(0);
  auto there = subscriber(1);
  ASSERT_TRUE(router.subscribe(here, "a.*", ""));
  ASSERT_TRUE(router.subscribe(there, "a.>", ""));
  pool.set_current(0);
  router.publish(local_message("a.b"));
  router.publish(local_message("a.c"));
  EXPECT_EQ(here->received, (std::vector<std::string>{"a.b", "a.c"}));
  EXPECT_TRUE(there->received.empty());  // batched until the worker hands over
  pool.run();
  EXPECT_EQ(there->received, (std::vector<std::string>{"a.b", "a.c"}));
  EXPECT_FALSE(here->wrong_thread);
  EXPECT_FALSE(there->wrong_thread);
}

TEST_F(RouterTest, SeveralMatchingPatternsDeliverOnce) {
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "a.b", ""));
  ASSERT_TRUE(router.subscribe(s, "a.*", ""));
  ASSERT_TRUE(router.subscribe(s, ">", ""));
  EXPECT_FALSE(router.subscribe(s, ">", ""));
  router.publish(local_message("a.b"));
  pool.run();
  EXPECT_EQ(s->received.size(), 1u);
}

TEST_F(RouterTest, UnsubscribeStopsDeliveryAndInvalidatesTheCache) {
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "a.b", ""));
  router.publish(local_message("a.b"));
  ASSERT_TRUE(router.unsubscribe(*s, "a.b", ""));
  EXPECT_FALSE(router.unsubscribe(*s, "a.b", ""));
  router.publish(local_message("a.b"));
  auto late = subscriber(0);
  ASSERT_TRUE(router.subscribe(late, "a.b", ""));
  router.publish(local_message("a.b"));
  pool.run();
  EXPECT_EQ(s->received.size(), 1u);
  EXPECT_EQ(late->received.size(), 1u);
  EXPECT_EQ(router.subscription_count(), 1u);
}

TEST_F(RouterTest, QueueGroupDeliversToExactlyOneMemberAndSpreadsLoad) {
  std::vector<std::shared_ptr<RecordingSubscriber>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(subscriber(i % 2));
    ASSERT_TRUE(router.subscribe(members.back(), "jobs.*", "workers"));
  }
  auto other_group = subscriber(1);
  ASSERT_TRUE(router.subscribe(other_group, "jobs.>", "auditors"));
  for (int i = 0; i < 300; ++i) router.publish(local_message("jobs.x"));
  pool.run();
  std::size_t total = 0;
  for (const auto& m : members) {
    EXPECT_GT(m->received.size(), 30u);  // random pick: each gets a share
    total += m->received.size();
  }
  EXPECT_EQ(total, 300u);
  EXPECT_EQ(other_group->received.size(), 300u);
}

TEST_F(RouterTest, QueueMemberThatAlsoHoldsAPlainSubscriptionGetsBothCopies) {
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "a", ""));
  ASSERT_TRUE(router.subscribe(s, "a", "q"));
  for (int i = 0; i < 10; ++i) router.publish(local_message("a"));
  pool.run();
  EXPECT_EQ(s->received.size(), 20u);  // as a NATS client with both subscriptions
}

TEST_F(RouterTest, PublisherIsNotPickedFromItsOwnQueueGroup) {
  auto publisher = subscriber(0);
  auto other = subscriber(0);
  ASSERT_TRUE(router.subscribe(publisher, "a", "q"));
  ASSERT_TRUE(router.subscribe(other, "a", "q"));
  for (int i = 0; i < 20; ++i) router.publish(local_message("a", publisher->id()));
  pool.run();
  EXPECT_TRUE(publisher->received.empty());
  EXPECT_EQ(other->received.size(), 20u);
}

TEST_F(RouterTest, AQueueGroupMemberThatMayNotReceiveIsNeverPicked) {
  auto denied = subscriber(0);
  denied->refused_prefix = "a.secret";
  auto allowed = subscriber(1);
  ASSERT_TRUE(router.subscribe(denied, "a.>", "q"));
  ASSERT_TRUE(router.subscribe(allowed, "a.>", "q"));
  for (int i = 0; i < 50; ++i) router.publish(local_message("a.secret.x"));
  for (int i = 0; i < 50; ++i) router.publish(local_message("a.open"));
  pool.run();
  EXPECT_EQ(std::count(allowed->received.begin(), allowed->received.end(), "a.secret.x"), 50);
  EXPECT_TRUE(std::none_of(denied->received.begin(), denied->received.end(),
                           [](const std::string& s) { return s == "a.secret.x"; }));
  EXPECT_EQ(denied->received.size() + allowed->received.size(), 100u);  // a.open: one each
}

// 150,000 plain subscribers and a queue group of 150,000 on one subject: resolving the
// subject must not compare every subscriber with every other (2·10¹⁰ steps).
TEST_F(RouterTest, ASubjectWithManySubscribersResolvesInLinearTime) {
  constexpr int kEach = 150'000;
  std::vector<std::shared_ptr<RecordingSubscriber>> subs;
  for (int i = 0; i < 2 * kEach; ++i) {
    subs.push_back(subscriber(0));
    ASSERT_TRUE(router.subscribe(subs.back(), "crowd", i < kEach ? "" : "q"));
  }
  const auto start = std::chrono::steady_clock::now();
  router.publish(local_message("crowd"));
  pool.run();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  std::size_t plain = 0, grouped = 0;
  for (int i = 0; i < 2 * kEach; ++i) {
    (i < kEach ? plain : grouped) += subs[static_cast<std::size_t>(i)]->received.size();
  }
  EXPECT_EQ(plain, static_cast<std::size_t>(kEach));
  EXPECT_EQ(grouped, 1u);
}

TEST_F(RouterTest, LocalMessagesGoToEveryExportingAdapter) {
  FakeAdapter all("all"), only_metrics("metrics", "metrics.>");
  all.set_origin_id(router.next_origin_id());
  only_metrics.set_origin_id(router.next_origin_id());
  router.add_adapter(all);
  router.add_adapter(only_metrics);
  router.publish(local_message("metrics.cpu"));
  router.publish(local_message("orders.new"));
  EXPECT_EQ(all.sent.size(), 2u);
  ASSERT_EQ(only_metrics.sent.size(), 1u);
  EXPECT_EQ(only_metrics.sent[0]->subject(), "metrics.cpu");
}

// What an adapter injects in a burst waits for the burst's end, then goes to its worker in
// one hand-off; outside a burst each injection is handed over as before.
TEST_F(RouterTest, ABurstOfInjectionsIsHandedOverWhenItEnds) {
  FakeAdapter a("a");
  attach(a);
  auto s = subscriber(1);
  ASSERT_TRUE(router.subscribe(s, "x", ""));
  pool.set_current(-1);  // an adapter's own thread
  ASSERT_TRUE(router.begin_burst());
  EXPECT_FALSE(router.begin_burst());  // one is open on this thread already
  inject_x(a, 3);
  pool.run();
  EXPECT_TRUE(s->received.empty());  // nothing was posted
  router.end_burst();
  pool.run();
  EXPECT_EQ(s->received.size(), 3u);
  inject_x(a, 2);  // no burst: posted at once
  pool.run();
  EXPECT_EQ(s->received.size(), 5u);
}

TEST_F(RouterTest, SplitHorizonNeverSendsBackToTheOriginAdapter) {
  FakeAdapter a("a"), b("b");
  a.set_origin_id(router.next_origin_id());
  b.set_origin_id(router.next_origin_id());
  router.add_adapter(a);
  router.add_adapter(b);
  auto s = subscriber(1);
  ASSERT_TRUE(router.subscribe(s, "x", ""));
  ASSERT_TRUE(router.inject(remote_message("x", a.origin_id(), 0xBEEF, 1)));
  pool.run();
  EXPECT_TRUE(a.sent.empty());
  EXPECT_EQ(b.sent.size(), 1u);
  EXPECT_EQ(s->received.size(), 1u);
}

// The other half of flow control: an adapter learns that a recipient of what it injects is
// congested, and for as long as it stays so.
TEST_F(RouterTest, AdaptersLearnWhenWhatTheyInjectPilesUp) {
  FakeAdapter a("a");
  attach(a);
  auto slow = subscriber(1);
  ASSERT_TRUE(router.subscribe(slow, "x", ""));
  // The fixture's inject backlog holds 8 messages: past half of it is congestion.
  inject_x(a, 4);
  EXPECT_FALSE(router.injection_congested());
  inject_x(a, 1);
  EXPECT_TRUE(router.injection_congested());
  pool.run();
  EXPECT_FALSE(router.injection_congested());
  // A congested recipient of injected messages: sampled, one in 16 is enough.
  slow->congestion_state = Congestion::moving;
  for (int batch = 0; batch < 4; ++batch) {
    inject_x(a, 8);
    pool.run();
  }
  EXPECT_TRUE(router.injection_congested());
  EXPECT_EQ(slow->received.size(), 37u);  // slowed, never dropped
  slow->congestion_state = Congestion::none;
  EXPECT_FALSE(router.injection_congested());
}

// What waits for the workers must leave room below the clients' max_pending: adapters pause
// past a quarter of it, when that is less than the configured pause, and follow a reload.
TEST_F(RouterTest, AdaptersPauseEarlierForASmallMaxPending) {
  FakeAdapter a("a");
  a.set_origin_id(router.next_origin_id());
  router.add_adapter(a);
  auto s = subscriber(1);
  ASSERT_TRUE(router.subscribe(s, "x", ""));
  router.follow_max_pending(4 * 2 * 72);  // a quarter: two test messages
  inject_x(a, 2);
  EXPECT_FALSE(router.injection_congested());
  inject_x(a, 1);
  EXPECT_TRUE(router.injection_congested());
  router.follow_max_pending(std::size_t{8} << 20);  // back to half the backlog's bound
  EXPECT_FALSE(router.injection_congested());
  pool.run();
  EXPECT_EQ(s->received.size(), 3u);
}

// An adapter whose own buffer is filling waits only for a recipient that is moving: a
// stalled one (it may have stopped reading) does not hold it, and does not hide a moving one
// among the same message's recipients, which is still waited for.
TEST_F(RouterTest, AFillingAdapterWaitsOnlyForMovingRecipients) {
  FakeAdapter a("a");
  a.set_origin_id(router.next_origin_id());
  router.add_adapter(a);
  auto stalled = subscriber(0);
  auto reader = subscriber(1);
  ASSERT_TRUE(router.subscribe(stalled, "x", ""));
  ASSERT_TRUE(router.subscribe(reader, "x", ""));
  stalled->congestion_state = Congestion::stalled;
  inject_and_route_x(a);
  EXPECT_TRUE(router.injection_congested(WaitFor::congested));
  EXPECT_FALSE(router.injection_congested(WaitFor::moving));
  EXPECT_TRUE(router.injection_congested(WaitFor::congested)) << "still waited for by others";
  reader->congestion_state = Congestion::moving;
  inject_and_route_x(a);
  EXPECT_TRUE(router.injection_congested(WaitFor::moving));
  reader->congestion_state = Congestion::none;
  EXPECT_FALSE(router.injection_congested(WaitFor::moving));
  EXPECT_TRUE(router.injection_congested(WaitFor::congested)) << "the stalled one is not forgotten";
  stalled->congestion_state = Congestion::none;
  EXPECT_FALSE(router.injection_congested(WaitFor::congested));
  EXPECT_EQ(reader->received.size(), 32u);  // slowed, never dropped
}

// A silent recipient (one that took nothing since it fell behind: it may never read again)
// is not worth idling a recipient that keeps up for: an adapter goes on, and the silent one
// is counted once. Alone, or beside others that are behind too, it is waited for like a
// stalled one, since nobody is kept waiting by that.
TEST_F(RouterTest, AnAdapterDoesNotIdleAReaderForASilentRecipient) {
  FakeAdapter a("a");
  attach(a);
  auto silent = subscriber(0);
  auto reader = subscriber(1);
  ASSERT_TRUE(router.subscribe(silent, "x", ""));
  ASSERT_TRUE(router.subscribe(reader, "x", ""));
  silent->congestion_state = Congestion::silent;
  reader->congestion_state = Congestion::moving;
  inject_and_route_x(a);
  EXPECT_TRUE(router.injection_congested(WaitFor::congested)) << "the reader moves";
  reader->congestion_state = Congestion::stalled;
  EXPECT_TRUE(router.injection_congested(WaitFor::congested)) << "nobody keeps up";
  reader->congestion_state = Congestion::none;
  reader->given_up = true;
  EXPECT_TRUE(router.injection_congested(WaitFor::congested)) << "given up is not keeping up";
  reader->given_up = false;
  EXPECT_FALSE(router.injection_congested(WaitFor::congested)) << "the reader keeps up";
  EXPECT_FALSE(router.injection_congested(WaitFor::congested));
  EXPECT_EQ(router.stats().silent_passed_over.load(), 1u) << "counted once";
  reader->congestion_state = Congestion::stalled;
  EXPECT_TRUE(router.injection_congested(WaitFor::congested)) << "the reader fell behind again";
  EXPECT_FALSE(router.injection_congested(WaitFor::moving));
  silent->congestion_state = Congestion::none;
  reader->congestion_state = Congestion::none;
  EXPECT_FALSE(router.injection_congested(WaitFor::congested));
  EXPECT_EQ(reader->received.size(), 16u);  // slowed, never dropped
  EXPECT_EQ(silent->received.size(), 16u);
}

TEST_F(RouterTest, ASilentRecipientAloneIsWaitedFor) {
  FakeAdapter a("a");
  attach(a);
  auto silent = subscriber(0);
  ASSERT_TRUE(router.subscribe(silent, "x", ""));
  silent->congestion_state = Congestion::silent;
  inject_and_route_x(a);
  EXPECT_TRUE(router.injection_congested(WaitFor::congested));
  EXPECT_FALSE(router.injection_congested(WaitFor::moving));
  EXPECT_EQ(router.stats().silent_passed_over.load(), 0u);
}

TEST_F(RouterTest, DuplicatesFromTwoAdaptersAreDeliveredOnce) {
  FakeAdapter a("a"), b("b");
  a.set_origin_id(router.next_origin_id());
  b.set_origin_id(router.next_origin_id());
  router.add_adapter(a);
  router.add_adapter(b);
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "x", ""));
  EXPECT_TRUE(router.inject(remote_message("x", a.origin_id(), 0xBEEF, 7)));
  EXPECT_FALSE(router.inject(remote_message("x", b.origin_id(), 0xBEEF, 7)));
  EXPECT_TRUE(router.inject(remote_message("x", b.origin_id(), 0xBEEF, 8)));
  EXPECT_TRUE(router.inject(remote_message("x", b.origin_id(), 0xF00D, 7)));
  pool.run();
  EXPECT_EQ(s->received.size(), 3u);
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::duplicate), 1u);
}

TEST_F(RouterTest, OwnOriginAndExhaustedHopsAreDroppedAndCounted) {
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "x", ""));
  EXPECT_FALSE(router.inject(remote_message("x", 1, kNode, 1)));
  EXPECT_FALSE(router.inject(remote_message("x", 1, 0xBEEF, 1, 5)));
  EXPECT_TRUE(router.inject(remote_message("x", 1, 0xBEEF, 2, 4)));
  pool.run();
  EXPECT_EQ(s->received.size(), 1u);
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::own_origin), 1u);
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::hop_limit), 1u);
}

// What the NATS adapter imports from a plain NATS client gets an identity under this
// gateway's import node: new on its first hop (no duplicate check needed), a loop when it
// comes back with more hops.
TEST_F(RouterTest, IdentitiesMintedHereAreNewOnceAndALoopAfter) {
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "x", ""));
  const std::uint64_t minted = import_node_id(kNode);
  EXPECT_NE(minted, kNode);
  EXPECT_TRUE(router.inject(remote_message("x", 1, minted, 1, 1)));
  EXPECT_TRUE(router.inject(remote_message("x", 1, minted, 2, 1)));
  EXPECT_FALSE(router.inject(remote_message("x", 2, minted, 1, 3)));  // back from the overlay
  pool.run();
  EXPECT_EQ(s->received.size(), 2u);
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::own_origin), 1u);
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::duplicate), 0u);
}

TEST_F(RouterTest, SequencesAreFreshOnEveryThread) {
  std::set<std::uint64_t> seen;
  for (int w : {0, 1, -1}) {  // two workers, then a thread that is none
    pool.set_current(w);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(seen.insert(router.next_sequence()).second) << w;
  }
  EXPECT_EQ(seen.count(0), 0u);
}

TEST_F(RouterTest, InjectBacklogIsBoundedAndCounted) {
  for (std::uint64_t i = 0; i < 10; ++i) {
    const bool accepted = router.inject(remote_message("x", 1, 0xBEEF, 100 + i));
    EXPECT_EQ(accepted, i < 8) << i;  // room for 8, nothing drained yet
  }
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::backlog_full), 2u);
  pool.run();
  EXPECT_TRUE(router.inject(remote_message("x", 1, 0xBEEF, 200)));
  // A message dropped for lack of room was not remembered: its retransmission gets in.
  EXPECT_TRUE(router.inject(remote_message("x", 1, 0xBEEF, 108)));
}

TEST_F(RouterTest, InterestIsReportedOncePerDistinctPattern) {
  FakeAdapter a("a");
  router.add_adapter(a);
  auto s1 = subscriber(0);
  auto s2 = subscriber(1);
  ASSERT_TRUE(router.subscribe(s1, "a.>", ""));
  ASSERT_TRUE(router.subscribe(s2, "a.>", "q"));
  ASSERT_TRUE(router.subscribe(s2, "b", ""));
  ASSERT_TRUE(router.unsubscribe(*s1, "a.>", ""));
  ASSERT_TRUE(router.unsubscribe(*s2, "a.>", "q"));
  EXPECT_EQ(a.interest, (std::vector<std::string>{"+a.>", "+b", "-a.>"}));
}

TEST_F(RouterTest, ARelayedCopyOfABusAnotherAdapterHearsIsDropped) {
  FakeAdapter nats("nats");
  FakeAdapter overlay("overlay");
  nats.set_origin_id(router.next_origin_id());
  overlay.set_origin_id(router.next_origin_id());
  nats.direct_bus = 7;
  router.add_adapter(nats);
  router.add_adapter(overlay);
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "x", ""));
  auto on_bus = [](std::uint32_t bus, OriginId origin, std::uint64_t seq) {
    return make_message({"x", "", "", "payload"}, origin, Trace{0xBEEF, seq, 1, bus});
  };
  EXPECT_TRUE(router.inject(on_bus(7, nats.origin_id(), 1)));      // heard directly
  EXPECT_FALSE(router.inject(on_bus(7, overlay.origin_id(), 2)));  // relayed: nats hears it
  EXPECT_TRUE(router.inject(on_bus(8, overlay.origin_id(), 3)));   // another bus
  pool.run();
  EXPECT_EQ(s->received.size(), 2u);
  EXPECT_EQ(router.stats().dropped_for(RouterDrop::direct_path), 1u);
}

TEST_F(RouterTest, AdapterInterestReachesTheOtherAdaptersOnly) {
  FakeAdapter a("a");
  FakeAdapter b("b");
  a.set_origin_id(router.next_origin_id());
  b.set_origin_id(router.next_origin_id());
  router.add_adapter(a);
  router.add_adapter(b);
  router.declare_interest(a.origin_id(), "x.>", true);  // b learns; a does not hear itself
  auto s = subscriber(0);
  ASSERT_TRUE(router.subscribe(s, "x.>", ""));          // now a hears of the client too
  router.declare_interest(b.origin_id(), "x.>", true);  // others already wanted it: nothing new
  router.declare_interest(a.origin_id(), "x.>", false);
  router.declare_interest(a.origin_id(), "x.>", false);  // unpaired: ignored
  ASSERT_TRUE(router.unsubscribe(*s, "x.>", ""));        // only b's own interest is left
  router.declare_interest(b.origin_id(), "x.>", false);
  EXPECT_EQ(a.interest, (std::vector<std::string>{"+x.>", "-x.>"}));
  EXPECT_EQ(b.interest, (std::vector<std::string>{"+x.>", "-x.>"}));
}

TEST_F(RouterTest, PublisherLearnsWhenARecipientIsCongested) {
  auto fine = subscriber(0);
  auto busy = subscriber(1);
  ASSERT_TRUE(router.subscribe(fine, "x", ""));
  ASSERT_TRUE(router.subscribe(busy, "x", ""));
  auto count_congested = [&] {
    int n = 0;
    for (int i = 0; i < 32; ++i) {
      const Backpressure pressure = router.publish(local_message("x"));
      if (pressure) {
        EXPECT_EQ(pressure.recipient.get(), busy.get());
        ++n;
      }
    }
    return n;
  };
  EXPECT_EQ(count_congested(), 0);
  busy->congestion_state = Congestion::moving;
  EXPECT_GE(count_congested(), 2);  // sampled: at least once every 16 messages
  pool.run();
  EXPECT_EQ(busy->received.size(), 64u);  // congestion slows publishers, never drops
}

// A queue group's member is a recipient like a plain subscriber: the one chosen for a
// message slows its publisher, or the adapter that injected it, when it falls behind. (Until
// this was so, a group's member fed by an adapter or a fast publisher was cut as a slow
// consumer.)
TEST_F(RouterTest, ACongestedQueueGroupMemberIsWaitedForLikeAnyRecipient) {
  FakeAdapter a("a");
  a.set_origin_id(router.next_origin_id());
  router.add_adapter(a);
  auto member = subscriber(1);
  ASSERT_TRUE(router.subscribe(member, "x", "workers"));
  member->congestion_state = Congestion::moving;
  int waited = 0;
  for (int i = 0; i < 32; ++i) {
    const Backpressure pressure = router.publish(local_message("x"));
    if (pressure) {
      EXPECT_EQ(pressure.recipient.get(), member.get());
      ++waited;
    }
  }
  EXPECT_GE(waited, 2);  // sampled: at least once every 16 messages
  for (int batch = 0; batch < 4; ++batch) {
    inject_x(a, 8);
    pool.run();
  }
  EXPECT_TRUE(router.injection_congested());
  EXPECT_EQ(member->received.size(), 64u);  // slowed, never dropped
  member->congestion_state = Congestion::none;
  EXPECT_FALSE(router.injection_congested());
}

TEST_F(RouterTest, PublisherLearnsWhenAnAdapterIsCongested) {
  FakeAdapter fast("fast"), slow("slow", "slow.>");
  fast.set_origin_id(router.next_origin_id());
  slow.set_origin_id(router.next_origin_id());
  router.add_adapter(fast);
  router.add_adapter(slow);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(router.publish(local_message("slow.x")));
  slow.congested = true;
  // Only publications that go to the congested adapter are held up by it.
  for (int i = 0; i < 32; ++i) EXPECT_FALSE(router.publish(local_message("other")));
  // Every one of those, never a sample: the queue's headroom above its pause mark is one
  // message per publisher (a small queue once overflowed by the messages between samples).
  for (int i = 0; i < 27; ++i) {
    const Backpressure pressure = router.publish(local_message("slow.x"));
    EXPECT_EQ(pressure.adapter, &slow) << "publication " << i << " after the queue congested";
  }
  EXPECT_EQ(slow.sent.size(), 32u);  // a congested adapter is still sent everything
  EXPECT_EQ(fast.sent.size(), 64u);
}

// An adapter may be slow for some subjects only (PolderCast: a slow peer): it is asked about
// each message, and a publisher held up names the message, so that its wait asks the same.
TEST_F(RouterTest, AnAdapterCongestedForOneSubjectHoldsUpOnlyItsPublishers) {
  FakeAdapter link("link");
  link.set_origin_id(router.next_origin_id());
  router.add_adapter(link);
  link.congested_subject = "slow.x";
  for (int i = 0; i < 32; ++i) EXPECT_FALSE(router.publish(local_message("fast.x")));
  const Backpressure pressure = router.publish(local_message("slow.x"));
  EXPECT_EQ(pressure.adapter, &link);
  ASSERT_TRUE(pressure.held);
  EXPECT_EQ(pressure.held->subject(), "slow.x");
  EXPECT_EQ(link.sent.size(), 33u);
}

TEST_F(RouterTest, DeliveriesPilingUpForAnotherWorkerAreBackpressure) {
  auto there = subscriber(1);
  ASSERT_TRUE(router.subscribe(there, "x", ""));
  pool.set_current(0);
  const std::string big(100'000, 'b');
  auto publish_big = [&] {
    return router.publish(make_message({"x", "", "", big}, 999, Trace{kNode, 1, 0}));
  };
  bool saw_backlog = false;
  for (int i = 0; i < 32 && !saw_backlog; ++i) saw_backlog = publish_big().backlog;
  EXPECT_TRUE(saw_backlog);  // > 256 KiB queued for worker 1, not yet delivered
  EXPECT_TRUE(router.backlogged(0));
  pool.run();  // worker 1 catches up
  EXPECT_FALSE(router.backlogged(0));
}

TEST_F(RouterTest, SequencesAreUniqueAcrossWorkers) {
  std::map<std::uint64_t, int> seen;
  for (int w = 0; w < 2; ++w) {
    pool.set_current(w);
    for (int i = 0; i < 100; ++i) ++seen[router.next_sequence()];
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace
}  // namespace psycho
