// The gateways heard on the group: one entry per sending node id, with its repair state and
// its figures for /varz. Bounded (max_peers; further senders are refused and counted) and
// forgetful (a peer silent for peer_timeout is removed; its figures stay in the totals, so
// the counters never go backwards). Owned by the adapter's receiving thread; status() reads
// it under the adapter's lock.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "adapters/multicast/repair.hpp"

namespace psycho::multicast {

struct Peer {
  explicit Peer(const RepairSettings& settings) : tracker(settings) {}
  std::string address;  // where its datagrams come from
  Clock::time_point last_heard;
  ReceiveTracker tracker;
  std::uint64_t datagrams = 0, bytes = 0, duplicates = 0;
};

// Figures summed over every peer ever heard.
struct PeerTotals {
  std::uint64_t gaps = 0, nacks = 0, repaired = 0, lost = 0, duplicates = 0;
};

class PeerTable {
 public:
  PeerTable(std::size_t max_peers, std::chrono::milliseconds timeout,
            const RepairSettings& settings)
      : max_peers_(max_peers), timeout_(timeout), settings_(settings) {}

  // The peer `node`, added when new (nullptr when the table is full); marks it heard.
  Peer* heard(std::uint64_t node, const sockaddr_storage& from, Clock::time_point now);
  // Removes the peers silent for longer than the timeout; returns their node ids.
  std::vector<std::uint64_t> expire(Clock::time_point now);

  const std::map<std::uint64_t, Peer>& peers() const noexcept { return peers_; }
  std::map<std::uint64_t, Peer>& peers() noexcept { return peers_; }
  PeerTotals totals() const;

 private:
  const std::size_t max_peers_;
  const std::chrono::milliseconds timeout_;
  const RepairSettings settings_;
  std::map<std::uint64_t, Peer> peers_;
  PeerTotals retired_;  // of the peers removed
};

}  // namespace psycho::multicast
