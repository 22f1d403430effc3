// A hostile but admitted PolderCast node, for the security tests: it holds the overlay's
// secret and a key of its own, joins through a seed like any gateway (the production
// protocol library, transport and handshake), and then misbehaves in one way:
//
//   forge  publishes on SUBJECT under another node's key (VICTIM, hex), signed with its
//          own, and re-sends every publication it receives with the payload changed
//   flood  sends every peer it knows gossip requests and FIND_SUB walks as fast as its
//          links take them
//
//   psycho-pc-hostile MODE SEED SECRET_FILE SUBJECT SECONDS [VICTIM]
//
// Prints "joined" once it knows a peer, and its counts when done.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "adapters/multicast/group_keys.hpp"
#include "adapters/poldercast/node_key.hpp"
#include "adapters/poldercast/poldercast_config.hpp"
#include "adapters/poldercast/stream_transport.hpp"
#include "poldercast/node.hpp"
#include "poldercast/topic.hpp"

namespace {

using namespace psycho::poldercast;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

class Hostile final : public TransportEvents {
 public:
  Hostile(std::string mode, std::string subject, std::shared_ptr<NodeKey> key,
          AdmissionPolicy policy)
      : mode_(std::move(mode)),
        subject_(std::move(subject)),
        key_(std::move(key)),
        transport_(io_, options(key_, std::move(policy)), *this),
        timer_(io_) {}

  static StreamTransportOptions options(std::shared_ptr<NodeKey> key, AdmissionPolicy policy) {
    StreamTransportOptions o;
    o.security = std::make_shared<LinkSecurity>(std::move(key), std::move(policy));
    return o;
  }

  bool start(const std::string& seed) {
    auto port = transport_.listen("127.0.0.1", 0);
    if (!port) return false;
    node_ = std::make_unique<Node>(NodeOptions{}, key_->id(),
                                   "127.0.0.1:" + std::to_string(port.value()), transport_, 1);
    node_->set_crypto(key_.get());
    node_->set_seeds({seed});
    node_->subscribe(subject_);
    node_->on_deliver([this](const Publication& p) { alter(p); });
    return true;
  }

  void run(std::chrono::seconds duration, const PublicKey& victim) {
    victim_ = victim;
    until_ = Clock::now() + duration;
    tick();
    io_.run();
    std::printf("sent %llu\n", static_cast<unsigned long long>(sent_));
  }

  void on_message(std::string_view bytes, std::uint64_t sender) override {
    node_->on_message(bytes, sender);
  }
  void on_unreachable(const std::string& address, std::uint64_t peer) override {
    node_->on_unreachable(address, peer);
  }

 private:
  void tick() {
    if (Clock::now() >= until_) {
      transport_.close();
      return;
    }
    node_->tick(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count());
    if (!joined_ && !node_->cyclon().empty()) {
      joined_ = true;
      std::printf("joined\n");
      std::fflush(stdout);
    }
    if (joined_) mode_ == "flood" ? flood() : forge();
    timer_.expires_after(std::chrono::milliseconds(mode_ == "flood" ? 5 : 100));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  }

  Profile self() const { return {node_->id(), node_->address(), false, {{topic_id(subject_), 0}}}; }

  // Every peer the node knows, once each.
  template <class F>
  void each_peer(F f) {
    for (const auto* view : {&node_->cyclon(), &node_->vicinity()}) {
      for (const auto& e : view->entries()) f(*e.profile);
    }
    for (const auto& [id, peer] : node_->rings().peers()) {
      if (peer.profile) f(*peer.profile);
    }
  }

  void send_all(const WireMessage& m) {
    auto bytes = std::make_shared<std::string>();
    encode(m, *bytes);
    each_peer([&](const Profile& p) { sent_ += transport_.send(p.address, p.node_id, bytes); });
  }

  // A publication in the victim's name: its key, our signature.
  void forge() {
    WireMessage m;
    m.type = Type::publish;
    m.sender = self();
    Publication& p = m.publication;
    for (auto& b : p.msg_id) b = static_cast<std::uint8_t>(counter_ * 131 + (&b - p.msg_id.data()));
    p.subject = subject_;
    p.topic = topic_id(subject_);
    p.payload = "forged-" + std::to_string(counter_++);
    p.origin = 1;
    p.signer = victim_;
    p.signature = key_->sign(signed_content(p));
    send_all(m);
  }

  // A genuine publication, changed on its way on (its id changed too, or the receivers that
  // saw the genuine copy would drop it as a duplicate before checking).
  void alter(const Publication& genuine) {
    if (mode_ != "forge") return;
    WireMessage m;
    m.type = Type::publish;
    m.sender = self();
    m.publication = genuine;
    m.publication.payload = "altered-" + genuine.payload;
    m.publication.msg_id[0] ^= 0x5a;
    m.publication.overlay_hops = static_cast<std::uint16_t>(genuine.overlay_hops + 1);
    send_all(m);
  }

  // Gossip requests full of made-up nodes, and walks, to everyone, every few milliseconds.
  void flood() {
    WireMessage gossip;
    gossip.type = Type::cyclon_request;
    gossip.sender = self();
    for (std::uint64_t i = 0; i < 64; ++i) {
      gossip.entries.push_back({{0x1000 + counter_ * 64 + i, "10.255.0.1:1", false, {}}, 0});
    }
    WireMessage walk;
    walk.type = Type::find_subscriber;
    walk.sender = self();
    walk.topic = topic_id("nobody." + std::to_string(counter_));
    walk.ttl = 32;
    walk.entries = {{self(), 0}};
    ++counter_;
    for (int i = 0; i < 20; ++i) {
      send_all(gossip);
      send_all(walk);
    }
  }

  std::string mode_, subject_;
  std::shared_ptr<NodeKey> key_;
  asio::io_context io_;
  StreamTransport transport_;
  asio::steady_timer timer_;
  std::unique_ptr<Node> node_;
  PublicKey victim_{};
  Clock::time_point until_;
  bool joined_ = false;
  std::uint64_t counter_ = 0, sent_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s forge|flood SEED SECRET_FILE SUBJECT SECONDS [VICTIM]\n",
                 argv[0]);
    return 2;
  }
  auto keys = psycho::multicast::read_group_keys(argv[3]);
  if (!keys) {
    std::fprintf(stderr, "%s\n", keys.error().c_str());
    return 2;
  }
  AdmissionPolicy policy;
  for (const auto& k : keys.value()) policy.secrets.emplace_back(k.id, overlay_psk(k.secret));
  PublicKey victim{};
  std::string raw;
  if (argc > 6 && from_hex(argv[6], raw) && raw.size() == victim.size()) {
    std::copy(raw.begin(), raw.end(), victim.begin());
  }
  Hostile hostile(argv[1], argv[4], NodeKey::generate(), policy);
  if (!hostile.start(argv[2])) return 1;
  hostile.run(std::chrono::seconds(std::stoi(argv[5])), victim);
  return 0;
}
