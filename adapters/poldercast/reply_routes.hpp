// Where replies go: the reply subjects of requests delivered here, each with the overlay
// address of the requester's gateway, so a reply can go straight back instead of along a
// ring (a requester's inbox is usually a wildcard subscription, which joins no ring).
// Bounded twice: a route is forgotten after `ttl`, or when `capacity` newer ones arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace psycho::poldercast {

class ReplyRoutes {
 public:
  ReplyRoutes(std::size_t capacity, std::int64_t ttl_ms) : capacity_(capacity), ttl_ms_(ttl_ms) {}

  void remember(const std::string& reply, const std::string& address, std::int64_t now_ms) {
    expire(now_ms);
    auto [it, fresh] = routes_.insert_or_assign(reply, Route{address, now_ms});
    if (fresh) order_.push_back(&it->first);
    while (routes_.size() > capacity_) forget_oldest();
  }

  // The requester's address for a reply on `subject`, or nullptr.
  const std::string* find(const std::string& subject, std::int64_t now_ms) {
    expire(now_ms);
    auto it = routes_.find(subject);
    return it == routes_.end() ? nullptr : &it->second.address;
  }

  std::size_t size() const noexcept { return routes_.size(); }

 private:
  struct Route {
    std::string address;
    std::int64_t at_ms;
  };
  // Oldest first by first insertion; a route refreshed later still goes in that order,
  // which only shortens its life, never lengthens the bound.
  void expire(std::int64_t now_ms) {
    while (!order_.empty() && now_ms - routes_.at(*order_.front()).at_ms > ttl_ms_) forget_oldest();
  }
  void forget_oldest() {
    const std::string key = *order_.front();
    order_.pop_front();
    routes_.erase(key);
  }

  std::size_t capacity_;
  std::int64_t ttl_ms_;
  std::unordered_map<std::string, Route> routes_;
  std::deque<const std::string*> order_;  // keys of routes_ (stable: node-based map)
};

}  // namespace psycho::poldercast
