// The publish cache: subscribers found for topics this node publishes to without
// subscribing (docs/poldercast.md). Kept in least-recently-used order, so it is bounded at
// insertion in O(1) (the coldest topic goes) and expired from its cold end: no operation
// scans the cache once per entry, whatever peers send.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <list>
#include <unordered_map>
#include <vector>

#include "poldercast/views.hpp"

namespace psycho::poldercast {

class PublishCache {
 public:
  // A capacity of 0 is taken as 1: use() always has an entry to return.
  PublishCache(std::size_t capacity, std::int64_t ttl_ms)
      : capacity_(std::max<std::size_t>(capacity, 1)), ttl_ms_(ttl_ms) {}

  // The subscribers of `topic` (empty if it was not cached), marked used at `now_ms`. Makes
  // room by forgetting the least recently used topic.
  std::vector<ProfilePtr>& use(std::uint64_t topic, std::int64_t now_ms) {
    if (auto it = index_.find(topic); it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      it->second->used_ms = now_ms;
      return it->second->subscribers;
    }
    if (index_.size() >= capacity_) {
      index_.erase(order_.back().topic);
      order_.pop_back();
    }
    order_.push_front({topic, {}, now_ms});
    index_.emplace(topic, order_.begin());
    return order_.front().subscribers;
  }

  // Adds `subscribers` of `topic` at the cold end, and only into free room: subscribers we
  // may never publish to must not push out topics in use. It expires with the coldest entry
  // (which keeps the order by age); a publication to it makes it a use() like any other.
  void offer(std::uint64_t topic, std::vector<ProfilePtr> subscribers, std::int64_t now_ms) {
    if (index_.count(topic) > 0 || index_.size() >= capacity_) return;
    const std::int64_t used_ms = order_.empty() ? now_ms : order_.back().used_ms;
    order_.push_back({topic, std::move(subscribers), used_ms});
    index_.emplace(topic, std::prev(order_.end()));
  }

  // The cached subscribers of `topic`, or nullptr; does not count as a use.
  const std::vector<ProfilePtr>* find(std::uint64_t topic) const {
    auto it = index_.find(topic);
    return it == index_.end() ? nullptr : &it->second->subscribers;
  }

  void erase(std::uint64_t topic) {
    if (auto it = index_.find(topic); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }

  // Forgets topics not used for longer than the TTL: the coldest are at the back.
  void expire(std::int64_t now_ms) {
    while (!order_.empty() && now_ms - order_.back().used_ms > ttl_ms_) {
      index_.erase(order_.back().topic);
      order_.pop_back();
    }
  }

  // A dead peer is no subscriber of anything any more.
  void forget_peer(std::uint64_t id) {
    for (auto& e : order_) {
      std::erase_if(e.subscribers, [&](const ProfilePtr& p) { return p->node_id == id; });
    }
  }

  std::size_t size() const noexcept { return index_.size(); }

 private:
  struct Entry {
    std::uint64_t topic;
    std::vector<ProfilePtr> subscribers;
    std::int64_t used_ms;
  };
  std::size_t capacity_;
  std::int64_t ttl_ms_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::uint64_t, std::list<Entry>::iterator> index_;
};

}  // namespace psycho::poldercast
