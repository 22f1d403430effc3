// The gateway's Transport when browsers may link to it (docs/poldercast.md, "Browser nodes
// and undialable peers"): it sends to a browser over the browser's own link when it holds
// one, to any other undialable node through that node's relay (a relay envelope over the
// stream transport), and to gateways as before. It opens the envelopes that arrive: one
// from a gateway for a browser linked here goes on over the browser's link; one from a
// browser for a node it cannot reach itself goes on from here. A gateway never dials a
// browser.
//
// Threading: the adapter's event loop, like the transports it combines.
#pragma once

#include <string>

#include "adapters/poldercast/stream_transport.hpp"
#include "adapters/poldercast/websocket_links.hpp"
#include "poldercast/transport.hpp"
#include "poldercast/wire.hpp"

namespace psycho::poldercast {

struct RelayCounters {
  std::uint64_t relayed = 0;    // envelopes sent on towards a relay, or opened for a link
  std::uint64_t malformed = 0;  // envelopes from gateways the decoder refused
  std::uint64_t not_here = 0;   // envelopes for an undialable node that is not linked here
};

class RelayingTransport final : public Transport,
                                public TransportEvents,
                                public WebSocketLinkEvents {
 public:
  // `overlay` hears the messages for this gateway's node, and which addresses failed.
  RelayingTransport(TransportEvents& overlay, Limits limits) : overlay_(overlay), limits_(limits) {}

  // Before any message moves: the links (null: browsers cannot link here) and this
  // gateway's own overlay address (the relay its browsers name).
  void attach(StreamTransport& stream, WebSocketLinks* links, std::string self) {
    stream_ = &stream;
    links_ = links;
    self_ = std::move(self);
  }

  // Transport. `peer` goes with a message only to the node's own link: an envelope goes to a
  // relay, which is not `peer`, and a browser's link proves no id.
  bool send(const std::string& address, std::uint64_t peer, const SharedBytes& message) override;
  std::size_t backlog(const std::string& address) const override;
  bool holds_up(const std::string& address) const override;
  // Gateways' links only: a browser's link proves no id, so (like a plaintext stream link)
  // it is not cut by one; it is cut when the page breaks the protocol.
  void disconnect(std::uint64_t peer) override;

  // TransportEvents, from the stream transport (other gateways).
  void on_message(std::string_view bytes, std::uint64_t sender) override;
  void on_unreachable(const std::string& address, std::uint64_t peer) override {
    overlay_.on_unreachable(address, peer);
  }

  // WebSocketLinkEvents, from browser links (already checked by the decoder). A browser's
  // link authenticates nobody: its messages go on with sender 0.
  void on_link_message(std::string_view message, std::uint64_t node_id) override {
    overlay_.on_message(message, node_id);
  }
  void on_link_relay(const std::string& destination, std::string_view message) override;
  void on_link_closed(const std::string& address) override { overlay_.on_unreachable(address, 0); }

  // Relay and browser-link figures for /metrics: drops as psycho_adapter_dropped_total
  // {reason="relay_*|browser_*"}, and psycho_poldercast_relayed_total, browser_links,
  // browser_messages_total.
  void report(AdapterStatus& st) const;

 private:
  TransportEvents& overlay_;
  const Limits limits_;
  StreamTransport* stream_ = nullptr;
  WebSocketLinks* links_ = nullptr;
  std::string self_;
  RelayCounters counters_;
};

}  // namespace psycho::poldercast
