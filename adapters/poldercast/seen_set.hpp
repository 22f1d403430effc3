// The set of publication ids a node has already acted on: the first copy is delivered and
// forwarded, later ones are duplicates. Bounded twice, as POLDERCAST.md asks: an id is
// forgotten after `ttl` or when `capacity` newer ids have arrived, whichever comes first.
// Ids enter in time order, so one FIFO serves both limits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <unordered_set>

namespace psycho::poldercast {

using MessageId = std::array<std::uint8_t, 16>;

struct MessageIdHash {
  std::size_t operator()(const MessageId& id) const noexcept {
    std::uint64_t h = 0;
    std::memcpy(&h, id.data(), sizeof h);  // the ids are random: any 8 bytes hash well
    return static_cast<std::size_t>(h);
  }
};

class SeenSet {
 public:
  SeenSet(std::size_t capacity, std::int64_t ttl_ms) : capacity_(capacity), ttl_ms_(ttl_ms) {}

  // True when `id` is new (and now remembered), false for a duplicate.
  bool insert(const MessageId& id, std::int64_t now_ms) {
    expire(now_ms);
    if (!ids_.insert(id).second) return false;
    order_.push_back({id, now_ms});
    if (order_.size() > capacity_) forget_oldest();
    return true;
  }

  std::size_t size() const noexcept { return ids_.size(); }

 private:
  struct Seen {
    MessageId id;
    std::int64_t at_ms;
  };
  void expire(std::int64_t now_ms) {
    while (!order_.empty() && now_ms - order_.front().at_ms > ttl_ms_) forget_oldest();
  }
  void forget_oldest() {
    ids_.erase(order_.front().id);
    order_.pop_front();
  }

  std::size_t capacity_;
  std::int64_t ttl_ms_;
  std::unordered_set<MessageId, MessageIdHash> ids_;
  std::deque<Seen> order_;
};

}  // namespace psycho::poldercast
