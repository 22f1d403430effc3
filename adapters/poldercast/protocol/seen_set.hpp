// The set of publication ids a node has already acted on: the first copy is delivered and
// forwarded, later ones are duplicates. Bounded twice, as the PolderCast design asks
// (docs/poldercast.md): an id is forgotten after `ttl` or when `capacity` newer ids have arrived,
// whichever comes first. Ids enter in time order, so one FIFO serves both limits.
//
// Every publication passes through here, so it is an open-addressing table of 64-bit keys
// (the 128-bit id folded; ids are random, and a false "seen" needs two of 64K live ids to
// agree on 64 bits) with linear probing and backward-shift deletion: no allocation per id,
// one cache line per lookup. The table starts small and doubles up to twice `capacity`
// slots, so an idle node (or each of a simulator's ten thousand) costs little.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "gateway/core/keyed_hash.hpp"

namespace psycho::poldercast {

using MessageId = std::array<std::uint8_t, 16>;

class SeenSet {
 public:
  SeenSet(std::size_t capacity, std::int64_t ttl_ms)
      : capacity_(capacity == 0 ? 1 : capacity), ttl_ms_(ttl_ms), slots_(kInitialSlots, 0) {}

  // True when `id` is new (and now remembered), false for a duplicate.
  bool insert(const MessageId& id, std::int64_t now_ms) {
    expire(now_ms);
    const std::uint64_t key = key_of(id);
    if (find(key) != kNone) return false;
    if (2 * (count_ + 1) > slots_.size()) grow();
    place(key);
    order_.push_back({key, now_ms});
    if (order_.size() > capacity_) forget_oldest();
    return true;
  }

  // Whether `id` is remembered, without remembering it: a publication is checked for
  // duplicates before its signature, and remembered only once the signature holds, so a
  // forged copy cannot make the genuine one look like a duplicate.
  bool contains(const MessageId& id, std::int64_t now_ms) {
    expire(now_ms);
    return find(key_of(id)) != kNone;
  }

  std::size_t size() const noexcept { return count_; }

 private:
  static constexpr std::size_t kInitialSlots = 64;
  static constexpr std::size_t kNone = SIZE_MAX;

  struct Seen {
    std::uint64_t key;
    std::int64_t at_ms;
  };

  // Ids are chosen by whoever published, so they are hashed with the process's secret key:
  // with a fixed mix, a peer could send ids that all probe from one slot, and every insert
  // would walk a chain as long as the set.
  static std::uint64_t key_of(const MessageId& id) noexcept {
    const std::uint64_t k = siphash<1, 3>(
        process_hash_key(), std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
    return k == 0 ? 1 : k;  // 0 marks an empty slot
  }
  std::size_t home(std::uint64_t key) const noexcept {
    return static_cast<std::size_t>(key) & (slots_.size() - 1);
  }
  std::size_t find(std::uint64_t key) const noexcept {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = home(key);; i = (i + 1) & mask) {
      if (slots_[i] == key) return i;
      if (slots_[i] == 0) return kNone;
    }
  }
  void place(std::uint64_t key) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home(key);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = key;
    ++count_;
  }
  void grow() {
    std::vector<std::uint64_t> old(slots_.size() * 2, 0);
    old.swap(slots_);
    count_ = 0;
    for (auto key : old) {
      if (key != 0) place(key);
    }
  }
  // Backward-shift deletion: later keys of the probe run move up, so no tombstones.
  void erase(std::uint64_t key) {
    std::size_t i = find(key);
    if (i == kNone) return;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t j = (i + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
      const std::size_t h = home(slots_[j]);
      // Leave slots_[j] where it is if its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = 0;
    --count_;
  }
  void expire(std::int64_t now_ms) {
    while (!order_.empty() && now_ms - order_.front().at_ms > ttl_ms_) forget_oldest();
  }
  void forget_oldest() {
    erase(order_.front().key);
    order_.pop_front();
  }

  std::size_t capacity_;
  std::int64_t ttl_ms_;
  std::vector<std::uint64_t> slots_;  // a power of two in size; 0 = empty
  std::size_t count_ = 0;
  std::deque<Seen> order_;
};

}  // namespace psycho::poldercast
