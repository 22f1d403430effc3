#include "adapters/multicast/peers.hpp"

#include "adapters/multicast/socket.hpp"

namespace psycho::multicast {

namespace {

void add(PeerTotals& t, const Peer& p) {
  t.gaps += p.tracker.gaps();
  t.nacks += p.tracker.nacks();
  t.repaired += p.tracker.repaired();
  t.lost += p.tracker.lost() + p.tracker.missing();  // what it still missed is lost now
  t.duplicates += p.duplicates;
}

}  // namespace

Peer* PeerTable::heard(std::uint64_t node, const sockaddr_storage& from, Clock::time_point now) {
  auto it = peers_.find(node);
  if (it == peers_.end()) {
    if (peers_.size() >= max_peers_) return nullptr;
    it = peers_.emplace(node, Peer(settings_)).first;
    it->second.address = address_of(from);
  }
  it->second.last_heard = now;
  return &it->second;
}

std::vector<std::uint64_t> PeerTable::expire(Clock::time_point now) {
  std::vector<std::uint64_t> gone;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.last_heard > timeout_) {
      add(retired_, it->second);
      gone.push_back(it->first);
      it = peers_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

PeerTotals PeerTable::totals() const {
  PeerTotals t = retired_;
  for (const auto& [node, peer] : peers_) {
    add(t, peer);
    t.lost -= peer.tracker.missing();  // a live peer's missing datagrams may still come
  }
  return t;
}

}  // namespace psycho::multicast
