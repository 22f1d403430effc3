// Signed publications (docs/poldercast.md#signed-publications): the origin signs, every node
// checks before it delivers or forwards, so a relay can neither forge nor alter, and a
// forged copy cannot make the genuine one look like a duplicate.
#include <gtest/gtest.h>

#include "adapters/poldercast/node_key.hpp"
#include "adapters/poldercast/protocol/node.hpp"
#include "adapters/poldercast/protocol/topic.hpp"

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
  forged.publication.signature = forger->sign(signed_content(forged.publication));
  w.relay(forged);
  // Or its own key with the origin's trace: it is then signed by the forger, as it says.
  WireMessage own = forged;
  own.publication.signer = forger->public_key();
  own.publication.msg_id[1] ^= 1;
  own.publication.signature = forger->sign(signed_content(own.publication));
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

}  // namespace
}  // namespace psycho::poldercast
