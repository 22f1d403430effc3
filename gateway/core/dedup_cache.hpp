// A bounded set of recently seen message identities (node id, sequence).
//
// Between gateways a message may reach us twice: over two adapters (NATS and multicast), or
// around a loop of gateways. The router checks every message that enters from an adapter
// here, across all adapters, which is why this lives in the core rather than in each adapter.
// Memory is fixed: the oldest identity is forgotten when `capacity` are remembered.
// Identities are untrusted input, so each is remembered as its keyed hash
// (core/keyed_hash.hpp) in a RecentSet (core/recent_set.hpp), which says why that is safe and
// why it is fast: every bridged message passes through insert().
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/mutex.hpp"
#include "core/recent_set.hpp"

namespace psycho {

class DedupCache {
 public:
  explicit DedupCache(std::size_t capacity) : recent_(capacity), capacity_(recent_.capacity()) {}

  // Records (node, seq); returns false when it was already recorded (a duplicate).
  // Thread-safe.
  bool insert(std::uint64_t node_id, std::uint64_t seq);

  std::size_t size() const;
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  mutable Mutex mutex_;
  RecentSet<> recent_ GUARDED_BY(mutex_);
  const std::size_t capacity_;
};

}  // namespace psycho
