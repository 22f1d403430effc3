// Layer 3 of PolderCast: for every topic this node subscribes to, its nearest subscribers by
// id on either side (successors and predecessors, `slots` each, nearest first). The rings
// are kept incrementally: every profile the node sees is offered, and slots keep the nearest
// ids; a peer found dead is removed from every slot at once.
//
// Ring slots decide where publications go, so hearsay may not take them from peers we know
// are there: a candidate we have only heard of (from another node's gossip) may fill an
// empty slot or displace other hearsay, but not move or push out a neighbour we have heard
// from directly. Such a candidate is reported as wanting contact; once it answers us itself,
// it takes its place. A made-up id near ours therefore never displaces a real neighbour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "poldercast/views.hpp"

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
    bool heard = false;                 // it spoke to us itself, not only others of it
    std::vector<std::uint64_t> topics;  // one per slot naming it (a topic twice: both sides)
  };

  Rings(std::uint64_t self, std::size_t slots) : self_(self), slots_(slots) {}

  // Joins the ring of `topic`; false if already a member.
  bool join(std::uint64_t topic, std::string subject);
  bool leave(std::uint64_t topic);
  const Ring* ring(std::uint64_t topic) const;
  const std::unordered_map<std::uint64_t, Ring>& rings() const noexcept { return rings_; }

  struct Offer {
    bool changed = false;        // a slot changed
    bool wants_contact = false;  // it would displace a neighbour we heard from, once heard itself
  };
  // A candidate for the rings of every topic it shares with us; `first_hand` when the profile
  // comes from the node itself. A known peer's newer profile also takes it out of the rings of
  // topics it no longer lists.
  Offer offer(const ProfilePtr& profile, bool first_hand = false);
  // We heard from `id` directly: it is alive, and no hearsay displaces it.
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
  enum class Insert { taken, not_near, needs_contact };
  Insert insert(std::uint64_t topic, std::vector<std::uint64_t>& side, std::uint64_t id,
                bool successor, bool vouched);
  bool heard(std::uint64_t id) const;
  void release(std::uint64_t id, std::uint64_t topic);
  // Takes `id` out of both sides of `topic`'s ring.
  bool evict(std::uint64_t id, std::uint64_t topic);

  std::uint64_t self_;
  std::size_t slots_;
  std::unordered_map<std::uint64_t, Ring> rings_;
  std::unordered_map<std::uint64_t, Peer> peers_;
};

}  // namespace psycho::poldercast
