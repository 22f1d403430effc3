// Signed publications (docs/poldercast.md#signed-publications): the origin signs, every node
// checks before it delivers or forwards, so a relay can neither forge nor alter, and a
// forged copy cannot make the genuine one look like a duplicate.
#include <gtest/gtest.h>

#include "adapters/poldercast/node_key.hpp"
#include "poldercast/batch_signature.hpp"
#include "poldercast/node.hpp"
#include "poldercast/topic.hpp"

namespace psycho::poldercast {
namespace {

class Sent final : public Transport {
 public:
  bool send(const std::string&, std::uint64_t, const SharedBytes& message) override {
    messages.push_back(*message);
    return true;
  }
  std::vector<std::string> messages;
};

std::string encoded(const WireMessage& m) {
  std::string out;
  encode(m, out);
  return out;
}

WireMessage decoded(const std::string& bytes) {
  WireMessage m;
  EXPECT_EQ(decode(bytes, Limits{}, m), DecodeError::none);
  return m;
}

// A node that signs, and a subscriber that checks, each with its own key.
struct Pair {
  Pair() {
    origin.set_crypto(origin_key.get());
    subscriber.set_crypto(subscriber_key.get());
    subscriber.subscribe("s");
    subscriber.on_deliver([this](const Publication& p) { delivered.push_back(p.payload); });
  }
  // What the origin sends for a publication of `payload` on "s", along the ring it shares
  // with the subscriber.
  WireMessage published(const std::string& payload) {
    origin.subscribe("s");
    WireMessage hello;
    hello.type = Type::ping;
    hello.sender = {subscriber.id(), "sub", false, {{topic_id("s"), 0}}};
    origin.on_message(encoded(hello));
    Publication p;
    p.subject = "s";
    p.payload = payload;
    p.origin = 77;
    p.seq = 5;
    origin.publish(p);
    for (auto it = out.messages.rbegin(); it != out.messages.rend(); ++it) {
      WireMessage m = decoded(*it);
      if (m.type == Type::publish) return m;
    }
    ADD_FAILURE() << "nothing published";
    return {};
  }
  // Hands `m` to the subscriber as relayed by node 9 (not its signer).
  void relay(WireMessage m) {
    m.sender = {9, "relay", false, {{topic_id("s"), 0}}};
    subscriber.on_message(encoded(m), 9);
  }

  std::shared_ptr<NodeKey> origin_key = NodeKey::generate(), subscriber_key = NodeKey::generate();
  Sent out, dropped;
  Node origin{NodeOptions{}, origin_key->id(), "origin", out, 1};
  Node subscriber{NodeOptions{}, subscriber_key->id(), "sub", dropped, 2};
  std::vector<std::string> delivered;
};

TEST(PolderCastSigned, ARelayedPublicationIsCheckedAndDelivered) {
  Pair w;
  const WireMessage m = w.published("hello");
  EXPECT_EQ(m.publication.signer, w.origin_key->public_key());
  EXPECT_EQ(w.origin.counters().signed_here, 1u);
  w.relay(m);
  EXPECT_EQ(w.delivered, (std::vector<std::string>{"hello"}));
  EXPECT_EQ(w.subscriber.counters().signatures_checked, 1u);
  // A replay of the same bytes is a duplicate, whoever sends it.
  w.relay(m);
  EXPECT_EQ(w.subscriber.counters().duplicates, 1u);
  EXPECT_EQ(w.delivered.size(), 1u);
}

TEST(PolderCastSigned, AnAlteredPublicationIsDroppedAndTheGenuineOneStillArrives) {
  Pair w;
  const WireMessage genuine = w.published("pay me 10");
  for (auto alter : std::vector<std::function<void(Publication&)>>{
           [](Publication& p) { p.payload = "pay me 1000"; },
           [](Publication& p) { p.headers = "NATS/1.0\r\nX: y\r\n\r\n"; },
           [](Publication& p) { p.origin = 78; },
           [](Publication& p) { p.seq = 6; },
           [](Publication& p) { p.reply = "_INBOX.thief"; },
           [](Publication& p) { p.reply_address = "thief:1"; },
           [](Publication& p) { p.direct = true; },
           [](Publication& p) { p.signature[0] ^= 1; },
       }) {
    WireMessage altered = genuine;
    alter(altered.publication);
    w.relay(altered);
  }
  EXPECT_EQ(w.subscriber.counters().bad_signature, 8u);
  EXPECT_TRUE(w.delivered.empty());
  // The forgeries carried the genuine id, but were never remembered as seen.
  w.relay(genuine);
  EXPECT_EQ(w.delivered, (std::vector<std::string>{"pay me 10"}));
  // Relays count hops up: that alone is not covered by the signature.
  WireMessage further = genuine;
  further.publication.msg_id[0] ^= 1;  // a fresh id would be a change, and is refused
  w.relay(further);
  EXPECT_EQ(w.subscriber.counters().bad_signature, 9u);
}

TEST(PolderCastSigned, NobodyCanSignForAnotherNode) {
  Pair w;
  WireMessage forged = w.published("genuine");
  // The forger puts the origin's key in, and signs with its own.
  auto forger = NodeKey::generate();
  forged.publication.payload = "forged";
  forged.publication.signature =
      forger->sign(batch_signed_message(batch_root(*forger, forged.publication)));
  w.relay(forged);
  // Or its own key with the origin's trace: it is then signed by the forger, as it says.
  WireMessage own = forged;
  own.publication.msg_id[1] ^= 1;
  sign_batch(*forger, std::span<Publication>(&own.publication, 1));
  w.relay(own);
  EXPECT_EQ(w.subscriber.counters().bad_signature, 1u);
  EXPECT_EQ(w.delivered, (std::vector<std::string>{"forged"}));  // the forger's own, as its own
}

// Straight from its signer, over a link that proved the signer, no check is needed.
TEST(PolderCastSigned, APublicationFromItsSignersOwnLinkNeedsNoCheck) {
  Pair w;
  WireMessage m = w.published("direct");
  m.sender = {w.origin.id(), "origin", false, {{topic_id("s"), 0}}};
  w.subscriber.on_message(encoded(m), w.origin.id());
  EXPECT_EQ(w.delivered, (std::vector<std::string>{"direct"}));
  EXPECT_EQ(w.subscriber.counters().signer_links, 1u);
  EXPECT_EQ(w.subscriber.counters().signatures_checked, 0u);
}

// One signature covers what the origin publishes together; a node verifies it once and
// takes the rest of the batch on its proof, while any change to one publication, or a proof
// moved to another, still fails.
TEST(PolderCastSigned, OneSignatureCoversABatchAndEachPublicationItsOwnPlace) {
  Pair w;
  w.published("warm-up");  // the origin joins the ring it shares with the subscriber
  w.out.messages.clear();
  std::vector<Publication> batch(5);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i].subject = "s";
    batch[i].payload = "item " + std::to_string(i);
  }
  w.origin.publish(std::span<Publication>(batch));
  EXPECT_EQ(w.origin.counters().batches_signed, 2u);  // the warm-up's and this one's
  EXPECT_EQ(w.origin.counters().signed_here, 6u);
  std::vector<WireMessage> sent;
  for (const auto& bytes : w.out.messages) {
    if (WireMessage m = decoded(bytes); m.type == Type::publish) sent.push_back(m);
  }
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[4].publication.batch.depth, 3);
  EXPECT_EQ(sent[4].publication.batch.index, 4);

  // Moved: the proof of item 1 on item 2, and item 3 with its index changed.
  WireMessage moved = sent[2];
  moved.publication.batch = sent[1].publication.batch;
  w.relay(moved);
  WireMessage reindexed = sent[3];
  reindexed.publication.batch.index = 2;
  w.relay(reindexed);
  EXPECT_EQ(w.subscriber.counters().bad_signature, 2u);

  for (const auto& m : sent) w.relay(m);
  EXPECT_EQ(w.delivered,
            (std::vector<std::string>{"item 0", "item 1", "item 2", "item 3", "item 4"}));
  EXPECT_EQ(w.subscriber.counters().signatures_checked, 3u);  // two refused, one held
  EXPECT_EQ(w.subscriber.counters().batch_proofs, 4u);

  // A verified batch vouches for nothing else: an altered item still fails.
  WireMessage altered = sent[0];
  altered.publication.msg_id[0] ^= 1;
  altered.publication.payload = "item 0, altered";
  w.relay(altered);
  EXPECT_EQ(w.subscriber.counters().bad_signature, 3u);
}

TEST(PolderCastBatchSignature, TheRootsOfAVerifiedBatchAreRememberedWithinABound) {
  auto key = NodeKey::generate(), other = NodeKey::generate();
  VerifiedRoots roots(2);
  Digest a{}, b{}, c{};
  a[0] = 1;
  b[0] = 2;
  c[0] = 3;
  roots.insert(key->public_key(), a);
  roots.insert(key->public_key(), b);
  EXPECT_TRUE(roots.contains(key->public_key(), a));
  EXPECT_FALSE(roots.contains(other->public_key(), a));  // the signer is part of it
  roots.insert(key->public_key(), c);
  EXPECT_FALSE(roots.contains(key->public_key(), a));  // the oldest went first
  EXPECT_TRUE(roots.contains(key->public_key(), c));
  EXPECT_EQ(roots.size(), 2u);
}

// The responder of `w` gets a request whose replies go to `reply_address`, and answers it.
// Returns what it sent.
WireMessage answered(Pair& w, const std::string& reply_address) {
  WireMessage request = w.published("request");
  request.publication.reply = "_INBOX.r.1";
  request.publication.reply_address = reply_address;
  request.publication.msg_id[0] ^= 1;
  sign_batch(*w.origin_key, std::span<Publication>(&request.publication, 1));
  w.subscriber.on_message(encoded(request), w.origin.id());
  EXPECT_EQ(w.delivered.size(), 1u);
  Publication reply;
  reply.subject = "_INBOX.r.1";
  reply.payload = "answer";
  w.subscriber.publish(reply);
  EXPECT_EQ(w.subscriber.counters().replies_direct, 1u);
  EXPECT_FALSE(w.dropped.messages.empty());
  return w.dropped.messages.empty() ? WireMessage{} : decoded(w.dropped.messages.back());
}

// A reply straight back to a dialable requester goes over a link that proves who sent it,
// and is never passed on: it is not signed. The requester takes it on its link's proof; the
// same bytes arriving any other way (relayed, or from another node's link) are refused.
TEST(PolderCastSigned, AReplyStraightBackOverAProvenLinkNeedsNoSignature) {
  Pair w;
  const WireMessage sent = answered(w, "origin");
  EXPECT_TRUE(sent.publication.direct);
  EXPECT_EQ(w.subscriber.counters().batches_signed, 0u);
  EXPECT_EQ(w.subscriber.counters().unsigned_replies, 1u);
  std::vector<std::string> got;
  w.origin.on_deliver([&](const Publication& p) { got.push_back(p.payload); });
  w.origin.on_message(encoded(sent), 0);
  EXPECT_EQ(w.origin.counters().bad_signature, 1u);
  EXPECT_TRUE(got.empty());
  w.origin.on_message(encoded(sent), w.subscriber.id());
  EXPECT_EQ(got, std::vector<std::string>{"answer"});
}

// A reply to an undialable requester goes through its relay, whose link proves only the
// relay: it is signed once, as direct (the flag is signed too), and holds where it goes.
TEST(PolderCastSigned, AReplyStraightBackThroughARelayIsSignedOnceAndHolds) {
  Pair w;
  const WireMessage sent = answered(w, "web:page@origin");
  EXPECT_TRUE(sent.publication.direct);
  EXPECT_EQ(w.subscriber.counters().batches_signed, 1u);
  std::vector<std::string> got;
  w.origin.on_deliver([&](const Publication& p) { got.push_back(p.payload); });
  w.origin.on_message(encoded(sent), 0);
  EXPECT_EQ(got, std::vector<std::string>{"answer"});
  EXPECT_EQ(w.origin.counters().bad_signature, 0u);
}

}  // namespace
}  // namespace psycho::poldercast
