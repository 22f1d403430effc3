// Layer 3 of PolderCast: for every topic this node subscribes to, its nearest subscribers by
// id on either side (successors and predecessors, `slots` each, nearest first). The rings
// are kept incrementally: every profile the node sees is offered, and slots keep the nearest
// ids; a peer found dead is removed from every slot at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "adapters/poldercast/protocol/views.hpp"

namespace psycho::poldercast {

class Rings {
 public:
  struct Ring {
    std::string subject;
    std::vector<std::uint64_t> succ, pred;  // node ids, nearest first
  };
  // A node that sits in at least one slot: its latest profile, and cycles since we heard of it.
  struct Peer {
    ProfilePtr profile;
    std::uint16_t age = 0;
    std::vector<std::uint64_t> topics;  // one per slot naming it (a topic twice: both sides)
  };

  Rings(std::uint64_t self, std::size_t slots) : self_(self), slots_(slots) {}

  // Joins the ring of `topic`; false if already a member.
  bool join(std::uint64_t topic, std::string subject);
  bool leave(std::uint64_t topic);
  const Ring* ring(std::uint64_t topic) const;
  const std::unordered_map<std::uint64_t, Ring>& rings() const noexcept { return rings_; }

  // A candidate for the rings of every topic it shares with us. A known peer's newer profile
  // also takes it out of the rings of topics it no longer lists. Returns whether a slot changed.
  bool offer(const ProfilePtr& profile);
  // We heard from `id` directly: it is alive.
  void touch(std::uint64_t id) noexcept;
  // `id` is gone: it leaves every slot. Returns the topics whose rings it was in.
  std::vector<std::uint64_t> remove(std::uint64_t id);
  void age_all() noexcept;

  const Peer* peer(std::uint64_t id) const;
  const std::unordered_map<std::uint64_t, Peer>& peers() const noexcept { return peers_; }
  // The peer heard from least recently, or nullptr.
  const Peer* oldest() const noexcept;

  // How badly `topic`'s ring still needs neighbours: empty slots out of 2·slots, capped at 2.
  std::uint8_t priority(std::uint64_t topic) const;
  // Whether both nearest slots are filled.
  bool complete(const Ring& ring) const noexcept {
    return !ring.succ.empty() && !ring.pred.empty();
  }

 private:
  bool insert(std::uint64_t topic, std::vector<std::uint64_t>& side, std::uint64_t id,
              bool successor);
  void release(std::uint64_t id, std::uint64_t topic);
  // Takes `id` out of both sides of `topic`'s ring.
  bool evict(std::uint64_t id, std::uint64_t topic);

  std::uint64_t self_;
  std::size_t slots_;
  std::unordered_map<std::uint64_t, Ring> rings_;
  std::unordered_map<std::uint64_t, Peer> peers_;
};

}  // namespace psycho::poldercast
