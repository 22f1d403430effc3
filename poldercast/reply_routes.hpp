// Where replies go: the inbox reply subjects of requests delivered here, each with the
// overlay address of the requester's gateway, so a reply can go straight back instead of
// along a ring (a requester's inbox is usually a wildcard subscription, which joins no ring).
// A publication may name any reply subject and any address, so a route must never divert a
// subject's ordinary traffic (docs/poldercast.md, "Request/reply"): only inbox subjects get
// one, and it serves one reply. The node also skips it for subjects it knows subscribers of.
// Bounded twice: a route is forgotten after `ttl`, or when `capacity` newer ones arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace psycho::poldercast {

// A request's private reply subject: "_INBOX." and more, the prefix NATS clients and the
// psycho client library (clients/client.cpp) use for request replies.
inline bool inbox_subject(std::string_view subject) noexcept {
  constexpr std::string_view kPrefix = "_INBOX.";
  return subject.size() > kPrefix.size() && subject.starts_with(kPrefix);
}

class ReplyRoutes {
 public:
  ReplyRoutes(std::size_t capacity, std::int64_t ttl_ms) : capacity_(capacity), ttl_ms_(ttl_ms) {}

  // Remembers that replies on `reply` go to `address`, where node `node` is (0: whoever is
  // there); ignored unless `reply` is an inbox.
  void remember(const std::string& reply, const std::string& address, std::uint64_t node,
                std::int64_t now_ms) {
    if (!inbox_subject(reply) || address.empty() || capacity_ == 0) return;
    expire(now_ms);
    forget(reply);
    order_.push_back({reply, address, node, now_ms});
    index_.emplace(order_.back().reply, std::prev(order_.end()));
    while (index_.size() > capacity_) forget_oldest();
  }

  // The requester's address and node for a reply on `subject`, if there is a route; the
  // route is used up.
  std::optional<std::pair<std::string, std::uint64_t>> take(std::string_view subject,
                                                            std::int64_t now_ms) {
    expire(now_ms);
    auto it = index_.find(subject);
    if (it == index_.end()) return std::nullopt;
    std::pair<std::string, std::uint64_t> route{std::move(it->second->address), it->second->node};
    order_.erase(it->second);
    index_.erase(it);
    return route;
  }

  // The address take() would find for `subject` now (without using the route up), or
  // nullptr.
  const std::string* address(std::string_view subject, std::int64_t now_ms) const {
    auto it = index_.find(subject);
    if (it == index_.end() || now_ms - it->second->at_ms > ttl_ms_) return nullptr;
    return &it->second->address;
  }

  std::size_t size() const noexcept { return index_.size(); }

 private:
  struct Route {
    std::string reply, address;
    std::uint64_t node;
    std::int64_t at_ms;
  };
  void expire(std::int64_t now_ms) {
    while (!order_.empty() && now_ms - order_.front().at_ms > ttl_ms_) forget_oldest();
  }
  void forget(std::string_view reply) {
    if (auto it = index_.find(reply); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }
  void forget_oldest() {
    index_.erase(order_.front().reply);
    order_.pop_front();
  }

  std::size_t capacity_;
  std::int64_t ttl_ms_;
  std::list<Route> order_;  // oldest first: a refreshed route moves to the back
  // Keys view the reply subjects in order_, whose nodes never move.
  std::unordered_map<std::string_view, std::list<Route>::iterator> index_;
};

}  // namespace psycho::poldercast
