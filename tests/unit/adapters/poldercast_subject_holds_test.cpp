// SubjectHolds: which subjects wait for which backed-up links, and what waits, in order.
#include "adapters/poldercast/subject_holds.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace psycho::poldercast {
namespace {

MessagePtr msg(const std::string& subject, const std::string& payload) {
  return make_message({subject, "", "", payload}, 0, Trace{1, 1, 0});
}

// Collects what take() hands on, as "subject:payload".
struct Taken {
  std::vector<std::string> got;
  std::function<void(const Message&)> each() {
    return [this](const Message& m) {
      got.push_back(std::string(m.subject()) + ":" + std::string(m.payload()));
    };
  }
};

TEST(SubjectHolds, OnlyASubjectThatWentToALinkThatHoldsUpIsHeld) {
  SubjectHolds h;
  EXPECT_FALSE(h.holding("a"));
  EXPECT_FALSE(h.holds("a"));
  h.held_up("a", "peer1");
  EXPECT_TRUE(h.holding("a"));
  EXPECT_TRUE(h.holds("a"));
  EXPECT_FALSE(h.holding("b"));
  EXPECT_FALSE(h.holds("b"));
  EXPECT_EQ(h.subjects(), 1u);
}

TEST(SubjectHolds, WhatWaitedGoesOnInOrderOnceEveryLinkCaughtUp) {
  SubjectHolds h;
  h.held_up("a", "peer1");
  h.held_up("a", "peer2");
  h.hold("a", msg("a", "1"));
  h.hold("a", msg("a", "2"));
  h.hold("a", msg("a", "3"));
  EXPECT_EQ(h.bytes(), 3 * (1 + 1));
  std::set<std::string> slow = {"peer1", "peer2"};
  const auto holds_up = [&](const std::string& address) { return slow.contains(address); };
  EXPECT_TRUE(h.release(holds_up).empty());
  slow.erase("peer1");
  EXPECT_TRUE(h.release(holds_up).empty());  // peer2 still holds it up
  Taken t;
  EXPECT_FALSE(h.take("a", 10, 1 << 20, t.each()));
  slow.clear();
  EXPECT_EQ(h.release(holds_up), std::vector<std::string>{"a"});
  EXPECT_TRUE(h.take("a", 2, 1 << 20, t.each()));  // two at most
  EXPECT_EQ(t.got, (std::vector<std::string>{"a:1", "a:2"}));
  EXPECT_TRUE(h.holding("a"));  // one still waits: what comes next must queue behind it
  EXPECT_TRUE(h.take("a", 2, 1 << 20, t.each()));
  EXPECT_EQ(t.got, (std::vector<std::string>{"a:1", "a:2", "a:3"}));
  EXPECT_FALSE(h.holding("a"));
  EXPECT_FALSE(h.holds("a"));
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.bytes(), 0u);
}

TEST(SubjectHolds, ASubjectHeldUpAgainWhileItsBacklogGoesStopsThere) {
  SubjectHolds h;
  h.held_up("a", "peer1");
  for (int i = 0; i < 4; ++i) h.hold("a", msg("a", std::to_string(i)));
  const auto none = [](const std::string&) { return false; };
  ASSERT_EQ(h.release(none), std::vector<std::string>{"a"});
  Taken t;
  EXPECT_TRUE(h.take("a", 1, 1 << 20, t.each()));
  h.held_up("a", "peer3");  // that one went to another slow link
  EXPECT_FALSE(h.take("a", 1, 1 << 20, t.each()));
  EXPECT_EQ(t.got, std::vector<std::string>{"a:0"});
  EXPECT_TRUE(h.holds("a"));
}

// What take() hands on may be published at once (a full batch), and a link may hold the
// subject up again right there, as the last waiting message goes: the hold stays.
TEST(SubjectHolds, AHoldSetAgainWhileTakingStays) {
  SubjectHolds h;
  h.held_up("a", "peer1");
  h.hold("a", msg("a", "1"));
  h.hold("a", msg("a", "2"));
  ASSERT_EQ(h.release([](const std::string&) { return false; }), std::vector<std::string>{"a"});
  std::vector<std::string> got;
  EXPECT_TRUE(h.take("a", 10, 1 << 20, [&](const Message& m) {
    got.emplace_back(m.payload());
    h.held_up("a", "peer2");  // its batch went out, to a link that holds up
  }));
  EXPECT_EQ(got, std::vector<std::string>{"1"});  // the second waits for peer2
  EXPECT_TRUE(h.holding("a"));
  EXPECT_TRUE(h.holds("a"));
  h.take("a", 10, 1 << 20, [&](const Message& m) { got.emplace_back(m.payload()); });
  EXPECT_EQ(got, std::vector<std::string>{"1"});
  // Held again as the last one went: still held afterwards.
  SubjectHolds last;
  last.held_up("b", "peer1");
  last.hold("b", msg("b", "1"));
  ASSERT_EQ(last.release([](const std::string&) { return false; }).size(), 1u);
  last.take("b", 10, 1 << 20, [&](const Message&) { last.held_up("b", "peer2"); });
  EXPECT_TRUE(last.holding("b"));
  EXPECT_TRUE(last.holds("b"));
}

TEST(SubjectHolds, ASubjectWithNothingWaitingIsForgottenOnRelease) {
  SubjectHolds h;
  h.held_up("a", "peer1");
  EXPECT_TRUE(h.release([](const std::string&) { return false; }).empty());
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.holds("a"));
}

TEST(SubjectHolds, TakingEverythingEmptiesEveryHoldInOrder) {
  SubjectHolds h;
  h.held_up("a", "peer1");
  h.held_up("b", "peer2");
  h.hold("a", msg("a", "1"));
  h.hold("b", msg("b", "1"));
  h.hold("a", msg("a", "2"));
  Taken t;
  h.take_everything(t.each());
  EXPECT_EQ(t.got, (std::vector<std::string>{"a:1", "a:2", "b:1"}));
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.bytes(), 0u);
  EXPECT_FALSE(h.holds("a"));
}

// holds() is asked by worker threads while the event loop changes the holds.
TEST(SubjectHolds, OtherThreadsMayAskWhileTheLoopChangesIt) {
  SubjectHolds h;
  std::atomic<bool> done{false};
  std::jthread asker([&] {
    while (!done.load()) (void)h.holds("a");
  });
  const auto none = [](const std::string&) { return false; };
  for (int i = 0; i < 2000; ++i) {
    h.held_up("a", "peer1");
    h.hold("a", msg("a", "x"));
    for (const auto& s : h.release(none)) {
      while (h.take(s, 10, 1 << 20, [](const Message&) {})) {
      }
    }
  }
  done.store(true);
  EXPECT_TRUE(h.empty());
}

}  // namespace
}  // namespace psycho::poldercast
