// Per-peer shares (docs/poldercast.md#hostile-peers): what one peer may ask of a node per
// cycle, what happens beyond, and that a flooder is cut off once while others are not.
#include <gtest/gtest.h>

#include "adapters/poldercast/protocol/node.hpp"
#include "adapters/poldercast/protocol/topic.hpp"

namespace psycho::poldercast {
namespace {

class Cutting final : public Transport {
 public:
  bool send(const std::string&, std::uint64_t, const SharedBytes&) override { return true; }
  void disconnect(std::uint64_t peer) override { cut.push_back(peer); }
  std::vector<std::uint64_t> cut;
};

std::string message_from(std::uint64_t id, Type type, std::size_t entries = 0) {
  WireMessage m;
  m.type = type;
  m.sender = {id, "peer" + std::to_string(id), false, {}};
  for (std::size_t i = 0; i < entries; ++i) {
    m.entries.push_back({{9000 + i, "other" + std::to_string(i), false, {}}, 0});
  }
  if (type == Type::find_subscriber) {
    m.topic = topic_id("t");
    m.ttl = 3;
    m.entries = {{m.sender, 0}};
  }
  std::string out;
  encode(m, out);
  return out;
}

TEST(PolderCastShares, RequestsBeyondAPeersShareAreDroppedAndAFloodIsCutOnce) {
  Cutting t;
  NodeOptions o;
  Node node(o, 1, "me", t, 7);
  node.tick(0);
  for (std::size_t i = 0; i < o.requests_per_peer; ++i) {
    node.on_message(message_from(5, Type::ping), 5);
  }
  EXPECT_EQ(node.counters().throttled_requests, 0u);
  node.on_message(message_from(5, Type::ping), 5);
  EXPECT_EQ(node.counters().throttled_requests, 1u);
  EXPECT_TRUE(t.cut.empty());
  // Another peer has its own share.
  node.on_message(message_from(6, Type::cyclon_request), 6);
  EXPECT_EQ(node.counters().throttled_requests, 1u);
  // A flood: cut once, whatever else it sends this cycle.
  for (std::size_t i = 0; i < 2 * o.flood_drops; ++i) {
    node.on_message(message_from(5, Type::vicinity_request), 5);
  }
  EXPECT_EQ(t.cut, (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(node.counters().peers_cut, 1u);
  // Shares are per cycle.
  node.tick(1000);
  const auto before = node.counters().throttled_requests;
  node.on_message(message_from(6, Type::ping), 6);
  EXPECT_EQ(node.counters().throttled_requests, before);
}

TEST(PolderCastShares, WalksHaveTheirOwnShare) {
  Cutting t;
  NodeOptions o;
  Node node(o, 1, "me", t, 7);
  node.tick(0);
  for (std::size_t i = 0; i < o.walks_per_peer + 3; ++i) {
    node.on_message(message_from(5, Type::find_subscriber), 5);
  }
  EXPECT_EQ(node.counters().throttled_walks, 3u);
  EXPECT_EQ(node.counters().throttled_requests, 0u);
}

TEST(PolderCastShares, DescriptorsBeyondAnExchangesSizeAreIgnored) {
  Cutting t;
  NodeOptions o;
  Node node(o, 1, "me", t, 7);
  node.tick(0);
  node.on_message(message_from(5, Type::cyclon_request, 64), 5);
  EXPECT_EQ(node.counters().descriptors_ignored, 64 - o.cyclon_gossip);
  EXPECT_LE(node.cyclon().size(), o.cyclon_gossip + 1);
}

}  // namespace
}  // namespace psycho::poldercast
