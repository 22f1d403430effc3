// What the group wants (from its interest datagrams) and what a gateway announces it wants.
#include "adapters/multicast/group_interest.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "adapters/pattern_set.hpp"

namespace psycho::multicast {
namespace {

TEST(PatternSet, MatchesAsSubscriptionsDo) {
  PatternSet set;
  EXPECT_FALSE(set.matches("a"));
  set.add("orders.*.new");
  set.add("_INBOX.>");
  set.add("a");
  EXPECT_TRUE(set.matches("orders.eu.new"));
  EXPECT_FALSE(set.matches("orders.eu.old"));
  EXPECT_FALSE(set.matches("orders.new"));
  EXPECT_FALSE(set.matches("orders.eu.new.x"));
  EXPECT_TRUE(set.matches("_INBOX.x"));
  EXPECT_TRUE(set.matches("_INBOX.x.y.z"));
  EXPECT_FALSE(set.matches("_INBOX"));
  EXPECT_TRUE(set.matches("a"));
  EXPECT_FALSE(set.matches("a.b"));
  EXPECT_FALSE(set.matches("b"));
  set.add("*.b");
  EXPECT_TRUE(set.matches("a.b"));  // through `*`, though `a` is also a literal branch
  EXPECT_EQ(set.size(), 4u);
  PatternSet all;
  all.add(">");
  EXPECT_TRUE(all.matches("anything.at.all"));
}

Interest interest(std::uint64_t generation, const std::vector<std::string>& patterns,
                  std::string& storage, bool everything = false) {
  storage.clear();
  encode_interest(storage, 1, generation, everything, patterns);
  Datagram d;
  EXPECT_EQ(decode(storage, 1 << 20, d), DecodeError::none);
  return d.interest;
}

TEST(GroupInterest, NobodyWantsAnythingUntilAPeerIsHeard) {
  GroupInterest group(true);
  EXPECT_FALSE(group.wanted()->wants("a"));
  group.joined(7);  // heard, but has not said what it wants: everything
  EXPECT_TRUE(group.wanted()->wants("a"));
  std::string bytes;
  ASSERT_TRUE(group.update(7, interest(1, {"orders.>"}, bytes)));
  EXPECT_FALSE(group.wanted()->wants("a"));
  EXPECT_TRUE(group.wanted()->wants("orders.new"));
  group.left(7);
  EXPECT_FALSE(group.wanted()->wants("orders.new"));
}

TEST(GroupInterest, ANewerGenerationReplacesAnOlderOneChangesNothing) {
  GroupInterest group(true);
  std::string bytes;
  group.joined(7);
  ASSERT_TRUE(group.update(7, interest(5, {"a"}, bytes)));
  EXPECT_FALSE(group.update(7, interest(4, {"b"}, bytes)));  // late, out of order
  EXPECT_FALSE(group.update(7, interest(5, {"b"}, bytes)));
  EXPECT_TRUE(group.wanted()->wants("a"));
  EXPECT_FALSE(group.wanted()->wants("b"));
  ASSERT_TRUE(group.update(7, interest(6, {"b"}, bytes)));
  EXPECT_FALSE(group.wanted()->wants("a"));
  EXPECT_TRUE(group.wanted()->wants("b"));
  group.joined(8);
  ASSERT_TRUE(group.update(8, interest(1, {}, bytes, true)));
  EXPECT_TRUE(group.wanted()->wants("c"));
  const auto peers = group.peers();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers.at(7).patterns, std::vector<std::string>{"b"});
  EXPECT_TRUE(peers.at(8).everything);
}

TEST(GroupInterest, SwitchedOffEverythingIsWanted) {
  GroupInterest group(false);
  EXPECT_TRUE(group.wanted()->wants("a"));
}

TEST(FitInterest, KeepsWhatFitsAndDropsCoveredPatterns) {
  const OwnInterest fitted = fit_interest({"b.c", "a.>", "a.b", "b.c", "a.*.c"}, 1400);
  EXPECT_FALSE(fitted.everything);
  EXPECT_EQ(fitted.patterns, (std::vector<std::string>{"a.>", "b.c"}));
  EXPECT_TRUE(fit_interest({"x", ">"}, 1400).everything);
  EXPECT_EQ(fit_interest({}, 1400), OwnInterest{});
}

TEST(FitInterest, CoarsensToFitThenGivesUp) {
  std::vector<std::string> inboxes;
  for (int i = 0; i < 200; ++i) inboxes.push_back("_INBOX.client" + std::to_string(i) + ".*");
  inboxes.push_back("orders.eu.new.today");
  const OwnInterest fitted = fit_interest(inboxes, 100);
  EXPECT_FALSE(fitted.everything);
  // Every pattern is cut alike: the inboxes need one token, so the rest get one too.
  EXPECT_EQ(fitted.patterns, (std::vector<std::string>{"_INBOX.>", "orders.>"}));
  EXPECT_TRUE(fit_interest(inboxes, 5).everything);  // not even `_INBOX.>` fits
}

}  // namespace
}  // namespace psycho::multicast
