#include "adapters/multicast/repair_budget.hpp"

#include <algorithm>
#include <chrono>

namespace psycho::multicast {

double TokenBucket::tokens(Clock::time_point now) const noexcept {
  const double elapsed = std::chrono::duration<double>(now - at_).count();
  return elapsed <= 0 ? tokens_ : std::min(burst_, tokens_ + elapsed * rate_);
}

bool TokenBucket::take(double n, Clock::time_point now) noexcept {
  tokens_ = tokens(now);
  at_ = std::max(at_, now);
  if (tokens_ < n) return false;
  tokens_ -= n;
  return true;
}

RepairBudget::RepairBudget(const RepairSettings& settings, std::size_t max_requesters,
                           Clock::time_point now)
    : settings_(settings),
      max_requesters_(max_requesters),
      total_(static_cast<double>(settings.total_rate), static_cast<double>(settings.total_burst),
             now) {}

TokenBucket* RepairBudget::bucket(const Source& requester, Clock::time_point now) {
  if (const auto it = requesters_.find(requester.host); it != requesters_.end()) return &it->second;
  if (requesters_.size() >= max_requesters_) {
    // A full bucket is as good as none: forget those to make room.
    std::erase_if(requesters_, [&](const auto& entry) { return entry.second.full(now); });
    if (requesters_.size() >= max_requesters_) return nullptr;
  }
  const auto rate = static_cast<double>(settings_.requester_rate);
  const auto burst = static_cast<double>(settings_.requester_burst);
  return &requesters_.emplace(requester.host, TokenBucket(rate, burst, now)).first->second;
}

RepairBudget::Verdict RepairBudget::take(const Source& requester, std::size_t bytes,
                                         Clock::time_point now) {
  TokenBucket* own = bucket(requester, now);
  const auto n = static_cast<double>(bytes);
  if (own == nullptr || own->tokens(now) < n) return Verdict::requester_rate;
  if (!total_.take(n, now)) return Verdict::total_rate;
  own->take(n, now);
  return Verdict::allowed;
}

}  // namespace psycho::multicast
