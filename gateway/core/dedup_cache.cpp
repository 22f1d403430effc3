#include "core/dedup_cache.hpp"

#include "core/keyed_hash.hpp"

namespace psycho {

bool DedupCache::insert(std::uint64_t node_id, std::uint64_t seq) {
  const std::uint64_t key = siphash13(process_hash_key(), node_id, seq);  // outside the lock
  MutexLock lock(mutex_);
  return recent_.insert(key);
}

std::size_t DedupCache::size() const {
  MutexLock lock(mutex_);
  return recent_.size();
}

}  // namespace psycho
