// libFuzzer target for what any peer on the PolderCast overlay can send.
//  1. The wire decoder and the relay envelope's never crash or read out of bounds (ASan),
//     and both encodings are canonical: whatever decodes re-encodes to the same bytes.
//  2. A node fed every input, one after another (its state carried across inputs, with a
//     gossip cycle every 64), never crashes, and its views, rings and caches stay within
//     their bounds however hostile the sequence.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "poldercast/node.hpp"
#include "poldercast/relay.hpp"
#include "poldercast/wire.hpp"

namespace {

using namespace psycho::poldercast;

class NullTransport final : public Transport {
 public:
  bool send(const std::string&, std::uint64_t, const SharedBytes&) override { return true; }
};

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "poldercast_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_publication = 64 * 1024;  // small, so the bounds are reached
  WireMessage m;
  if (decode(input, limits, m) == DecodeError::none) {
    std::string again;
    encode(m, again);
    check(again == input, "a decoded message re-encodes differently");
  }
  std::string_view destination, message;
  if (decode_relay(input, limits, destination, message) == DecodeError::none) {
    std::string again;
    encode_relay(destination, message, again);
    check(again == input, "a decoded relay envelope re-encodes differently");
  }

  static NullTransport transport;
  static const NodeOptions options;
  static Node& node = *[] {
    static Node n(options, 0x5eed, "fuzz:1", transport, 1);
    n.subscribe("a");
    n.subscribe("orders.new");
    return &n;
  }();
  static std::int64_t now = 0;
  static std::uint64_t inputs = 0;
  node.on_message(input);
  if (++inputs % 64 == 0) node.tick(now += 1000);
  check(node.cyclon().size() <= options.cyclon_view, "Cyclon view above its size");
  check(node.vicinity().size() <= options.vicinity_view, "Vicinity view above its size");
  check(node.rings().peers().size() <= 4 * options.ring_slots, "more ring peers than slots");
  check(node.publish_cache_size() <= options.publish_cache_topics, "publish cache unbounded");
  check(node.seen_size() <= options.seen_capacity, "seen-set unbounded");
  return 0;
}
