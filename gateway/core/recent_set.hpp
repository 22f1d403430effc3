// The set of the last `capacity` 64-bit fingerprints inserted, forgotten oldest first: what
// both duplicate checks are made of, the router's (DedupCache, by message trace) and the
// PolderCast overlay's (SeenSet, by publication id, also forgotten by age).
//
// Every bridged message passes through one of them, so it is an open-addressing table of
// 64-bit keys with linear probing, at most half full, and backward-shift deletion (no
// tombstones, so lookups never slow down with age), beside a ring of the keys in insertion
// order. No allocation per key, and 8 bytes a slot: a table of 16-byte keys with their home
// slot and a flag took 32, four times the cache lines, and profiles showed it. The caller
// hashes what it stores with the process's secret key (keyed_hash.hpp): the keys come from
// other gateways, and a fixed mix would let them choose keys that all probe from one slot.
// Two of `capacity` live keys agree on 64 bits with a probability of about capacity² / 2^65,
// so a key stands for what it was hashed from. The table and the ring start small and double
// up to what `capacity` needs, so an idle set (or each of a simulator's ten thousand nodes)
// costs little. Header-only: the PolderCast protocol library, which also builds for the
// browser, must not link the core.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace psycho {

// What a set that keeps no stamp stores beside each key: nothing.
struct NoStamp {};

// `Stamp` is kept with each key, in the ring, for the caller (SeenSet keeps a time, for
// expiry by age); the default keeps none, so the ring costs 8 bytes a key.
template <typename Stamp = NoStamp>
class RecentSet {
 public:
  struct Entry {
    std::uint64_t key;
    [[no_unique_address]] Stamp at;
  };

  // A capacity of 0 is taken as 1.
  explicit RecentSet(std::size_t capacity)
      : capacity_(std::max<std::size_t>(capacity, 1)),
        max_slots_(std::bit_ceil(2 * capacity_)),
        slots_(std::min(kInitialSlots, max_slots_), 0) {}

  bool contains(std::uint64_t key) const noexcept { return find(stored(key)) != kNone; }

  // Starts fetching the slot where a look-up of `key` begins, for a caller with other work
  // to do before it looks. Inline, as it must be: GCC found an out-of-line function that
  // only prefetches free of effects and dropped its calls.
  void prefetch(std::uint64_t key) const noexcept {
    __builtin_prefetch(slots_.data() + home(stored(key)));
  }

  // Remembers `key`, forgetting the oldest if `capacity` are remembered; false (and nothing
  // changes) when it is remembered already.
  bool insert(std::uint64_t key, Stamp at = {}) {
    key = stored(key);
    if (find(key) != kNone) return false;
    if (count_ == capacity_) {
      forget_oldest();
      // The next insert erases the key that is now the oldest: a lookup at a random place,
      // a cache miss once other work has run in between. Fetched now, it overlaps that work.
      if (count_ != 0) prefetch(ring_[head_].key);
    }
    if (2 * (count_ + 1) > slots_.size() && slots_.size() < max_slots_) grow();
    place(key);
    push(Entry{key, at});
    return true;
  }

  // The oldest entry still remembered, or nullptr.
  const Entry* oldest() const noexcept { return count_ == 0 ? nullptr : &ring_[head_]; }
  void forget_oldest() {
    if (count_ == 0) return;
    erase(ring_[head_].key);
    head_ = head_ + 1 == ring_.size() ? 0 : head_ + 1;
    --count_;
  }

  std::size_t size() const noexcept { return count_; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  static constexpr std::size_t kInitialSlots = 64;
  static constexpr std::size_t kNone = SIZE_MAX;
  static constexpr std::uint64_t kEmpty = 0;  // marks an empty slot

  // The key as stored: kEmpty is taken as 1 (one more pair of keys that agree).
  static std::uint64_t stored(std::uint64_t key) noexcept { return key == kEmpty ? 1 : key; }

  std::size_t home(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>(key) & (slots_.size() - 1);
  }
  std::size_t find(std::uint64_t key) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = home(key);; i = (i + 1) & mask) {
      if (slots_[i] == key) return i;
      if (slots_[i] == kEmpty) return kNone;
    }
  }
  void place(std::uint64_t key) noexcept {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home(key);
    while (slots_[i] != kEmpty) i = (i + 1) & mask;
    slots_[i] = key;
  }
  // Backward shift: each later key of the run moves into the hole unless its home lies
  // cyclically in (hole, j], where a lookup would no longer pass the hole to reach it.
  void erase(std::uint64_t key) noexcept {
    std::size_t hole = find(key);
    if (hole == kNone) return;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t j = (hole + 1) & mask; slots_[j] != kEmpty; j = (j + 1) & mask) {
      const std::size_t h = home(slots_[j]);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = kEmpty;
  }
  void grow() {
    std::vector<std::uint64_t> old(slots_.size() * 2, kEmpty);
    old.swap(slots_);
    for (auto key : old) {
      if (key != kEmpty) place(key);
    }
  }
  // The ring holds count_ entries from head_; it doubles (in order) until it holds capacity_.
  void push(const Entry& e) {
    if (count_ == ring_.size()) {
      std::vector<Entry> bigger(std::min(capacity_, std::max<std::size_t>(2 * ring_.size(), 16)));
      for (std::size_t i = 0; i < count_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
      ring_.swap(bigger);
      head_ = 0;
    }
    std::size_t at = head_ + count_;
    if (at >= ring_.size()) at -= ring_.size();
    ring_[at] = e;
    ++count_;
  }

  const std::size_t capacity_;
  const std::size_t max_slots_;       // a power of two, at least twice capacity_
  std::vector<std::uint64_t> slots_;  // a power of two in size; kEmpty = empty
  std::vector<Entry> ring_;           // insertion order, from head_
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

static_assert(sizeof(RecentSet<>::Entry) == sizeof(std::uint64_t),
              "a key without a stamp is 8 bytes");

}  // namespace psycho
