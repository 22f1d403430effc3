#include "core/dedup_cache.hpp"

namespace psycho {

DedupCache::DedupCache(std::size_t capacity) : ring_(capacity == 0 ? 1 : capacity) {
  seen_.reserve(ring_.size());
}

bool DedupCache::insert(std::uint64_t node_id, std::uint64_t seq) {
  const Key key{node_id, seq};
  std::lock_guard lock(mutex_);
  if (!seen_.insert(key).second) return false;
  if (full_) seen_.erase(ring_[next_]);
  ring_[next_] = key;
  next_ = (next_ + 1) % ring_.size();
  if (next_ == 0) full_ = true;
  return true;
}

std::size_t DedupCache::size() const {
  std::lock_guard lock(mutex_);
  return seen_.size();
}

}  // namespace psycho
