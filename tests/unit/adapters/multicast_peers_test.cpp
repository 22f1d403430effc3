#include "adapters/multicast/peers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace psycho::multicast {
namespace {

using namespace std::chrono_literals;
using Refusal = PeerTable::Refusal;

const Clock::time_point t0 = Clock::time_point{} + 1h;

sockaddr_storage at(const std::string& host, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  sockaddr_storage s{};
  std::memcpy(&s, &a, sizeof a);
  return s;
}

const sockaddr_storage gateway_a = at("10.0.0.1", 4245);
const sockaddr_storage gateway_b = at("10.0.0.2", 4245);
const sockaddr_storage forger = at("10.0.0.66", 40000);

// max_peers 3, timeout 5 s, silent after 2 s.
PeerTable table() { return PeerTable(3, 5000ms, 2000ms, RepairSettings{}); }

TEST(MulticastPeers, ANodeIdIsBoundToTheSourceOfItsFirstDatagram) {
  PeerTable t = table();
  const auto first = t.admit(7, gateway_a, t0);
  ASSERT_NE(first.peer, nullptr);
  EXPECT_EQ(first.peer->address, "10.0.0.1:4245");
  const auto forged = t.admit(7, forger, t0);
  EXPECT_EQ(forged.peer, nullptr);
  EXPECT_EQ(forged.refused, Refusal::spoofed);
  // The same host from another port is another source too.
  EXPECT_EQ(t.admit(7, at("10.0.0.1", 4246), t0).refused, Refusal::spoofed);
  EXPECT_EQ(t.admit(7, gateway_a, t0).peer, first.peer);
  EXPECT_EQ(t.peers().size(), 1u);
}

TEST(MulticastPeers, TheBindingEndsWithThePeer) {
  PeerTable t = table();
  ASSERT_NE(t.admit(7, gateway_a, t0).peer, nullptr);
  EXPECT_TRUE(t.expire(t0 + 5s).empty());
  EXPECT_EQ(t.expire(t0 + 5001ms), (std::vector<std::uint64_t>{7}));
  EXPECT_NE(t.admit(7, gateway_b, t0 + 6s).peer, nullptr);
  EXPECT_EQ(t.totals().expired, 1u);
}

TEST(MulticastPeers, OnlyPlausibleDatagramsKeepAPeerAlive) {
  PeerTable t = table();
  Peer* p = t.admit(7, gateway_a, t0).peer;
  ASSERT_NE(p, nullptr);
  ASSERT_NE(t.admit(7, gateway_a, t0 + 4s).peer, nullptr);  // admitted, not heard()
  EXPECT_EQ(t.expire(t0 + 5001ms).size(), 1u);
  p = t.admit(7, gateway_a, t0 + 6s).peer;
  PeerTable::heard(*p, t0 + 10s);
  EXPECT_TRUE(t.expire(t0 + 15s).empty());
}

TEST(MulticastPeers, IdsForgedFromOneHostCannotShutOutAnother) {
  PeerTable t = table();
  for (std::uint64_t id = 100; id < 103; ++id) {
    ASSERT_NE(t.admit(id, at("10.0.0.66", static_cast<std::uint16_t>(id)), t0 + 1ms * id).peer,
              nullptr);
  }
  // More from the forger's host make no room for themselves.
  EXPECT_EQ(t.admit(200, forger, t0 + 1s).refused, Refusal::full);
  // A gateway on another host displaces the forger's stalest entry.
  const auto a = t.admit(1, gateway_a, t0 + 1s);
  ASSERT_NE(a.peer, nullptr);
  EXPECT_EQ(a.displaced, std::optional<std::uint64_t>(100));
  // A gateway on a third host too: the forger's host would still hold more than it.
  const auto b = t.admit(2, gateway_b, t0 + 1s);
  ASSERT_NE(b.peer, nullptr);
  EXPECT_EQ(b.displaced, std::optional<std::uint64_t>(101));
  // Now one entry per host: a newcomer waits, whoever sends it.
  EXPECT_EQ(t.admit(3, gateway_b, t0 + 1s).refused, Refusal::full);
  EXPECT_EQ(t.admit(201, forger, t0 + 1s).refused, Refusal::full);
  EXPECT_EQ(t.totals().displaced, 2u);
  EXPECT_EQ(t.peers().size(), 3u);
  // Gateway 1 restarts (a new id): the stalest silent entry makes room for it.
  const auto restarted = t.admit(4, gateway_a, t0 + 3001ms);
  ASSERT_NE(restarted.peer, nullptr);
  EXPECT_EQ(restarted.displaced, std::optional<std::uint64_t>(102));
}

TEST(MulticastPeers, ASilentPeerMakesRoomFirst) {
  PeerTable t = table();
  ASSERT_NE(t.admit(1, gateway_a, t0).peer, nullptr);
  ASSERT_NE(t.admit(2, gateway_b, t0 + 1s).peer, nullptr);
  ASSERT_NE(t.admit(3, at("10.0.0.3", 4245), t0 + 1s).peer, nullptr);
  // One entry per host: nobody's host is busier, and nobody is silent yet.
  EXPECT_EQ(t.admit(4, gateway_a, t0 + 2s).refused, Refusal::full);
  // Gateway 1 has missed its announcements: a restarted gateway 1 (a new id) takes its place.
  const auto restarted = t.admit(4, gateway_a, t0 + 2001ms);
  ASSERT_NE(restarted.peer, nullptr);
  EXPECT_EQ(restarted.displaced, std::optional<std::uint64_t>(1));
}

TEST(MulticastPeers, TheFiguresOfRemovedPeersStayInTheTotals) {
  PeerTable t = table();
  for (std::uint64_t id = 1; id <= 3; ++id) {
    Peer* p = t.admit(id, forger, t0).peer;
    ASSERT_NE(p, nullptr);
    p->duplicates = 10;
  }
  ASSERT_NE(t.admit(9, gateway_a, t0).peer, nullptr);  // displaces one
  EXPECT_EQ(t.totals().duplicates, 30u);
  t.expire(t0 + 1h);
  EXPECT_EQ(t.totals().duplicates, 30u);
  EXPECT_EQ(t.totals().expired, 3u);
  EXPECT_EQ(t.totals().displaced, 1u);
}

}  // namespace
}  // namespace psycho::multicast
