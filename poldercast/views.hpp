// The building blocks of the gossip layers: descriptors that share one immutable profile,
// the bounded partial view that Cyclon and Vicinity both keep, and Vicinity's selection
// function. Pure data structures with no I/O; node.cpp drives them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "poldercast/wire.hpp"

namespace psycho::poldercast {

// Profiles are shared, never copied: one peer's profile sits in several views at once.
using ProfilePtr = std::shared_ptr<const Profile>;

// Whether `profiles` names node `id`.
inline bool has_node(const std::vector<ProfilePtr>& profiles, std::uint64_t id) {
  return std::any_of(profiles.begin(), profiles.end(),
                     [&](const ProfilePtr& p) { return p->node_id == id; });
}

struct Entry {
  ProfilePtr profile;
  std::uint16_t age = 0;
  // Whose word the descriptor is: 0 when the node itself told us (its own message over its
  // own link, or an entry of ours), else the peer that gossiped it. Hearsay is bounded per
  // peer in every view and never overrides what a node said of itself, so one peer cannot
  // fill a view with made-up nodes (docs/poldercast.md, "Hostile peers").
  std::uint64_t via = 0;
  std::uint64_t id() const noexcept { return profile->node_id; }
};

// Sorts and de-duplicates a received profile's topics, so that subscribes() can search it.
void normalize(Profile& profile);
// Whether `profile` lists `topic` (its topics sorted, as normalize() leaves them).
bool subscribes(const Profile& profile, std::uint64_t topic) noexcept;

// A bounded set of descriptors, at most one per node id.
class PartialView {
 public:
  explicit PartialView(std::size_t capacity) : capacity_(capacity) {}

  const std::vector<Entry>& entries() const noexcept { return entries_; }
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return entries_.empty(); }

  void age_all() noexcept;
  // The entry with the highest age (ties: the first), or nullptr when empty.
  const Entry* oldest() const noexcept;
  const Entry* find(std::uint64_t id) const noexcept;
  bool remove(std::uint64_t id) noexcept;
  // The node of `profile` spoke to us itself: its entry, if any, takes that profile, keeps
  // its age, and is no longer hearsay.
  void refresh(const ProfilePtr& profile) noexcept;
  // Replaces the whole content (Vicinity's merge computes it from scratch).
  void assign(std::vector<Entry> entries);
  // Up to `n` entries drawn at random, none with id `except`.
  std::vector<Entry> sample(std::size_t n, std::uint64_t except, std::mt19937_64& rng) const;

  // Cyclon's merge: skips `self`; a known id takes a fresher copy unless that copy is hearsay
  // and ours is not; fills free slots first, then overwrites the entries whose ids are in
  // `sent` (what went to the partner). Hearsay beyond `per_source` entries on one peer's
  // word is refused. Returns how many were refused.
  std::size_t merge_cyclon(const std::vector<Entry>& received, std::vector<std::uint64_t> sent,
                           std::uint64_t self, std::size_t per_source);

 private:
  std::vector<Entry>::iterator at(std::uint64_t id) noexcept;

  std::size_t capacity_;
  std::vector<Entry> entries_;
};

// Vicinity's selection function (docs/poldercast.md): the `count` candidates best for
// `target`, scored by the topics they share with it, weighted by the target's priority for
// each topic and divided down as picks cover a topic. Candidates sharing nothing fill what is
// left, at random. `candidates` must hold one entry per id; none is `target` itself.
std::vector<Entry> select_for(const Profile& target, const std::vector<Entry>& candidates,
                              std::size_t count, std::mt19937_64& rng);

// Keeps one entry per id in `entries`, dropping `self`: the one the node told us itself if
// any, else the youngest.
void dedupe_best(std::vector<Entry>& entries, std::uint64_t self);

// Drops hearsay beyond `per_source` entries on any one peer's word, keeping the first ones.
// Returns how many were dropped.
std::size_t limit_hearsay(std::vector<Entry>& entries, std::size_t per_source);

}  // namespace psycho::poldercast
