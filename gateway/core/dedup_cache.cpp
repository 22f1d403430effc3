#include "core/dedup_cache.hpp"

namespace psycho {

DedupCache::DedupCache(std::size_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity), ring_(capacity_) {
  seen_.reserve(capacity_);
}

bool DedupCache::insert(std::uint64_t node_id, std::uint64_t seq) {
  const Key key{node_id, seq};
  MutexLock lock(mutex_);
  if (!seen_.insert(key).second) return false;
  if (full_) seen_.erase(ring_[next_]);
  ring_[next_] = key;
  next_ = (next_ + 1) % capacity_;
  if (next_ == 0) full_ = true;
  return true;
}

std::size_t DedupCache::size() const {
  MutexLock lock(mutex_);
  return seen_.size();
}

}  // namespace psycho
