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
  // Queues `message` for `address`. Returns false when it was dropped at once (a full queue,
  // an address this transport cannot reach); the transport counts why.
  virtual bool send(const std::string& address, const SharedBytes& message) = 0;
  // Bytes still waiting to go to `address`. A peer behind a backlog answers late because
  // our own requests are queued behind data, not because it died.
  virtual std::size_t backlog(const std::string& /*address*/) const { return 0; }
};

// What a transport reports to the overlay.
class TransportEvents {
 public:
  virtual ~TransportEvents() = default;
  // One whole message arrived (not yet decoded: the overlay trusts nothing).
  virtual void on_message(std::string_view message) = 0;
  // Sending to `address` failed (refused, timed out, reset): the overlay treats the peer as
  // gone until it hears from it again.
  virtual void on_unreachable(const std::string& address) = 0;
};

}  // namespace psycho::poldercast
