// The private parts of the TCP stream transport (stream_transport.hpp): the state its
// connections share, and the constants they agree on. Included only by the transport's own
// files (stream_transport.cpp, stream_inbound.*, stream_outbound.*): it brings in Asio.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "adapters/poldercast/expiring_set.hpp"
#include "adapters/poldercast/frame_buffer.hpp"
#include "adapters/poldercast/stream_transport.hpp"

namespace psycho::poldercast {

class LinkListener;

namespace detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// The length prefix of every frame.
constexpr std::size_t kHeader = FrameBuffer::kHeader;

// How many addresses rest at once (kMaxBanned: expiring_set.hpp).
constexpr std::size_t kMaxResting = 1024;

// Whether a timeout option is on (0 turns it off).
inline bool enabled(std::chrono::milliseconds timeout) { return timeout.count() > 0; }

class Inbound;
class Outbound;

// What the connections share. A connection's pointer to it is cleared when the connection
// is forgotten or the transport closes, and every handler checks it first: that is how no
// callback follows close(), and why handlers may outlive the core.
class StreamCore : public std::enable_shared_from_this<StreamCore> {
 public:
  StreamCore(asio::io_context& io, StreamTransportOptions options, TransportEvents& events,
             LinkEvents* links)
      : io_(io), options_(options), events_(events), links_(links) {}

  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  bool send(const std::string& address, std::uint64_t peer, const SharedBytes& message);
  void close();
  bool closed() const { return closed_; }
  void disconnect(std::uint64_t peer);
  // Whether `peer` is cut off for flooding.
  bool banned(std::uint64_t peer) { return banned_.contains(peer); }
  // A link to `address` was cut for stalling: its peer stopped reading. For stall_timeout
  // nothing dials it again, so what was held up for it (and goes on to the others at once)
  // does not back a new link up behind the same stopped peer; the node has meanwhile
  // counted the peer as dead and ignores gossip about it.
  void rest(const std::string& address) {
    resting_.add(address, Clock::now() + options_.stall_timeout);
  }
  void refuse(Refusal reason) { ++counters_.refused[static_cast<std::size_t>(reason)]; }
  // The frame limit on a link: before its handshake, a handshake message's.
  std::size_t first_frame_limit() const {
    return options_.security ? kMaxHandshakeMessage : options_.max_frame;
  }
  void forget(Outbound& c);
  void forget(Inbound& c);

  asio::io_context& io_;
  StreamTransportOptions options_;  // security is set once, before any connection
  TransportEvents& events_;
  LinkEvents* const links_;  // may be null
  StreamTransportCounters counters_;
  std::size_t backed_up_links_ = 0;  // outbound links that hold up (backed up, not stuck)
  std::unordered_map<std::string, std::shared_ptr<Outbound>> outbound_;
  std::unordered_set<std::shared_ptr<Inbound>> inbound_;
  std::shared_ptr<LinkListener> listener_;         // once listening
  ExpiringSet<std::uint64_t> banned_{kMaxBanned};  // nodes cut off for flooding
  ExpiringSet<std::string> resting_{kMaxResting};  // addresses whose link stalled

 private:
  void admit(tcp::socket socket, const asio::ip::address& remote);

  bool closed_ = false;
};

}  // namespace detail
}  // namespace psycho::poldercast
