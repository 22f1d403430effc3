// The PolderCast overlay over TCP: each message is one frame (a 4-byte big-endian length,
// then the bytes). Outgoing, one cached connection per address string carries frames one
// way; the peer answers over its own connection to the address the message names, so
// inbound connections are only read. Every queue, buffer and connection count is bounded,
// and every drop is counted.
//
// Threading: everything runs on the io_context's thread, which must be the only one
// running it; listen(), send(), close() and counters() are called there too. No locks.
//
// Lifetimes: close() (and the destructor) close every socket at once; no TransportEvents
// callback runs afterwards, even from handlers that were already queued. The io_context
// must outlive the transport.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "adapters/poldercast/link_security.hpp"
#include "core/result.hpp"
#include "poldercast/transport.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace psycho::poldercast {

struct StreamTransportOptions {
  // A larger incoming length prefix closes that connection (counted `dropped_oversized`);
  // send() refuses larger messages the same way, as the peer would drop them.
  std::size_t max_frame = (1 << 20) + (128 << 10);
  // Bytes (frames with their prefixes) queued or being written, per outgoing connection.
  // A message that would go beyond is dropped (`dropped_queue_full`).
  std::size_t max_queue_bytes = 8 << 20;
  // Past this many of those bytes a link is backed up (backed_up()) until its writes bring
  // it down to half of it. At most half of max_queue_bytes; 0: half of it. Below the
  // maximum, a flood is slowed while what it queued still fits in the caches (the kernel's
  // send buffer, not this queue, covers a long path's bandwidth-delay product), and the
  // rest of the queue takes what arrives in the meantime, such as copies relayed for others.
  std::size_t backed_up_at = 0;
  // backed_up_at within its bounds: where a link is backed up.
  std::size_t high_mark() const noexcept {
    const std::size_t half = max_queue_bytes / 2;
    return backed_up_at == 0 ? half : std::min(backed_up_at, half);
  }
  // A backed-up link whose writes move no byte for a fifth of this is stuck: its peer stopped
  // reading, and it no longer counts in backed_up(), so whoever waits (the adapter's held
  // publications) goes on without it. For all of it: cut (`dropped_stalled`), and its
  // address rests as long (a send there is dropped, counted the same). Zero: only
  // idle_timeout applies.
  std::chrono::milliseconds stall_timeout{5000};
  // Inbound and outbound each. Beyond, an accepted connection is closed at once and send()
  // to a new address is refused (`dropped_no_connection_slot`).
  std::size_t max_connections = 1024;
  // Inbound connections from one remote address (IP): one host cannot take every slot.
  // Beyond, an accepted connection is closed at once (`refused_per_address`). Several
  // gateways on one host each take one slot of their host's.
  std::size_t max_connections_per_address = 16;
  // Resolving and connecting together. Zero: no limit.
  std::chrono::milliseconds connect_timeout{2000};
  // A connection that carried nothing for this long is closed (silently when nothing was
  // pending); a write that moves no byte for this long fails, while one that keeps moving
  // (a large batch to a slow reader) keeps the connection busy. Zero: never.
  std::chrono::milliseconds idle_timeout{30000};
  // An incoming frame must arrive whole within this long of its first byte, however
  // slowly its bytes keep coming; otherwise the connection is closed
  // (`dropped_frame_timeout`). Zero: never.
  std::chrono::milliseconds frame_timeout{10000};
  // Authenticated, encrypted links (link_security.hpp); null: plaintext, which neither
  // proves nor hides anything (an explicit choice, docs/poldercast.md#admission).
  std::shared_ptr<const LinkSecurity> security;
  // A link must finish its handshake within this long of connecting, or it is refused.
  std::chrono::milliseconds handshake_timeout{5000};
  // A node cut off for flooding (disconnect()) is refused links and messages this long.
  std::chrono::milliseconds ban_duration{60000};
};

struct StreamTransportCounters {
  std::uint64_t frames_sent = 0, frames_received = 0;
  std::uint64_t bytes_sent = 0, bytes_received = 0;  // on the wire, prefixes included
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_oversized = 0;  // frames refused by send() + connections closed
  std::uint64_t dropped_no_connection_slot = 0;
  std::uint64_t dropped_bad_address = 0;    // send() to an address that is not host:port
  std::uint64_t dropped_unreachable = 0;    // queued messages lost with a failed connection
  std::uint64_t connect_failures = 0;       // resolve, connect or connect timeout
  std::uint64_t refused_per_address = 0;    // inbound beyond max_connections_per_address
  std::uint64_t dropped_frame_timeout = 0;  // inbound connections cut mid-frame
  std::uint64_t dropped_stalled = 0;        // frames lost to a stalled link, or while it rests
  std::uint64_t read_pauses = 0;  // inbound reads put off (LinkEvents::receiving_congested)
  std::uint64_t links_stuck = 0;  // backed-up links whose peer took nothing for a while
  std::uint64_t handshakes = 0;   // links that finished their handshake, both ways
  // Links refused by reason (link_security.hpp); `wrong_peer` counts messages instead: those
  // not sent because the link proved to be another node than the one they were for.
  std::array<std::uint64_t, static_cast<std::size_t>(Refusal::count)> refused{};
  std::size_t connections_in = 0, connections_out = 0;
  std::size_t receive_buffer_bytes = 0;  // held by the inbound connections' read buffers
};

// What the owner of a transport hears about its links' queues (flow control), on the
// io_context's thread. It may send() from the callback.
class LinkEvents {
 public:
  virtual ~LinkEvents() = default;
  // A write completed: some link's backlog fell, and backed_up() may have changed.
  virtual void on_links_moved() = 0;
  // Before each read of an inbound link from `peer` (0: not known, without security):
  // whether what the links deliver is piling up in the gateway, or could not go on (a
  // crowded link it would be relayed to). While it is, the link waits before its next read
  // (at most 50 ms at a time), so TCP slows the sending gateway down.
  virtual bool receiving_congested(std::uint64_t /*peer*/) { return false; }
};

namespace detail {
class StreamCore;
}  // namespace detail

class StreamTransport final : public Transport {
 public:
  StreamTransport(boost::asio::io_context& io, StreamTransportOptions options,
                  TransportEvents& events, LinkEvents* links = nullptr);
  ~StreamTransport() override;
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  // Binds and listens (port 0: an ephemeral one); returns the bound port. `host` is an
  // address ("127.0.0.1", "::", "[::1]") or a name resolved here, blocking: a start-up path.
  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);

  // `address` is "host:port" ("[v6]:port"); the host may be a name, resolved asynchronously.
  // The first send() to an address starts connecting; messages queue meanwhile. When the
  // connection fails (refused, timed out, reset), on_unreachable(address) is called once,
  // its queued messages are dropped, and the next send() tries again. Returns false when
  // the message was dropped at once: bad address, too large, queue full, no connection
  // slot, after close(), or a null or empty message (a caller bug, not counted).
  // With security, a message for `peer` (non-zero) goes only over a link that proved to be
  // that node; otherwise it is refused (`wrong_peer`) and on_unreachable(address, peer) follows.
  bool send(const std::string& address, std::uint64_t peer, const SharedBytes& message) override;
  // Closes every link that proved to be `peer`, and refuses it (handshakes, and messages
  // for it) for ban_duration. Without security, nothing: no link knows its peer.
  void disconnect(std::uint64_t peer) override;
  // Bytes queued or being written to `address` (0 without a connection).
  std::size_t backlog(const std::string& address) const override;
  // Whether any outgoing link is backed up: past backed_up_at, not yet back down to half of
  // it, and moving. A backed-up link still for a fifth of stall_timeout is stuck
  // (its peer stopped reading) and does not count here until a byte moves again.
  bool backed_up() const;
  // Whether the link to `address` is one of those: backed up and not stuck.
  bool holds_up(const std::string& address) const override;
  // Whether one of those has more than `bytes` queued, leaving out links that proved to be
  // `except` (when not 0).
  bool holds_up_past(std::size_t bytes, std::uint64_t except = 0) const;

  // Turns on authenticated, encrypted links (StreamTransportOptions::security) once the node
  // key, which may be named after the bound port, is known: before the io_context first runs.
  void secure(std::shared_ptr<const LinkSecurity> security);

  // Closes the listener and every connection, dropping what is queued. Final.
  void close();

  StreamTransportCounters counters() const;

 private:
  // Shared so the accept handler can hold it weakly: it may run after the transport died.
  std::shared_ptr<detail::StreamCore> core_;
};

}  // namespace psycho::poldercast
