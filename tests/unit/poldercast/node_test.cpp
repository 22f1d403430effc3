// The PolderCast node's protocol, on psycho-sim's in-memory network (many nodes) and with a
// recording transport (one node fed hand-made messages).
#include "poldercast/node.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "poldercast/publish_cache.hpp"
#include "poldercast/topic.hpp"
#include "sim/network.hpp"

namespace psycho::poldercast {
namespace {

using sim::Network;

// Records what a node sends.
class RecordingTransport final : public Transport {
 public:
  bool send(const std::string& address, std::uint64_t, const SharedBytes& message) override {
    sent.push_back({address, *message});
    return true;
  }
  std::size_t backlog(const std::string& address) const override {
    auto it = backlogs.find(address);
    return it == backlogs.end() ? 0 : it->second;
  }
  bool holds_up(const std::string& address) const override { return holding.contains(address); }
  std::vector<std::pair<std::string, std::string>> sent;
  std::map<std::string, std::size_t> backlogs;  // as the test sets them
  std::set<std::string> holding;                // as the test sets them
};

WireMessage decoded(const std::string& bytes) {
  WireMessage m;
  EXPECT_EQ(decode(bytes, Limits{}, m), DecodeError::none);
  return m;
}

std::string encoded(const WireMessage& m) {
  std::string out;
  encode(m, out);
  return out;
}

Profile peer(std::uint64_t id, std::vector<std::uint64_t> topics = {}) {
  Profile p{id, "peer" + std::to_string(id), false, {}};
  for (auto t : topics) p.topics.push_back({t, 0});
  return p;
}

// A publication of `subject` from subscriber `from`, as a ring neighbour forwards it.
WireMessage publication_from(std::uint64_t from, const std::string& subject, std::uint8_t id) {
  WireMessage m;
  m.type = Type::publish;
  m.sender = peer(from, {topic_id(subject)});
  m.publication.subject = subject;
  m.publication.topic = topic_id(subject);
  m.publication.msg_id[0] = id;
  return m;
}

// A world of `n` nodes bootstrapping from node 0; node i subscribes to the subjects
// `subjects_of(i)` returns. Deliveries are recorded per node.
struct World {
  explicit World(std::size_t n, std::function<std::vector<std::string>(std::size_t)> subjects_of,
                 NodeOptions options = {})
      : net({1000, 5, 50, 42}) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto at =
          net.add(options, i == 0 ? std::vector<Network::Index>{} : std::vector<Network::Index>{0});
      for (const auto& s : subjects_of(i)) net.node(at).subscribe(s);
      net.node(at).on_deliver([this, at](const Publication& p) { got[at].push_back(p.payload); });
    }
  }
  void cycles(int n) {
    for (int i = 0; i < n; ++i) net.run_cycle();
  }
  Network net;
  std::map<Network::Index, std::vector<std::string>> got;
};

TEST(PolderCastNode, ConvergedRingsDeliverEveryPublicationOnceToEverySubscriber) {
  // 40 nodes; the even ones subscribe to "news".
  World w(40, [](std::size_t i) {
    return i % 2 == 0 ? std::vector<std::string>{"news"} : std::vector<std::string>{};
  });
  w.cycles(20);
  // Every subscriber's ring holds its true neighbours by id.
  std::vector<std::uint64_t> ids;
  for (Network::Index i = 0; i < 40; i += 2) ids.push_back(w.net.node(i).id());
  std::sort(ids.begin(), ids.end());
  for (Network::Index i = 0; i < 40; i += 2) {
    const auto* ring = w.net.node(i).rings().ring(topic_id("news"));
    ASSERT_NE(ring, nullptr);
    auto at = std::find(ids.begin(), ids.end(), w.net.node(i).id()) - ids.begin();
    ASSERT_FALSE(ring->succ.empty());
    ASSERT_FALSE(ring->pred.empty());
    EXPECT_EQ(ring->succ.front(), ids[(at + 1) % ids.size()]);
    EXPECT_EQ(ring->pred.front(), ids[(at + ids.size() - 1) % ids.size()]);
  }
  // Publish from a subscriber and from a node that does not subscribe.
  for (Network::Index from : {Network::Index{4}, Network::Index{7}}) {
    w.got.clear();
    Publication p;
    p.subject = "news";
    p.payload = "from " + std::to_string(from);
    w.net.node(from).publish(p);
    w.net.drain(5000);
    for (Network::Index i = 0; i < 40; ++i) {
      const std::size_t want = (i % 2 == 0 && i != from) ? 1 : 0;
      EXPECT_EQ(w.got[i].size(), want) << "node " << i << " publisher " << from;
    }
  }
  // Non-subscribers never forward (relay-free) and the views stay within their sizes.
  for (Network::Index i = 0; i < 40; ++i) {
    const auto& n = w.net.node(i);
    EXPECT_LE(n.cyclon().size(), 20u);
    EXPECT_LE(n.vicinity().size(), 20u);
    if (i % 2 == 1 && i != 7) {
      EXPECT_EQ(n.counters().forwarded, 0u) << i;
    }
  }
}

TEST(PolderCastNode, APublisherThatKnowsNoSubscriberFindsOneWithAWalk) {
  // Only node 9 of 30 subscribes: most nodes cannot know it from their views.
  World w(30, [](std::size_t i) {
    return i == 9 ? std::vector<std::string>{"rare"} : std::vector<std::string>{};
  });
  w.cycles(15);
  std::size_t delivered = 0, walks = 0;
  for (Network::Index from = 10; from < 30; ++from) {
    Publication p;
    p.subject = "rare";
    p.payload = std::to_string(from);
    w.net.node(from).publish(p);
    w.net.drain(5000);
    walks += w.net.node(from).counters().finds_started;
  }
  delivered = w.got[9].size();
  EXPECT_EQ(delivered, 20u);
  EXPECT_GT(walks, 0u) << "some publisher had to search";
}

TEST(PolderCastNode, ANewcomerThatSubscribesAndPublishesAtOnceStillReachesTheOthers) {
  // Node 9 of 20 subscribes. A newcomer subscribes too and publishes before its first
  // exchange: its ring is empty and its views name nobody, so the publication waits for a
  // subscriber to be found (as a page's snapshot request does) instead of going nowhere.
  World w(20, [](std::size_t i) {
    return i == 9 ? std::vector<std::string>{"rare"} : std::vector<std::string>{};
  });
  w.cycles(10);
  const auto at = w.net.add({}, {0});
  w.net.node(at).on_deliver([&w, at](const Publication& p) { w.got[at].push_back(p.payload); });
  Node& newcomer = w.net.node(at);
  newcomer.subscribe("rare");
  Publication p;
  p.subject = "rare";
  p.payload = "first";
  newcomer.publish(p);
  w.net.drain(2000);
  w.cycles(3);
  EXPECT_EQ(w.got[9], std::vector<std::string>{"first"});
  EXPECT_EQ(newcomer.counters().no_subscriber, 0u);
  // Once it knows the other subscriber, its ring carries what it publishes.
  w.cycles(5);
  p.payload = "second";
  newcomer.publish(p);
  w.net.drain(2000);
  EXPECT_EQ(w.got[9], (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(w.got[at].empty());
}

// In an overlay of two, a publisher's views hold its only peer only between exchanges (each
// Cyclon exchange takes the partner out). What waited for a subscriber and went to one the
// views named remembers it, so the next publications go to it whatever the views hold then.
TEST(PolderCastNode, AWaitingPublicationsSubscriberIsRememberedForTheNext) {
  RecordingTransport t;
  Node node(NodeOptions{}, 1, "me", t, 7);
  node.tick(0);
  Publication p;
  p.subject = "s";
  p.payload = "first";
  node.publish(p);  // nobody known: it waits
  WireMessage hello;
  hello.type = Type::cyclon_request;
  hello.sender = peer(5, {topic_id("s")});
  node.on_message(encoded(hello));  // the subscriber speaks: the views hold it
  t.sent.clear();
  node.tick(1000);  // what waited goes to it; then this node's own exchange takes it out
  auto publications_to_5 = [&] {
    return std::count_if(t.sent.begin(), t.sent.end(), [](const auto& s) {
      return s.first == "peer5" && decoded(s.second).type == Type::publish;
    });
  };
  EXPECT_EQ(publications_to_5(), 1);
  ASSERT_EQ(node.cyclon().find(5), nullptr);
  p.payload = "second";
  node.publish(p);
  EXPECT_EQ(publications_to_5(), 2);
  EXPECT_EQ(node.counters().pending_full, 0u);
}

// A gateway whose last local subscriber of a subject goes (a slow consumer cut, say) leaves
// the subject's ring but may go on publishing to it. The ring's peers are subscribers it
// knows: its next publications go to them, whatever the views hold at that moment (in an
// overlay of two an exchange takes the only peer out of them), rather than waiting for a
// walk or being lost. A ring test once lost a publication so.
TEST(PolderCastNode, LeavingARingKeepsItsPeersAsKnownSubscribers) {
  RecordingTransport t;
  Node node(NodeOptions{}, 1, "me", t, 7);
  node.subscribe("s");
  node.tick(0);
  WireMessage hello;
  hello.type = Type::cyclon_request;
  hello.sender = peer(5, {topic_id("s")});
  node.on_message(encoded(hello));
  node.tick(1000);  // our own exchanges take peer 5 out of the views; the ring keeps it
  ASSERT_EQ(node.cyclon().find(5), nullptr);
  ASSERT_EQ(node.vicinity().find(5), nullptr);
  ASSERT_NE(node.rings().ring(topic_id("s")), nullptr);
  t.sent.clear();
  node.unsubscribe("s");
  Publication p;
  p.subject = "s";
  p.payload = "after";
  node.publish(p);
  const auto to_5 = std::count_if(t.sent.begin(), t.sent.end(), [](const auto& s) {
    return s.first == "peer5" && decoded(s.second).type == Type::publish;
  });
  EXPECT_EQ(to_5, 1);
  EXPECT_EQ(node.counters().finds_started, 0u);
}

// What a ring leaves behind goes into the publish cache only where there is room: a
// gateway with a thousand subscriptions that all go at once must not push out the topics it
// publishes to.
TEST(PolderCastPublishCache, AnOfferTakesOnlyFreeRoomAndExpiresWithTheColdest) {
  PublishCache cache(2, 1000);
  auto someone = std::make_shared<const Profile>(peer(5));
  cache.use(1, 0).push_back(someone);
  cache.offer(2, {someone}, 500);
  ASSERT_NE(cache.find(2), nullptr);
  cache.offer(3, {someone}, 600);  // full: not taken
  EXPECT_EQ(cache.find(3), nullptr);
  EXPECT_NE(cache.find(1), nullptr);
  cache.expire(1001);  // the offer is as old as the coldest entry, topic 1 (used at 0)
  EXPECT_EQ(cache.size(), 0u);
}

TEST(PolderCastNode, ASubjectNobodyWantsCostsOneSearchNotOnePerPublication) {
  World w(20, [](std::size_t) { return std::vector<std::string>{"busy"}; });
  w.cycles(10);
  Node& publisher = w.net.node(3);
  Publication p;
  p.subject = "nobody.listens";
  publisher.publish(p);
  w.net.drain(2000);
  const auto walks = publisher.counters().finds_started;
  EXPECT_GT(walks, 0u);
  w.cycles(5);  // the wait times out: dropped and counted
  EXPECT_EQ(publisher.counters().no_subscriber, 1u);
  for (int i = 0; i < 10; ++i) publisher.publish(p);
  w.net.drain(2000);
  EXPECT_EQ(publisher.counters().finds_started, walks);  // no new walks
  EXPECT_EQ(publisher.counters().no_subscriber, 11u);
}

TEST(PolderCastNode, ACrashedNeighbourIsRoutedAroundAndACleanLeaveIsImmediate) {
  World w(30, [](std::size_t) { return std::vector<std::string>{"all"}; });
  w.cycles(15);
  // Node 5 leaves cleanly: every peer it knew forgets it at once.
  const auto id5 = w.net.node(5).id();
  std::set<std::string> told;
  for (const auto* view : {&w.net.node(5).cyclon(), &w.net.node(5).vicinity()}) {
    for (const auto& e : view->entries()) told.insert(e.profile->address);
  }
  ASSERT_FALSE(told.empty());
  w.net.node(5).leave();
  w.net.kill(5);
  w.net.drain(1000);
  for (Network::Index i = 0; i < 30; ++i) {
    if (!told.count(Network::address(i))) continue;
    const auto& n = w.net.node(i);
    EXPECT_EQ(n.cyclon().find(id5), nullptr) << i;
    EXPECT_EQ(n.vicinity().find(id5), nullptr) << i;
    EXPECT_EQ(n.rings().peer(id5), nullptr) << i;
    EXPECT_EQ(n.counters().leaves_received, 1u) << i;
  }
  // Three crash silently; within a few cycles publications reach every survivor again.
  for (Network::Index dead : {11, 17, 23}) w.net.kill(dead);
  w.cycles(6);
  w.got.clear();
  Publication p;
  p.subject = "all";
  p.payload = "after";
  w.net.node(0).publish(p);
  w.net.drain(5000);
  for (Network::Index i = 1; i < 30; ++i) {
    const bool alive = i != 5 && i != 11 && i != 17 && i != 23;
    EXPECT_EQ(w.got[i].size(), alive ? 1u : 0u) << i;
  }
}

TEST(PolderCastNode, HostileMessagesAreCountedAndBoundNothing) {
  RecordingTransport t;
  NodeOptions o;
  Node node(o, 1, "me", t, 7);
  node.subscribe("s");
  node.on_message("garbage");
  node.on_message(std::string("PC\x03\x7f", 4));
  EXPECT_EQ(node.counters().decode_errors[static_cast<int>(DecodeError::bad_magic)], 1u);
  EXPECT_EQ(node.counters().decode_errors[static_cast<int>(DecodeError::bad_type)], 1u);

  // A flood of 64-entry gossip about strangers leaves every view at its size.
  for (std::uint64_t round = 0; round < 50; ++round) {
    WireMessage m;
    m.type = Type::cyclon_request;
    m.sender = peer(1000 + round, {topic_id("s")});
    for (std::uint64_t k = 0; k < 64; ++k) {
      m.entries.push_back({peer(round * 100 + k + 2, {topic_id("s"), k}), 0});
    }
    node.on_message(encoded(m));
  }
  EXPECT_LE(node.cyclon().size(), o.cyclon_view);
  EXPECT_LE(node.vicinity().size(), o.vicinity_view);
  EXPECT_LE(node.rings().peers().size(), 4u);  // 2 + 2 slots of one topic

  // A publication whose topic id is not its subject's hash is refused.
  WireMessage pub;
  pub.type = Type::publish;
  pub.sender = peer(3, {topic_id("s")});
  pub.publication.subject = "s";
  pub.publication.topic = topic_id("other");
  node.on_message(encoded(pub));
  EXPECT_EQ(node.counters().bad_topic, 1u);
  EXPECT_EQ(node.counters().delivered, 0u);
}

TEST(PolderCastNode, TheSecondCopyIsADuplicateAndTheHopLimitHolds) {
  RecordingTransport t;
  NodeOptions o;
  o.max_overlay_hops = 3;
  Node node(o, 1, "me", t, 7);
  node.subscribe("s");
  int delivered = 0;
  node.on_deliver([&](const Publication&) { ++delivered; });
  // Two ring neighbours, so that there is somewhere to forward to.
  for (std::uint64_t id : {5, 9}) {
    WireMessage hello;
    hello.type = Type::pong;
    hello.sender = peer(id, {topic_id("s")});
    node.on_message(encoded(hello));
  }
  WireMessage pub = publication_from(5, "s", 1);
  t.sent.clear();
  node.on_message(encoded(pub));
  node.on_message(encoded(pub));
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(node.counters().duplicates, 1u);
  // From ring neighbour 5 it goes on to the other side (9), one hop further.
  ASSERT_FALSE(t.sent.empty());
  EXPECT_EQ(t.sent.front().first, "peer9");
  EXPECT_EQ(decoded(t.sent.front().second).publication.overlay_hops, 1);

  // At the hop limit: delivered here, not forwarded.
  pub.publication.msg_id[0] = 2;
  pub.publication.overlay_hops = 3;
  t.sent.clear();
  node.on_message(encoded(pub));
  EXPECT_EQ(delivered, 2);
  EXPECT_EQ(node.counters().hop_limit, 1u);
  EXPECT_TRUE(t.sent.empty());
}

// A peer's profile comes with each of its messages. While it is the same, the node keeps the
// one it holds (Node::known_profile: no allocation per publication); a changed one replaces it.
TEST(PolderCastNode, APeersUnchangedProfileIsKeptAndAChangedOneTakesItsPlace) {
  RecordingTransport t;
  Node node(NodeOptions{}, 1, "me", t, 7);
  node.subscribe("s");
  WireMessage hello;
  hello.type = Type::pong;
  hello.sender = peer(5, {topic_id("s")});
  node.on_message(encoded(hello));
  ASSERT_NE(node.rings().peer(5), nullptr);
  const ProfilePtr first = node.rings().peer(5)->profile;
  node.on_message(encoded(publication_from(5, "s", 1)));
  EXPECT_EQ(node.rings().peer(5)->profile, first);  // the very object it held
  WireMessage changed = publication_from(5, "s", 2);
  changed.sender.topics.push_back({topic_id("t"), 1});
  node.on_message(encoded(changed));
  ASSERT_NE(node.rings().peer(5), nullptr);
  EXPECT_NE(node.rings().peer(5)->profile, first);
  EXPECT_EQ(node.rings().peer(5)->profile->topics.size(), 2u);
}

// A node knows its own publications by their id (Node::own_id) rather than by remembering
// them: one that comes back is a duplicate, though the seen-set holds nothing; to any other
// node, and with its id altered, it is a new publication.
TEST(PolderCastNode, ItsOwnPublicationComingBackIsADuplicateWithoutBeingRemembered) {
  auto subscribed_node = [](std::uint64_t id, RecordingTransport& t, int& delivered) {
    auto node = std::make_unique<Node>(NodeOptions{}, id, "node" + std::to_string(id), t, 7);
    node->subscribe("s");
    node->on_deliver([&delivered](const Publication&) { ++delivered; });
    WireMessage hello;  // a ring neighbour to publish to
    hello.type = Type::pong;
    hello.sender = peer(5, {topic_id("s")});
    node->on_message(encoded(hello));
    return node;
  };
  RecordingTransport t, other_t;
  int delivered = 0, other_delivered = 0;
  auto node = subscribed_node(1, t, delivered);
  auto other = subscribed_node(2, other_t, other_delivered);

  Publication p;
  p.subject = "s";
  p.payload = "mine";
  t.sent.clear();
  node->publish(p);
  ASSERT_EQ(t.sent.size(), 1u);
  EXPECT_EQ(node->seen_size(), 0u);
  WireMessage back = decoded(t.sent.front().second);
  ASSERT_EQ(back.type, Type::publish);
  back.sender = peer(5, {topic_id("s")});

  node->on_message(encoded(back));
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(node->counters().duplicates, 1u);
  other->on_message(encoded(back));
  EXPECT_EQ(other_delivered, 1);

  back.publication.msg_id[15] ^= 1;  // no longer an id the node made
  node->on_message(encoded(back));
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(node->counters().duplicates, 1u);
}

TEST(PolderCastNode, AProfileAboveTheCapAdvertisesItsNeediestTopicsAndRotatesTheRest) {
  RecordingTransport t;
  NodeOptions o;
  o.max_profile_topics = 8;
  Node node(o, 1, "me", t, 7);
  for (int i = 0; i < 20; ++i) node.subscribe("t." + std::to_string(i));
  node.set_seeds({"seed"});
  node.tick(1000);
  ASSERT_FALSE(t.sent.empty());
  EXPECT_EQ(decoded(t.sent.back().second).sender.topics.size(), 8u);
}

// --- publishing to topics this node does not subscribe to --------------------------------

WireMessage found_for(const std::string& subject, std::uint64_t subscriber) {
  WireMessage found;
  found.type = Type::find_subscriber_response;
  found.sender = peer(2);
  found.topic = topic_id(subject);
  found.entries.push_back({peer(subscriber, {found.topic}), 0});
  return found;
}

// Makes `p` the node's first Cyclon peer: the answer of a seed.
void introduce(Node& node, const Profile& p) {
  WireMessage answer;
  answer.type = Type::cyclon_response;
  answer.sender = p;
  node.on_message(encoded(answer));
}

std::vector<std::string> sent_to(const RecordingTransport& t, Type type) {
  std::vector<std::string> out;
  for (const auto& [address, bytes] : t.sent) {
    if (decoded(bytes).type == type) out.push_back(address);
  }
  return out;
}

TEST(PolderCastNode, UnsolicitedFindAnswersAreDroppedAndCostNothing) {
  RecordingTransport t;
  NodeOptions o;
  Node node(o, 1, "me", t, 7);
  // Only the node's work is timed: building the answers took most of a sanitized run.
  std::vector<std::string> answers;
  answers.reserve(60'000);
  for (std::uint64_t i = 0; i < 60'000; ++i) {
    answers.push_back(encoded(found_for("t." + std::to_string(i), 3)));
  }
  const auto start = std::chrono::steady_clock::now();
  for (const auto& answer : answers) node.on_message(answer);
  ASSERT_EQ(node.publish_cache_size(), 0u);  // before the tick, which used to trim quadratically
  node.tick(1000);
  EXPECT_EQ(node.counters().finds_unsolicited, 60'000u);
  EXPECT_EQ(node.counters().finds_answered, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(PolderCastNode, AnswersToOurOwnWalksFillACacheBoundedAtInsertion) {
  RecordingTransport t;
  NodeOptions o;
  o.publish_cache_topics = 4;
  Node node(o, 1, "me", t, 7);
  introduce(node, peer(2));
  for (int i = 0; i < 10; ++i) {
    Publication p;
    p.subject = "q." + std::to_string(i);
    node.publish(p);
  }
  EXPECT_EQ(sent_to(t, Type::find_subscriber).size(), 10u);  // one walk each, to peer 2
  // An answer for a topic nobody searched is dropped, even among answers that are wanted.
  node.on_message(encoded(found_for("never.searched", 99)));
  for (std::uint64_t i = 0; i < 10; ++i) {
    t.sent.clear();
    node.on_message(encoded(found_for("q." + std::to_string(i), 100 + i)));
    EXPECT_LE(node.publish_cache_size(), 4u) << i;
    // The waiting publication goes to the subscriber found.
    EXPECT_EQ(sent_to(t, Type::publish),
              std::vector<std::string>{"peer" + std::to_string(100 + i)});
  }
  EXPECT_EQ(node.counters().finds_answered, 10u);
  EXPECT_EQ(node.counters().finds_unsolicited, 1u);
  // Once the walks have timed out, a late answer is unsolicited too.
  for (int c = 1; c <= 5; ++c) node.tick(1000 * c);
  node.on_message(encoded(found_for("q.0", 200)));
  EXPECT_EQ(node.counters().finds_unsolicited, 2u);
}

// A node publishing to many subjects nobody is known to want (replies to unique inboxes)
// starts half a peer's walk share of searches a cycle, and the rest in later cycles, in
// order: a peer cut it as a flooder when it started them all at once.
TEST(PolderCastNode, ManyNewSubjectsAreSearchedForWithinWhatAPeerTakes) {
  RecordingTransport t;
  NodeOptions o;
  Node node(o, 1, "me", t, 7);
  introduce(node, peer(2));
  constexpr int kSubjects = 40;
  for (int i = 0; i < kSubjects; ++i) {
    Publication p;
    p.subject = "_INBOX.r." + std::to_string(i);
    node.publish(p);
  }
  const std::size_t per_cycle = o.walks_per_peer / 2;
  EXPECT_EQ(sent_to(t, Type::find_subscriber).size(), per_cycle);
  node.tick(1000);
  EXPECT_EQ(sent_to(t, Type::find_subscriber).size(), 2 * per_cycle);
  // A receiving node takes them all without cutting the sender.
  RecordingTransport rt;
  Node receiver(o, 2, "peer2", rt, 9);
  for (const auto& [to, bytes] : t.sent) receiver.on_message(bytes);
  EXPECT_EQ(receiver.counters().peers_cut, 0u);
  EXPECT_EQ(receiver.counters().throttled_walks, 0u);
  node.tick(2000);  // the last 8 start now (peer 2 is out of the views: no walk is sent)
  // Nothing was dropped meanwhile: every publication still waits for its search.
  EXPECT_EQ(node.counters().pending_full, 0u);
  EXPECT_EQ(node.counters().no_subscriber, 0u);
  // The last one's search, two cycles late, finds a subscriber: its publication goes to it.
  t.sent.clear();
  node.on_message(encoded(found_for("_INBOX.r." + std::to_string(kSubjects - 1), 100)));
  EXPECT_EQ(node.counters().finds_unsolicited, 0u);
  EXPECT_EQ(sent_to(t, Type::publish), std::vector<std::string>{"peer100"});
}

// --- replies -------------------------------------------------------------------------------

// A node in ring "svc" that has just delivered a request with reply subject `reply`, whose
// publication says the requester's gateway is at "requester".
struct Responder {
  explicit Responder(const std::string& reply) : node(NodeOptions{}, 1, "me", t, 7) {
    node.subscribe("svc");
    node.on_deliver([this](const Publication&) { ++delivered; });
    WireMessage req;
    req.type = Type::publish;
    req.sender = peer(5, {topic_id("svc")});
    req.publication.subject = "svc";
    req.publication.topic = topic_id("svc");
    req.publication.reply = reply;
    req.publication.reply_address = "requester";
    req.publication.msg_id[0] = 1;
    node.on_message(encoded(req));
    t.sent.clear();
  }
  void publish(const std::string& subject) {
    Publication p;
    p.subject = subject;
    node.publish(p);
  }
  RecordingTransport t;
  Node node;
  int delivered = 0;
};

TEST(PolderCastNode, AReplyToAnInboxGoesStraightBackOnce) {
  Responder r("_INBOX.abc.1");
  ASSERT_EQ(r.delivered, 1);
  r.publish("_INBOX.abc.1");
  ASSERT_EQ(r.t.sent.size(), 1u);
  EXPECT_EQ(r.t.sent[0].first, "requester");
  EXPECT_TRUE(decoded(r.t.sent[0].second).publication.direct);
  EXPECT_EQ(r.node.counters().replies_direct, 1u);
  // The route was used up: a second publication on that subject does not go there.
  r.t.sent.clear();
  r.publish("_INBOX.abc.1");
  EXPECT_TRUE(sent_to(r.t, Type::publish).empty());
  EXPECT_EQ(r.node.counters().replies_direct, 1u);
}

TEST(PolderCastNode, ARequestWithASharedReplySubjectDoesNotDivertIt) {
  Responder r("shared.x");
  introduce(r.node, peer(7, {topic_id("shared.x")}));  // a subscriber of shared.x
  r.t.sent.clear();
  r.publish("shared.x");
  EXPECT_EQ(sent_to(r.t, Type::publish), std::vector<std::string>{"peer7"});
  EXPECT_EQ(r.node.counters().replies_direct, 0u);
}

TEST(PolderCastNode, AnInboxWithKnownSubscribersStillGoesToThem) {
  // A forged request names an inbox that real subscribers listen on.
  Responder r("_INBOX.shared");
  introduce(r.node, peer(7, {topic_id("_INBOX.shared")}));
  r.t.sent.clear();
  r.publish("_INBOX.shared");
  EXPECT_EQ(sent_to(r.t, Type::publish), std::vector<std::string>{"peer7"});
  // And one this node's own ring holds goes along the ring.
  Responder own("_INBOX.mine");
  own.node.subscribe("_INBOX.mine");
  WireMessage hello;
  hello.type = Type::pong;
  hello.sender = peer(9, {topic_id("_INBOX.mine")});
  own.node.on_message(encoded(hello));
  own.t.sent.clear();
  own.publish("_INBOX.mine");
  EXPECT_EQ(sent_to(own.t, Type::publish), std::vector<std::string>{"peer9"});
  EXPECT_EQ(r.node.counters().replies_direct + own.node.counters().replies_direct, 0u);
}

// --- FIND_SUB walks --------------------------------------------------------------------------

WireMessage walk(const std::string& subject, std::uint64_t origin, std::uint8_t ttl) {
  WireMessage m;
  m.type = Type::find_subscriber;
  m.sender = peer(origin);
  m.topic = topic_id(subject);
  m.ttl = ttl;
  m.entries = {{peer(origin), 0}};
  return m;
}

// A link backed up past publication_backlog takes no more publications (counted), so the
// rest of its queue stays free for gossip and pings; a link that drained takes them again.
TEST(PolderCastNode, ABusyLinkTakesNoPublicationsButOthersStillDo) {
  RecordingTransport t;
  NodeOptions o;
  o.publication_backlog = 1000;
  Node node(o, 1, "me", t, 7);
  introduce(node, peer(7, {topic_id("news")}));
  introduce(node, peer(8, {topic_id("news")}));
  t.backlogs["peer7"] = 5000;
  t.sent.clear();
  Publication p;
  p.subject = "news";
  node.publish(p);
  EXPECT_EQ(sent_to(t, Type::publish), std::vector<std::string>{"peer8"});
  EXPECT_EQ(node.counters().link_busy, 1u);
  t.backlogs["peer7"] = 0;
  t.sent.clear();
  node.publish(p);
  auto to = sent_to(t, Type::publish);
  std::sort(to.begin(), to.end());
  EXPECT_EQ(to, (std::vector<std::string>{"peer7", "peer8"}));
}

// Flow control: the owner hears of each copy of its own publication that went to a link that
// holds up, so that it can hold that subject back; copies to other links, and publications
// forwarded for others, are not reported.
TEST(PolderCastNode, ReportsItsOwnPublicationsThatWentToALinkThatHoldsUp) {
  RecordingTransport t;
  Node node(NodeOptions{}, 1, "me", t, 7);
  introduce(node, peer(7, {topic_id("news")}));
  introduce(node, peer(8, {topic_id("news")}));
  std::vector<std::pair<std::string, std::string>> held;
  node.on_held_up([&](const Publication& p, const std::string& address) {
    held.emplace_back(p.subject, address);
  });
  Publication p;
  p.subject = "news";
  node.publish(p);
  EXPECT_TRUE(held.empty());  // nothing holds up
  t.holding.insert("peer7");
  node.publish(p);
  EXPECT_EQ(held, (std::vector<std::pair<std::string, std::string>>{{"news", "peer7"}}));
  // A publication from another node, forwarded here: not ours to hold.
  held.clear();
  node.subscribe("news");
  t.sent.clear();
  node.on_message(encoded(publication_from(8, "news", 42)));
  EXPECT_EQ(sent_to(t, Type::publish), std::vector<std::string>{"peer7"});
  EXPECT_TRUE(held.empty());
}

TEST(PolderCastNode, AWalkGoesNoFurtherThanTheNodesOwnTtl) {
  World w(30, [](std::size_t) { return std::vector<std::string>{}; });
  w.cycles(10);
  std::size_t steps = 0;
  w.net.observe([&](Network::Index, Network::Index, const std::string& bytes) {
    WireMessage m;
    if (decode(bytes, Limits{}, m) == DecodeError::none && m.type == Type::find_subscriber) ++steps;
  });
  w.net.node(1).on_message(encoded(walk("nobody", 999, 255)));
  w.net.drain(60'000);
  EXPECT_GT(steps, 0u);
  EXPECT_LT(steps, std::size_t{NodeOptions{}.find_ttl});
}

TEST(PolderCastNode, OneWalkOriginCannotUseUpTheBudgetOfAnother) {
  RecordingTransport t;
  Node node(NodeOptions{}, 1, "me", t, 7);
  node.subscribe("s");
  // Handed on by many peers, so that no one of them exceeds its own share of walks.
  for (int i = 0; i < 200; ++i) {
    WireMessage m = walk("s", 50, 32);
    m.sender = peer(1000 + static_cast<std::uint64_t>(i));
    node.on_message(encoded(m));
  }
  node.on_message(encoded(walk("s", 60, 32)));
  const auto answers = sent_to(t, Type::find_subscriber_response);
  EXPECT_EQ(std::count(answers.begin(), answers.end(), "peer60"), 1);
  EXPECT_LE(std::count(answers.begin(), answers.end(), "peer50"), 8);
  EXPECT_GE(node.counters().finds_over_budget, 192u);
}

// Ids a peer chose so that a fixed 128-to-64-bit mix (a ^ b * golden) gives them all one
// key: each is a new id, and none may pass for a duplicate of another.
TEST(PolderCastSeenSet, IdsChosenToCollideAreStillDistinct) {
  constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
  SeenSet seen(70'000, 120'000);
  for (std::uint64_t i = 1; i <= 60'000; ++i) {
    const std::uint64_t b = i, a = 0x1234 ^ (b * kGolden);
    MessageId id{};
    std::memcpy(id.data(), &a, 8);
    std::memcpy(id.data() + 8, &b, 8);
    ASSERT_TRUE(seen.insert(SeenSet::key_of(id), 0)) << i;
  }
  EXPECT_EQ(seen.size(), 60'000u);
}

// Against a reference (a set plus a FIFO): random ids, repeats, a capacity bound and a time
// bound, through many table growths and deletions. `time_of` gives each step's clock.
template <typename TimeOf>
void expect_seen_set_agrees(std::size_t capacity, std::int64_t ttl, std::int64_t steps,
                            TimeOf time_of) {
  SeenSet seen(capacity, ttl);
  std::set<MessageId> reference;
  std::deque<std::pair<MessageId, std::int64_t>> order;
  std::mt19937_64 rng(7);
  std::vector<MessageId> recent;
  for (std::int64_t step = 0; step < steps; ++step) {
    const std::int64_t now = time_of(step);
    while (!order.empty() && now - order.front().second > ttl) {
      reference.erase(order.front().first);
      order.pop_front();
    }
    MessageId id{};
    if (!recent.empty() && rng() % 3 == 0) {
      id = recent[rng() % recent.size()];  // a repeat, maybe already forgotten
    } else {
      for (auto& b : id) b = static_cast<std::uint8_t>(rng());
      recent.push_back(id);
      if (recent.size() > 3000) recent.erase(recent.begin());
    }
    const bool fresh = reference.insert(id).second;
    if (fresh) {
      order.push_back({id, now});
      if (order.size() > capacity) {
        reference.erase(order.front().first);
        order.pop_front();
      }
    }
    ASSERT_EQ(seen.insert(SeenSet::key_of(id), now), fresh) << step;
    ASSERT_EQ(seen.size(), reference.size()) << step;
  }
}

TEST(PolderCastSeenSet, AgreesWithAPlainSetWhenTheCapacityBinds) {
  // Four ids a millisecond against a 5 s memory: the capacity forgets first.
  expect_seen_set_agrees(1000, 5000, 50'000, [](std::int64_t step) { return step / 4; });
}

TEST(PolderCastSeenSet, AgreesWithAPlainSetWhenAgeBindsAndTheRateRises) {
  // A slow start under a 100 ms memory: ids are forgotten by age, so the ring's oldest entry
  // moves round while the ring is still small. Then ten times the rate: more ids live than
  // the ring holds, so it grows with its oldest entry anywhere, and the order must survive.
  expect_seen_set_agrees(100'000, 100, 30'000, [](std::int64_t step) {
    return step < 10'000 ? step : 10'000 + (step - 10'000) / 10;
  });
}

TEST(PolderCastRings, APartialProfileNeverTakesAPeerOutOfARing) {
  Rings rings(100, 2);
  rings.join(1, "one");
  rings.join(2, "two");
  auto listed = [](std::vector<std::uint64_t> topics, bool partial) {
    auto p = std::make_shared<Profile>(peer(150, topics));
    p->partial = partial;
    return ProfilePtr(p);
  };
  rings.offer(listed({1, 2}, false));
  ASSERT_EQ(rings.ring(2)->succ.front(), 150u);
  // A partial list without topic 2 (it rotated out): still in ring 2.
  rings.offer(listed({1}, true));
  EXPECT_EQ(rings.ring(2)->succ.front(), 150u);
  // A complete list without topic 2: it unsubscribed.
  rings.offer(listed({1}, false));
  EXPECT_TRUE(rings.ring(2)->succ.empty());
  EXPECT_EQ(rings.ring(1)->succ.front(), 150u);
}

// Others' word about a peer that spoke to us (an old view entry, or a made-up one) neither
// takes it out of a ring nor replaces what it said; its own word does. Hearsay about a peer
// only heard of still counts for what it is.
TEST(PolderCastRings, HearsayNeverTakesAPeerThatSpokeToUsOutOfARing) {
  Rings rings(100, 2);
  rings.join(1, "one");
  rings.join(2, "two");
  auto listed = [](std::uint64_t id, std::vector<std::uint64_t> topics) {
    return ProfilePtr(std::make_shared<Profile>(peer(id, topics)));
  };
  rings.offer(listed(150, {1, 2}), true);
  rings.offer(listed(160, {1, 2}), false);
  ASSERT_EQ(rings.ring(2)->succ, (std::vector<std::uint64_t>{150, 160}));
  // Complete lists without topic 2, told by others.
  rings.offer(listed(150, {1}), false);
  rings.offer(listed(160, {1}), false);
  EXPECT_EQ(rings.ring(2)->succ, (std::vector<std::uint64_t>{150}));
  EXPECT_TRUE(subscribes(*rings.peer(150)->profile, 2));
  // 150 says so itself: it unsubscribed.
  rings.offer(listed(150, {1}), true);
  EXPECT_TRUE(rings.ring(2)->succ.empty());
  EXPECT_EQ(rings.ring(1)->succ.front(), 150u);
}

// A live peer that answers late (busy with a flood) is not dead after one short cycle: the
// request gets answer_timeout too. Past both, silence is death, however often it is asked.
TEST(PolderCastNode, APartnerIsDeadOnlyAfterACycleAndTheAnswerTimeout) {
  RecordingTransport t;
  NodeOptions o;
  o.answer_timeout_ms = 1000;
  Node node(o, 1, "me", t, 7);
  node.subscribe("s");
  introduce(node, peer(2, {topic_id("s")}));
  std::int64_t now = 10'000;
  node.tick(now);  // asks peer 2 (the only peer it knows)
  ASSERT_FALSE(t.sent.empty());
  for (int c = 0; c < 9; ++c) node.tick(now += 100);  // 100 ms cycles: 900 ms of silence
  EXPECT_EQ(node.counters().peers_dead, 0u);
  node.tick(now += 100);
  node.tick(now += 100);
  EXPECT_EQ(node.counters().peers_dead, 1u);
}

// A partner that keeps talking to us while our request to it goes unanswered is alive: our
// request is stuck behind a flood it reads slowly. It stays in the rings (publications still
// go to it), the request is forgotten and counted, and the next cycle asks again. Silent
// again after that, it is dead.
TEST(PolderCastNode, APartnerHeardFromSinceTheRequestIsNotDead) {
  RecordingTransport t;
  NodeOptions o;
  o.answer_timeout_ms = 1000;
  Node node(o, 1, "me", t, 7);
  node.subscribe("s");
  const Profile partner = peer(2, {topic_id("s")});
  introduce(node, partner);
  std::int64_t now = 10'000;
  node.tick(now);  // asks peer 2
  WireMessage ping;
  ping.type = Type::ping;
  ping.sender = partner;
  for (int c = 0; c < 30; ++c) {
    node.tick(now += 100);
    node.on_message(encoded(ping));  // its own requests reach us; our answers would not count
  }
  EXPECT_EQ(node.counters().peers_dead, 0u);
  EXPECT_GT(node.counters().answers_overdue, 0u);
  EXPECT_NE(node.rings().peer(2), nullptr);
  for (int c = 0; c < 30; ++c) node.tick(now += 100);
  EXPECT_EQ(node.counters().peers_dead, 1u);
}

// Signals are for browsers' transports: a node answers none and keeps the profile it holds.
TEST(PolderCastNode, SignalsChangeNothing) {
  RecordingTransport t;
  Node node({}, 1, "self", t, 1);
  WireMessage hello;
  hello.type = Type::cyclon_request;
  hello.sender = peer(7, {topic_id("news")});
  node.on_message(encoded(hello));
  ASSERT_EQ(node.cyclon().size(), 1u);
  t.sent.clear();
  WireMessage signal;
  signal.type = Type::signal;
  signal.sender = {7, "peer7", true, {}};
  signal.data = "{\"t\":\"call\"}";
  node.on_message(encoded(signal));
  EXPECT_TRUE(t.sent.empty());
  ASSERT_EQ(node.cyclon().size(), 1u);
  EXPECT_EQ(node.cyclon().entries().front().profile->topics.size(), 1u);
}

}  // namespace
}  // namespace psycho::poldercast
