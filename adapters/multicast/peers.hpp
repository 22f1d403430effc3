// The gateways heard on the group: one entry per sending node id, with its repair state and
// its figures for /varz. Owned by the adapter's receiving thread; status() reads it under the
// adapter's lock.
//
// Nothing a datagram says is trusted (docs/multicast.md#trust):
//  - a node id is bound to the source address (ip:port) of its first datagram; datagrams
//    with that id from any other source are refused (`spoofed`) until the peer is removed;
//  - bounded (max_peers) but never locked: when the table is full, a newcomer displaces the
//    stalest peer silent for longer than `silent_after`, else the stalest peer of the host
//    holding the most entries if that host holds more than the newcomer's would; only then
//    is it refused (`full`). Ids forged from one host can so never shut out another host's
//    gateway, restarted (a new id) or not;
//  - forgetful: a peer silent for `timeout` is removed. Its figures stay in the totals, so
//    the counters never go backwards.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "adapters/multicast/repair.hpp"
#include "adapters/multicast/socket.hpp"

namespace psycho::multicast {

struct Peer {
  explicit Peer(const RepairSettings& settings) : tracker(settings) {}
  Source source;        // the only source its datagrams are taken from
  std::string address;  // the same, printed for /varz
  Clock::time_point last_heard;
  ReceiveTracker tracker;
  std::uint64_t datagrams = 0, bytes = 0, duplicates = 0;
  // The socket's overflow count at its last plausible datagram: one since then means a jump
  // in its sequence may be ours to take up (ReceiveTracker::kAnyJump).
  std::uint64_t overflows_seen = 0;
  // Since when everything it sent was refused as a jump; zero while it is in step.
  Clock::time_point jumping_since{};
};

// Figures summed over every peer ever heard.
struct PeerTotals {
  std::uint64_t gaps = 0, nacks = 0, repaired = 0, lost = 0, duplicates = 0, resyncs = 0;
  std::uint64_t expired = 0, displaced = 0;  // peers removed: silent for timeout; made room
};

class PeerTable {
 public:
  enum class Refusal { none, spoofed, full };
  struct Admission {
    Peer* peer = nullptr;  // nullptr: refused, and `refused` says why
    Refusal refused = Refusal::none;
    std::optional<std::uint64_t> displaced;  // removed to make room: forget its state
    bool added = false;                      // a new entry: the peer was not known before
  };

  PeerTable(std::size_t max_peers, std::chrono::milliseconds timeout,
            std::chrono::milliseconds silent_after, const RepairSettings& settings)
      : max_peers_(max_peers),
        timeout_(timeout),
        silent_after_(silent_after),
        settings_(settings) {}

  // The peer `node` as a datagram from `from` names it: found, or added (heard now). It is
  // not marked heard: the caller does that with heard() once the datagram proved plausible,
  // so forged datagrams cannot keep a peer alive.
  Admission admit(std::uint64_t node, const sockaddr_storage& from, Clock::time_point now);
  static void heard(Peer& peer, Clock::time_point now) noexcept { peer.last_heard = now; }
  // Removes the peers silent for longer than the timeout; returns their node ids.
  std::vector<std::uint64_t> expire(Clock::time_point now);

  const std::map<std::uint64_t, Peer>& peers() const noexcept { return peers_; }
  std::map<std::uint64_t, Peer>& peers() noexcept { return peers_; }
  PeerTotals totals() const;

 private:
  using PeerMap = std::map<std::uint64_t, Peer>;
  // The entry a newcomer from `from` may replace (end() when none), see above.
  PeerMap::iterator displaceable(const Source& from, Clock::time_point now);
  void remove(PeerMap::iterator it);

  const std::size_t max_peers_;
  const std::chrono::milliseconds timeout_, silent_after_;
  const RepairSettings settings_;
  PeerMap peers_;
  PeerTotals retired_;  // of the peers removed
};

}  // namespace psycho::multicast
