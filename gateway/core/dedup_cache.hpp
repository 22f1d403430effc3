// A bounded set of recently seen message identities (node id, sequence).
//
// Between gateways a message may reach us twice: over two adapters (NATS and multicast), or
// around a loop of gateways. The router checks every message that enters from an adapter
// here, across all adapters, which is why this lives in the core rather than in each adapter.
// Memory is fixed: the oldest identity is forgotten when the ring is full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_set>
#include <vector>

namespace psycho {

class DedupCache {
 public:
  explicit DedupCache(std::size_t capacity);

  // Records (node, seq); returns false when it was already recorded (a duplicate).
  // Thread-safe.
  bool insert(std::uint64_t node_id, std::uint64_t seq);

  std::size_t size() const;
  std::size_t capacity() const noexcept { return ring_.size(); }

 private:
  struct Key {
    std::uint64_t node;
    std::uint64_t seq;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return static_cast<std::size_t>(k.node * 0x9E3779B97F4A7C15ull ^ k.seq);
    }
  };

  mutable std::mutex mutex_;
  std::unordered_set<Key, KeyHash> seen_;
  std::vector<Key> ring_;  // insertion order, for eviction
  std::size_t next_ = 0;
  bool full_ = false;
};

}  // namespace psycho
