// The set of publication ids a node has already acted on: the first copy is delivered and
// forwarded, later ones are duplicates. Only other nodes' publications enter it: a node knows
// its own by their id (Node::own_id). Bounded twice, as the PolderCast design asks
// (docs/poldercast.md): an id is forgotten after `ttl` or when `capacity` newer ids have arrived,
// whichever comes first. Ids enter in time order, so the RecentSet's one FIFO serves both
// limits. The 128-bit id is remembered as its keyed 64-bit hash (core/recent_set.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/core/keyed_hash.hpp"
#include "gateway/core/recent_set.hpp"

namespace psycho::poldercast {

using MessageId = std::array<std::uint8_t, 16>;

class SeenSet {
 public:
  // An id as the set knows it: its hash under the process's secret key (ids are chosen by
  // whoever published). Worked out once per publication, which is looked for, checked and
  // only then remembered.
  struct Key {
    std::uint64_t hash;
  };
  static Key key_of(const MessageId& id) noexcept {
    return {siphash<1, 3>(process_hash_key(),
                          std::string_view(reinterpret_cast<const char*>(id.data()), id.size()))};
  }

  SeenSet(std::size_t capacity, std::int64_t ttl_ms) : recent_(capacity), ttl_ms_(ttl_ms) {}

  // Starts fetching where `key` would be: once the table has grown past the cache, the
  // look-up is a cache miss (ids are random), which the work done before contains() hides.
  void prefetch(Key key) const noexcept { recent_.prefetch(key.hash); }

  // True when the id is new (and now remembered), false for a duplicate.
  bool insert(Key key, std::int64_t now_ms) {
    expire(now_ms);
    return recent_.insert(key.hash, now_ms);
  }

  // Whether the id is remembered, without remembering it: a publication is checked for
  // duplicates before its signature, and remembered only once the signature holds, so a
  // forged copy cannot make the genuine one look like a duplicate.
  bool contains(Key key, std::int64_t now_ms) {
    expire(now_ms);
    return recent_.contains(key.hash);
  }

  std::size_t size() const noexcept { return recent_.size(); }

 private:
  void expire(std::int64_t now_ms) {
    for (auto* e = recent_.oldest(); e != nullptr && now_ms - e->at > ttl_ms_;
         e = recent_.oldest()) {
      recent_.forget_oldest();
    }
  }

  RecentSet<std::int64_t> recent_;  // stamped with the time each id arrived
  std::int64_t ttl_ms_;
};

}  // namespace psycho::poldercast
