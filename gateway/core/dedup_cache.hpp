// A bounded set of recently seen message identities (node id, sequence).
//
// Between gateways a message may reach us twice: over two adapters (NATS and multicast), or
// around a loop of gateways. The router checks every message that enters from an adapter
// here, across all adapters, which is why this lives in the core rather than in each adapter.
// Memory is fixed: the oldest identity is forgotten when the ring is full. Identities are
// untrusted input, so they are hashed with a per-process key (core/keyed_hash.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "core/keyed_hash.hpp"
#include "core/mutex.hpp"

namespace psycho {

class DedupCache {
 public:
  explicit DedupCache(std::size_t capacity);

  // Records (node, seq); returns false when it was already recorded (a duplicate).
  // Thread-safe.
  bool insert(std::uint64_t node_id, std::uint64_t seq);

  std::size_t size() const;
  std::size_t capacity() const noexcept { return capacity_; }

  struct Key {
    std::uint64_t node;
    std::uint64_t seq;
    bool operator==(const Key&) const = default;
  };
  // Both halves of a key come from another gateway, or from whoever can send on its
  // fabric: keyed, so nobody can choose keys that share a bucket.
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept { return KeyedHash{}(k.node, k.seq); }
  };

 private:
  const std::size_t capacity_;
  mutable Mutex mutex_;
  std::unordered_set<Key, KeyHash> seen_ GUARDED_BY(mutex_);
  std::vector<Key> ring_ GUARDED_BY(mutex_);  // insertion order, for eviction
  std::size_t next_ GUARDED_BY(mutex_) = 0;
  bool full_ GUARDED_BY(mutex_) = false;
};

}  // namespace psycho
