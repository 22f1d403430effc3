#include "adapters/multicast/peers.hpp"

namespace psycho::multicast {

namespace {

void add(PeerTotals& t, const Peer& p) {
  t.gaps += p.tracker.gaps();
  t.nacks += p.tracker.nacks();
  t.repaired += p.tracker.repaired();
  t.lost += p.tracker.lost() + p.tracker.missing();  // what it still missed is lost now
  t.duplicates += p.duplicates;
  t.resyncs += p.tracker.resyncs();
}

}  // namespace

PeerTable::Admission PeerTable::admit(std::uint64_t node, const sockaddr_storage& from,
                                      Clock::time_point now) {
  const Source source = source_of(from);
  Admission a;
  if (auto it = peers_.find(node); it != peers_.end()) {
    if (it->second.source != source) {
      a.refused = Refusal::spoofed;
      return a;
    }
    a.peer = &it->second;
    return a;
  }
  if (peers_.size() >= max_peers_) {
    const auto victim = displaceable(source, now);
    if (victim == peers_.end()) {
      a.refused = Refusal::full;
      return a;
    }
    a.displaced = victim->first;
    ++retired_.displaced;
    remove(victim);
  }
  Peer& p = peers_.emplace(node, Peer(settings_)).first->second;
  p.source = source;
  p.address = address_of(from);
  p.last_heard = now;
  a.peer = &p;
  a.added = true;
  return a;
}

// One pass over the table; it runs only when the table is full and a new id arrives.
PeerTable::PeerMap::iterator PeerTable::displaceable(const Source& from, Clock::time_point now) {
  struct Host {
    std::size_t count = 0;
    PeerMap::iterator stalest;
  };
  std::map<std::array<std::uint8_t, 16>, Host> hosts;
  auto silent = peers_.end();
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    const Clock::time_point heard = it->second.last_heard;
    if (now - heard > silent_after_ &&
        (silent == peers_.end() || heard < silent->second.last_heard))
      silent = it;
    Host& h = hosts[it->second.source.host];
    if (h.count++ == 0 || heard < h.stalest->second.last_heard) h.stalest = it;
  }
  if (silent != peers_.end()) return silent;
  const Host* busiest = nullptr;
  for (const auto& [host, h] : hosts) {
    if (busiest == nullptr || h.count > busiest->count) busiest = &h;
  }
  const auto own = hosts.find(from.host);
  const std::size_t own_count = own == hosts.end() ? 0 : own->second.count;
  if (busiest != nullptr && busiest->count > own_count + 1) return busiest->stalest;
  return peers_.end();
}

void PeerTable::remove(PeerMap::iterator it) {
  add(retired_, it->second);
  peers_.erase(it);
}

std::vector<std::uint64_t> PeerTable::expire(Clock::time_point now) {
  std::vector<std::uint64_t> gone;
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (now - it->second.last_heard > timeout_) {
      gone.push_back(it->first);
      ++retired_.expired;
      remove(it++);
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
