// The PolderCast node (poldercast, the very code the gateways run) for
// JavaScript, through embind. JavaScript supplies the network: an object with
// send(address, bytes, peer) -> boolean and backlog(address) -> number, called synchronously
// from inside the node (so it must not call back into the node), and it feeds what arrives to
// onMessage() and what it lost to onUnreachable(). Time moves only when tick() is called.
// `peer` is the node id (16 hex digits, "" when unknown) the node expects at the address, as
// Transport::send() names it.
//
// The node has no Crypto (protocol/crypto.hpp): a page neither signs nor checks
// publications, and its links prove no identity, so every message is handed on with sender 0
// (docs/poldercast.md, "Browser peers and admission").
//
// Bytes cross as Uint8Array copies: a view into the module's memory would change under the
// caller as soon as the node allocates.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <charconv>
#include <cstdint>
#include <string>

#include "poldercast/node.hpp"
#include "poldercast/relay.hpp"

namespace psycho::poldercast {
namespace {

using emscripten::val;

val to_bytes(std::string_view s) {
  const val view(
      emscripten::typed_memory_view(s.size(), reinterpret_cast<const unsigned char*>(s.data())));
  return val::global("Uint8Array").new_(view);  // a copy, owned by JavaScript
}

// A Uint8Array (or anything with length and set-able elements) into a string of bytes.
std::string from_bytes(const val& bytes) {
  if (bytes.isUndefined() || bytes.isNull()) return {};
  std::string out(bytes["length"].as<std::size_t>(), '\0');
  val view(emscripten::typed_memory_view(out.size(), reinterpret_cast<unsigned char*>(out.data())));
  view.call<void>("set", bytes);
  return out;
}

std::string hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kDigits[v & 0xF];
  return s;
}

// 0 for anything but hex digits: JavaScript's mistakes must not abort the module.
std::uint64_t from_hex(const std::string& s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return ec == std::errc() && end == s.data() + s.size() ? v : 0;
}

class JsTransport final : public Transport {
 public:
  explicit JsTransport(val js) : js_(std::move(js)) {}
  bool send(const std::string& address, std::uint64_t peer, const SharedBytes& message) override {
    return js_.call<bool>("send", address, to_bytes(*message),
                          peer == 0 ? std::string() : hex(peer));
  }
  std::size_t backlog(const std::string& address) const override {
    const double bytes = js_.call<double>("backlog", address);
    return bytes > 0 ? static_cast<std::size_t>(bytes) : 0;
  }

 private:
  val js_;
};

// options: {id (16 hex digits), address, seed (number), maxPublication (bytes, optional)}.
class WasmNode {
 public:
  WasmNode(val options, val transport, val on_deliver)
      : transport_(std::move(transport)),
        on_deliver_(std::move(on_deliver)),
        node_(node_options(options), from_hex(options["id"].as<std::string>()),
              options["address"].as<std::string>(), transport_,
              static_cast<std::uint64_t>(options["seed"].as<double>())) {
    node_.on_deliver([this](const Publication& p) { deliver(p); });
  }

  std::string id() const { return hex(node_.id()); }
  std::string address() const { return node_.address(); }
  void set_seeds(val seeds) { node_.set_seeds(emscripten::vecFromJSArray<std::string>(seeds)); }
  bool subscribe(const std::string& subject) { return node_.subscribe(subject); }
  bool unsubscribe(const std::string& subject) { return node_.unsubscribe(subject); }

  // The gateway trace of a publication that starts here: this node is its origin.
  void publish(const std::string& subject, const std::string& reply, val headers, val payload) {
    Publication p;
    p.subject = subject;
    p.reply = reply;
    p.headers = from_bytes(headers);
    p.payload = from_bytes(payload);
    p.origin = node_.id();
    p.seq = ++seq_;
    node_.publish(std::move(p));
  }

  // Sender 0: no link of a page authenticates its peer.
  void on_message(val bytes) { node_.on_message(from_bytes(bytes), 0); }
  // `peer` "": every node at the address is gone; 16 hex digits: only that one.
  void on_unreachable(const std::string& address, const std::string& peer) {
    node_.on_unreachable(address, peer.empty() ? 0 : from_hex(peer));
  }
  void tick(double now_ms) { node_.tick(static_cast<std::int64_t>(now_ms)); }
  void leave() { node_.leave(); }
  val stats() const;

 private:
  static NodeOptions node_options(const val& options) {
    NodeOptions o;
    if (const val max = options["maxPublication"]; !max.isUndefined()) {
      o.max_publication = max.as<std::size_t>();
    }
    return o;
  }

  void deliver(const Publication& p) {
    val m = val::object();
    m.set("subject", p.subject);
    m.set("reply", p.reply);
    m.set("headers", to_bytes(p.headers));
    m.set("payload", to_bytes(p.payload));
    m.set("origin", hex(p.origin));
    m.set("seq", static_cast<double>(p.seq));
    m.set("hops", p.overlay_hops);
    on_deliver_(m);
  }

  JsTransport transport_;
  val on_deliver_;
  Node node_;
  std::uint64_t seq_ = 0;
};

val WasmNode::stats() const {
  const NodeCounters& c = node_.counters();
  val s = val::object();
  s.set("cycle", static_cast<double>(node_.cycle()));
  s.set("cyclon", node_.cyclon().size());
  s.set("vicinity", node_.vicinity().size());
  s.set("rings", node_.rings().rings().size());
  std::size_t complete = 0;
  for (const auto& [topic, ring] : node_.rings().rings()) {
    if (!ring.succ.empty() && !ring.pred.empty()) ++complete;
  }
  s.set("ringsComplete", complete);
  s.set("published", static_cast<double>(c.published));
  s.set("forwarded", static_cast<double>(c.forwarded));
  s.set("delivered", static_cast<double>(c.delivered));
  s.set("duplicates", static_cast<double>(c.duplicates));
  s.set("noSubscriber", static_cast<double>(c.no_subscriber));
  s.set("sendFailed", static_cast<double>(c.send_failed));
  s.set("peersDead", static_cast<double>(c.peers_dead));
  std::uint64_t malformed = 0;
  for (auto n : c.decode_errors) malformed += n;
  s.set("malformed", static_cast<double>(malformed));
  return s;
}

// The relay envelope (relay.hpp), for the JavaScript transport.
val encode_relay_js(const std::string& destination, val message) {
  std::string out;
  encode_relay(destination, from_bytes(message), out);
  return to_bytes(out);
}

// A signal (wire type 14) from `address`: bytes for the peer's transport, not its node. The
// sender's profile lists no topics and is flagged partial, so it says nothing about rings.
val encode_signal_js(const std::string& id, const std::string& address, val data) {
  WireMessage m;
  m.type = Type::signal;
  m.sender = {from_hex(id), address, true, {}};
  m.data = from_bytes(data);
  std::string out;
  encode(m, out);
  return to_bytes(out);
}

// {from, data} when `bytes` is a well-formed signal; null otherwise.
val decode_signal_js(val bytes) {
  WireMessage m;
  if (decode(from_bytes(bytes), Limits{}, m) != DecodeError::none || m.type != Type::signal) {
    return val::null();
  }
  val out = val::object();
  out.set("from", m.sender.address);
  out.set("data", to_bytes(m.data));
  return out;
}

// {destination, message, sender} when `bytes` is a relay envelope (relay.hpp) whose message
// decodes too, `sender` being the address that speaks in it; null otherwise. For a page that
// passes envelopes on for the pages that joined through it (docs/poldercast.md): the message
// must come from the data channel's own peer, as a gateway checks its browsers.
val decode_relay_js(val bytes, double max_publication) {
  const std::string data = from_bytes(bytes);
  Limits limits;
  if (max_publication > 0) limits.max_publication = static_cast<std::size_t>(max_publication);
  std::string_view destination, message;
  WireMessage m;
  if (decode_relay(data, limits, destination, message) != DecodeError::none ||
      decode(message, limits, m) != DecodeError::none) {
    return val::null();
  }
  val out = val::object();
  out.set("destination", std::string(destination));
  out.set("message", to_bytes(message));
  out.set("sender", m.sender.address);
  return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(poldercast) {
  emscripten::class_<WasmNode>("Node")
      .constructor<val, val, val>()
      .function("id", &WasmNode::id)
      .function("address", &WasmNode::address)
      .function("setSeeds", &WasmNode::set_seeds)
      .function("subscribe", &WasmNode::subscribe)
      .function("unsubscribe", &WasmNode::unsubscribe)
      .function("publish", &WasmNode::publish)
      .function("onMessage", &WasmNode::on_message)
      .function("onUnreachable", &WasmNode::on_unreachable)
      .function("tick", &WasmNode::tick)
      .function("leave", &WasmNode::leave)
      .function("stats", &WasmNode::stats);
  emscripten::function("encodeRelay", &encode_relay_js);
  emscripten::function("encodeSignal", &encode_signal_js);
  emscripten::function("decodeSignal", &decode_signal_js);
  emscripten::function("decodeRelay", &decode_relay_js);
}

}  // namespace psycho::poldercast
