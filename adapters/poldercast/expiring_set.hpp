// Keys remembered until a time each, within a fixed capacity: the links' bans of nodes cut
// off for flooding, and the addresses resting after their link stalled.
#pragma once

#include <chrono>
#include <cstddef>
#include <unordered_map>

namespace psycho::poldercast {

// How many nodes one kind of link (stream or WebSocket) keeps banned for flooding at once.
constexpr std::size_t kMaxBanned = 1024;

template <class Key>
class ExpiringSet {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ExpiringSet(std::size_t capacity) : capacity_(capacity) {}

  // Remembers `key` until `until` (replacing an earlier time). When full, what has expired
  // goes first, then an arbitrary key: the set stays bounded whoever fills it.
  void add(const Key& key, Clock::time_point until) {
    if (until_.size() >= capacity_ && until_.find(key) == until_.end()) {
      std::erase_if(until_, [now = Clock::now()](const auto& e) { return e.second <= now; });
      if (until_.size() >= capacity_) until_.erase(until_.begin());
    }
    until_[key] = until;
  }

  // Whether `key` is remembered and has not expired; an expired key is forgotten here.
  bool contains(const Key& key) {
    if (until_.empty()) return false;
    const auto it = until_.find(key);
    if (it == until_.end()) return false;
    if (Clock::now() < it->second) return true;
    until_.erase(it);
    return false;
  }

  void erase(const Key& key) { until_.erase(key); }
  std::size_t size() const { return until_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<Key, Clock::time_point> until_;
};

}  // namespace psycho::poldercast
