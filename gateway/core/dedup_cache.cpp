#include "core/dedup_cache.hpp"

#include <bit>

namespace psycho {

DedupCache::DedupCache(std::size_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity),
      mask_(std::bit_ceil(2 * capacity_) - 1),
      table_(mask_ + 1),
      ring_(capacity_) {}

std::size_t DedupCache::find(const Key& key, std::size_t home) const {
  for (std::size_t i = home;; i = (i + 1) & mask_) {
    if (!table_[i].used) return kMissing;
    if (table_[i].key == key) return i;
  }
}

bool DedupCache::insert(std::uint64_t node_id, std::uint64_t seq) {
  const Key key{node_id, seq};
  const std::size_t home = KeyHash{}(key)&mask_;  // hashed outside the lock
  MutexLock lock(mutex_);
  if (find(key, home) != kMissing) return false;
  if (size_ == capacity_) erase(ring_[next_]);  // may move keys: probe for a free slot after
  std::size_t i = home;
  while (table_[i].used) i = (i + 1) & mask_;
  table_[i] = Slot{key, home, true};
  ++size_;
  ring_[next_] = key;
  next_ = next_ + 1 == capacity_ ? 0 : next_ + 1;
  return true;
}

void DedupCache::erase(const Key& key) {
  std::size_t hole = find(key, KeyHash{}(key)&mask_);
  if (hole == kMissing) return;
  table_[hole].used = false;
  --size_;
  // Backward shift: each later key of the run moves into the hole unless its probe starts
  // after the hole (cyclically), where a lookup would no longer pass the hole to reach it.
  for (std::size_t j = (hole + 1) & mask_; table_[j].used; j = (j + 1) & mask_) {
    const std::size_t from_home = (j - table_[j].home) & mask_;
    const std::size_t from_hole = (j - hole) & mask_;
    if (from_home >= from_hole) {
      table_[hole] = table_[j];
      table_[j].used = false;
      hole = j;
    }
  }
}

std::size_t DedupCache::size() const {
  MutexLock lock(mutex_);
  return size_;
}

}  // namespace psycho
