// Per-peer shares (docs/poldercast.md#hostile-peers): what one peer may ask of a node per
// cycle, what happens beyond, and that a flooder is cut off once while others are not.
#include <gtest/gtest.h>

#include <algorithm>

#include "poldercast/node.hpp"
#include "poldercast/topic.hpp"

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

// What a peer that gossips made-up nodes sends: `count` of them from id `first` on.
std::string hearsay(std::uint64_t first, std::size_t count, Type type,
                    const std::string& address = "") {
  WireMessage m;
  m.type = type;
  m.sender = {5, "peer5", false, {}};
  for (std::size_t i = 0; i < count; ++i) {
    const std::string at = address.empty() ? "made-up" + std::to_string(first + i) : address;
    m.entries.push_back({{first + i, at, false, {}}, 0});
  }
  std::string out;
  encode(m, out);
  return out;
}

// Ten new made-up nodes in each of a peer's requests: it gets at most half of each view on
// its word, however often it asks.
TEST(PolderCastShares, HearsayFromOnePeerFillsAtMostHalfAView) {
  Cutting t;
  NodeOptions o;
  Node node(o, 1, "me", t, 7);
  node.tick(0);
  for (std::uint64_t round = 0; round < 8; ++round) {
    node.on_message(hearsay(10'000 + round * 100, o.cyclon_gossip, Type::cyclon_request), 5);
    node.on_message(hearsay(20'000 + round * 100, o.vicinity_gossip, Type::vicinity_request), 5);
  }
  auto on_its_word = [](const PartialView& view) {
    return std::count_if(view.entries().begin(), view.entries().end(),
                         [](const Entry& e) { return e.id() >= 10'000; });
  };
  EXPECT_EQ(on_its_word(node.cyclon()), static_cast<long>(o.cyclon_view / 2));
  EXPECT_EQ(on_its_word(node.vicinity()), static_cast<long>(o.vicinity_view / 2));
  EXPECT_GT(node.counters().hearsay_refused, 0u);
}

// Node 6 spoke for itself; a peer then tells of it at another address, and younger: both
// Cyclon's merge and the dedupe before Vicinity's selection keep what 6 said.
TEST(PolderCastShares, HearsayNeverOverridesWhatANodeSaidOfItself) {
  auto profile = [](const std::string& address) {
    return std::make_shared<const Profile>(Profile{6, address, false, {}});
  };
  const Entry own{profile("peer6"), 2, 0}, told{profile("made-up"), 0, 5};
  PartialView view(4);
  view.merge_cyclon({own}, {}, 1, 2);
  view.merge_cyclon({told}, {}, 1, 2);
  EXPECT_EQ(view.find(6)->profile->address, "peer6");
  std::vector<Entry> candidates{told, own};
  dedupe_best(candidates, 1);
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0].profile->address, "peer6");
  // Between two first-hand copies the younger wins, as before.
  view.merge_cyclon({Entry{profile("peer6-moved"), 0, 0}}, {}, 1, 2);
  EXPECT_EQ(view.find(6)->profile->address, "peer6-moved");
}

// Records what a node sends: to which address, and the message type.
class Recording final : public Transport {
 public:
  bool send(const std::string& address, std::uint64_t, const SharedBytes& bytes) override {
    sent.emplace_back(address, static_cast<Type>(static_cast<std::uint8_t>((*bytes)[3])));
    return true;
  }
  bool pinged(const std::string& address) const {
    return std::find(sent.begin(), sent.end(), std::make_pair(address, Type::ping)) != sent.end();
  }
  std::vector<std::pair<std::string, Type>> sent;
};

// A message of `type` from node `id` itself, subscribed to "s".
std::string own_word(std::uint64_t id, Type type) {
  WireMessage m;
  m.type = type;
  m.sender = {id, "peer" + std::to_string(id), false, {{topic_id("s"), 0}}};
  std::string out;
  encode(m, out);
  return out;
}

// Peer 5 tells of node `id` (subscribed to "s") at `address`.
std::string told_of(std::uint64_t id, const std::string& address) {
  WireMessage m;
  m.type = Type::cyclon_request;
  m.sender = {5, "peer5", false, {}};
  m.entries.push_back({{id, address, false, {{topic_id("s"), 0}}}, 0});
  std::string out;
  encode(m, out);
  return out;
}

// Ring slots carry publications: a node only heard of, nearer than neighbours that spoke to
// us, is pinged first and takes a slot only once it answers itself; a made-up one never does.
TEST(PolderCastShares, HearsayTakesNoRingSlotFromANeighbourUntilItAnswers) {
  Recording t;
  NodeOptions o;  // two slots a side
  Node node(o, 1000, "me", t, 7);
  node.subscribe("s");
  node.tick(0);
  node.on_message(own_word(1100, Type::ping), 1100);
  node.on_message(own_word(1200, Type::ping), 1200);
  const auto* ring = node.rings().ring(topic_id("s"));
  ASSERT_EQ(ring->succ, (std::vector<std::uint64_t>{1100, 1200}));

  // A made-up successor nearer than both: pinged, not placed.
  node.on_message(told_of(1001, "made-up"), 5);
  EXPECT_EQ(ring->succ, (std::vector<std::uint64_t>{1100, 1200}));
  EXPECT_TRUE(t.pinged("made-up"));
  EXPECT_EQ(node.counters().ring_checks, 1u);
  // Told again while the check is out: not pinged twice.
  node.on_message(told_of(1001, "made-up"), 5);
  EXPECT_EQ(node.counters().ring_checks, 1u);
  // It never answers: dead, and gone from the views that took it on hearsay. (The two
  // neighbours answer whatever they are asked.)
  for (std::int64_t now : {1000, 2000}) {
    node.tick(now);
    node.on_message(own_word(1100, Type::pong), 1100);
    node.on_message(own_word(1200, Type::pong), 1200);
  }
  EXPECT_EQ(node.cyclon().find(1001), nullptr);
  EXPECT_EQ(ring->succ, (std::vector<std::uint64_t>{1100, 1200}));

  // A real node told of the same way answers the ping itself, and takes its place.
  node.on_message(told_of(1050, "peer1050"), 5);
  EXPECT_EQ(ring->succ, (std::vector<std::uint64_t>{1100, 1200}));
  EXPECT_TRUE(t.pinged("peer1050"));
  node.on_message(own_word(1050, Type::pong), 1050);
  EXPECT_EQ(ring->succ, (std::vector<std::uint64_t>{1050, 1100}));
}

// Hearsay may still fill an empty slot, or displace other hearsay: a ring fills at gossip
// speed where nobody it would push out has spoken to us.
TEST(PolderCastShares, HearsayFillsEmptyRingSlots) {
  Recording t;
  NodeOptions o;
  Node node(o, 1000, "me", t, 7);
  node.subscribe("s");
  node.tick(0);
  node.on_message(told_of(1200, "peer1200"), 5);
  node.on_message(told_of(1100, "peer1100"), 5);
  EXPECT_EQ(node.rings().ring(topic_id("s"))->succ, (std::vector<std::uint64_t>{1100, 1200}));
  EXPECT_EQ(node.counters().ring_checks, 0u);
}

}  // namespace
}  // namespace psycho::poldercast
