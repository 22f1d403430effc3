// A bounded set of recently seen message identities (node id, sequence).
//
// Between gateways a message may reach us twice: over two adapters (NATS and multicast), or
// around a loop of gateways. The router checks every message that enters from an adapter
// here, across all adapters, which is why this lives in the core rather than in each adapter.
// Memory is fixed: the oldest identity is forgotten when the ring is full. Identities are
// untrusted input, so they are hashed with a per-process key (core/keyed_hash.hpp).
//
// Every bridged message passes through insert(), so the set is an open-addressing table
// allocated once: linear probing in a table at most half full, and deletion by shifting the
// rest of a probe run back (no tombstones, so lookups never slow down with age). A node-based
// set allocated and freed a node per message, which profiles showed as the bridge's largest
// single cost.
#pragma once

#include <cstddef>
#include <cstdint>
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
  struct Slot {
    Key key{};
    std::size_t home = 0;  // where the key's probe starts: its hash, masked
    bool used = false;
  };
  static constexpr std::size_t kMissing = ~std::size_t{0};

  // The slot holding `key`, or kMissing.
  std::size_t find(const Key& key, std::size_t home) const REQUIRES(mutex_);
  void erase(const Key& key) REQUIRES(mutex_);

  const std::size_t capacity_;
  const std::size_t mask_;  // table size - 1; the table is a power of two, >= 2 * capacity
  mutable Mutex mutex_;
  std::vector<Slot> table_ GUARDED_BY(mutex_);
  std::vector<Key> ring_ GUARDED_BY(mutex_);  // insertion order, for eviction
  std::size_t next_ GUARDED_BY(mutex_) = 0;
  std::size_t size_ GUARDED_BY(mutex_) = 0;
};

}  // namespace psycho
