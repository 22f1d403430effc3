// What the PolderCast overlay needs from a network, and nothing more: send one whole wire
// message to a peer address, and hear whole messages. Addresses are opaque strings
// ("host:port" for the stream transport, a signalling handle for a future WebRTC transport),
// so the overlay (node.hpp) never assumes sockets. The simulator plugs in an in-memory
// transport behind the same interface.
//
// Threading: a transport and the overlay node it serves run on one thread (the adapter's
// event loop, or the simulator's); neither method may block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace psycho::poldercast {

// One encoded wire message, shared by every peer it is sent to: a fan-out of F copies costs
// one buffer, not F.
using SharedBytes = std::shared_ptr<const std::string>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Queues `message` for `address`, where the overlay expects node `peer` (0: unknown, as a
  // seed before its first answer). A transport that authenticates its links delivers it only
  // to a peer that proved to be `peer`: a link that authenticated another node refuses it and
  // reports on_unreachable(address, peer), so a node gossiped under an id it cannot prove
  // never gets its messages. Returns false when it was dropped at once (a full queue, an
  // address this transport cannot reach, the wrong peer); the transport counts why.
  virtual bool send(const std::string& address, std::uint64_t peer, const SharedBytes& message) = 0;
  // Bytes still waiting to go to `address`. A peer behind a backlog answers late because
  // our own requests are queued behind data, not because it died.
  virtual std::size_t backlog(const std::string& /*address*/) const { return 0; }
  // Whether the link to `address` is backed up and still moving: what is published for its
  // peer should wait until it catches up (the owner's flow control). False from a transport
  // without such marks.
  virtual bool holds_up(const std::string& /*address*/) const { return false; }
  // Node `peer` flooded us: cut its links and refuse it for a while. A transport that cannot
  // tell its peers apart (the simulator) does nothing.
  virtual void disconnect(std::uint64_t /*peer*/) {}
};

// What a transport reports to the overlay.
class TransportEvents {
 public:
  virtual ~TransportEvents() = default;
  // One whole message arrived (not yet decoded: the overlay trusts nothing). `sender` is the
  // node id the link authenticated, which the message must name as its sender; 0 from a
  // transport that does not authenticate (the simulator, a plaintext overlay).
  virtual void on_message(std::string_view message, std::uint64_t sender) = 0;
  // Sending to `address` failed (refused, timed out, reset): the overlay treats the peers
  // there as gone until it hears from them again. With `peer` non-zero only that node is
  // gone: the link to the address proved to be another node.
  virtual void on_unreachable(const std::string& address, std::uint64_t peer) = 0;
};

}  // namespace psycho::poldercast
