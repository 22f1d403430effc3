// Overlay links that browsers open to this gateway over WebSocket (`poldercast.websocket`;
// docs/poldercast.md, "Browser nodes and undialable peers"). A browser cannot be dialled, so
// its link carries both ways: what it sends arrives here, and whatever the gateway (or a
// gateway relaying through this one) sends to its address goes back over the same link.
//
// On open the gateway sends one text message, {"poldercast":1,"relay":"<its address>"}; the
// browser then names itself "web:<id>@<that address>". Every later message is binary: one
// wire message, or a relay envelope (relay.hpp) for a node the browser cannot reach itself.
// Each is checked by the wire decoder first, and its sender must be the link's own
// undialable address and node id (the first valid message binds both): a page can speak
// only for itself, and a flooding page is cut off by its node id (disconnect).
// Every queue is bounded and every drop counted.
//
// Threading: everything runs on the io_context's thread (the adapter's event loop), like
// StreamTransport; no callback follows close().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/adapter.hpp"
#include "core/result.hpp"
#include "poldercast/transport.hpp"
#include "poldercast/wire.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace psycho::poldercast {

struct WebSocketLinkOptions {
  Limits limits;                           // what a message (and an envelope's) may hold
  std::size_t max_queue_bytes = 8 << 20;   // per link; beyond, a message is dropped
  std::size_t max_links = 1024;            // beyond, a new connection is closed at once
  std::size_t max_links_per_address = 16;  // the same, from one IP address
  // A link that carried nothing for this long is closed (browser nodes gossip every cycle).
  std::chrono::milliseconds idle_timeout{30000};
  // A page cut off for flooding (disconnect) is refused this long under its node id.
  std::chrono::milliseconds ban_duration{60000};
};

struct WebSocketLinkCounters {
  std::uint64_t accepted = 0, refused_no_slot = 0;
  std::uint64_t refused_per_address = 0;  // beyond max_links_per_address
  std::uint64_t messages_in = 0, messages_out = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t malformed = 0;       // refused by the decoder, or not a binary message
  std::uint64_t foreign_sender = 0;  // a sender that is not the link's own address and node id
  std::uint64_t banned = 0;          // links cut: their page was cut off for flooding
  std::uint64_t queue_full = 0;      // dropped: the link's queue was full
  std::uint64_t no_link = 0;         // dropped: for a browser with no link here
  std::uint64_t link_closed = 0;     // dropped: queued on a link that closed (a write error,
                                     // taken over by the browser's newer link, idle, cut)
  std::size_t open = 0;
};

// What the links hand on, on the io_context's thread.
class WebSocketLinkEvents {
 public:
  virtual ~WebSocketLinkEvents() = default;
  // A message for this gateway's node from a browser, whose link is bound to `node_id`: the
  // link carries no other node's messages, so the node may count it as that page's.
  virtual void on_link_message(std::string_view message, std::uint64_t node_id) = 0;
  // A message the browser at `from` asks this gateway to pass on to `destination`.
  virtual void on_link_relay(const std::string& destination, std::string_view message) = 0;
  // The link of `address` closed: the browser is gone (or moved to another link).
  virtual void on_link_closed(const std::string& address) = 0;
};

namespace detail {
class LinkCore;
}  // namespace detail

class WebSocketLinks {
 public:
  WebSocketLinks(boost::asio::io_context& io, WebSocketLinkOptions options,
                 WebSocketLinkEvents& events);
  ~WebSocketLinks();
  WebSocketLinks(const WebSocketLinks&) = delete;
  WebSocketLinks& operator=(const WebSocketLinks&) = delete;

  // Binds and listens (port 0: an ephemeral one); returns the bound port. `relay` is this
  // gateway's overlay address: browsers name themselves "web:<id>@<relay>".
  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port, std::string relay);

  // Whether a link is bound to `address`.
  bool linked(const std::string& address) const;
  // Queues `message` on the link bound to `address`; false (counted) when there is none or
  // its queue is full.
  bool send(const std::string& address, const SharedBytes& message);
  std::size_t backlog(const std::string& address) const;
  // Cuts the links of the page with `node_id` (a flood) and refuses it for ban_duration.
  void disconnect(std::uint64_t node_id);
  void close();
  WebSocketLinkCounters counters() const;

 private:
  std::shared_ptr<detail::LinkCore> core_;
};

}  // namespace psycho::poldercast
