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
  // Whether `peer` is cut off for flooding (forgetting bans that ran out).
  bool banned(std::uint64_t peer) {
    auto it = banned_.find(peer);
    if (it == banned_.end()) return false;
    if (Clock::now() < it->second) return true;
    banned_.erase(it);
    return false;
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
  std::size_t backed_up_links_ = 0;  // outbound links whose backed_up() is true
  std::unordered_map<std::string, std::shared_ptr<Outbound>> outbound_;
  std::unordered_set<std::shared_ptr<Inbound>> inbound_;
  std::shared_ptr<LinkListener> listener_;  // once listening
  // Nodes cut off for flooding, until when; at most kMaxBanned.
  std::unordered_map<std::uint64_t, Clock::time_point> banned_;

 private:
  void admit(tcp::socket socket, const asio::ip::address& remote);

  bool closed_ = false;
};

}  // namespace detail
}  // namespace psycho::poldercast
