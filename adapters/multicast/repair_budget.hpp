// How much a gateway may send again in answer to NACKs: a NACK costs a few dozen bytes and
// could otherwise have the whole repair window multicast again, every nack_interval. Token
// buckets of bytes bound it per requesting host (the ip of the NACK's source: more sockets on
// one host buy no more; the gateways of one host share the group's port, so they would share
// a budget anyway) and in total (docs/multicast.md#trust).
//
// Pure (the caller passes the time) and single-threaded: the adapter's receiving thread owns
// it, under its receive lock.
#pragma once

#include <cstddef>
#include <map>

#include "adapters/multicast/repair.hpp"
#include "adapters/multicast/socket.hpp"

namespace psycho::multicast {

// `rate` tokens per second, holding at most `burst`; starts full.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst, Clock::time_point now)
      : rate_(rate), burst_(burst), tokens_(burst), at_(now) {}

  // Takes `n` tokens if there are that many now.
  bool take(double n, Clock::time_point now) noexcept;
  // What a bucket holds now, refilled; full() = as good as a new one.
  double tokens(Clock::time_point now) const noexcept;
  bool full(Clock::time_point now) const noexcept { return tokens(now) >= burst_; }

 private:
  double rate_, burst_, tokens_;
  Clock::time_point at_;
};

class RepairBudget {
 public:
  enum class Verdict { allowed, requester_rate, total_rate };

  // Keeps at most `max_requesters` buckets (one per requesting host heard lately).
  RepairBudget(const RepairSettings& settings, std::size_t max_requesters, Clock::time_point now);

  // Charges a retransmission of `bytes` asked for from `requester` to its host's bucket and
  // the total, or to neither when one of them is short (the verdict says which).
  Verdict take(const Source& requester, std::size_t bytes, Clock::time_point now);
  std::size_t requesters() const noexcept { return requesters_.size(); }

 private:
  // The requester's bucket; nullptr when the map is full of buckets still in use.
  TokenBucket* bucket(const Source& requester, Clock::time_point now);

  const RepairSettings settings_;
  const std::size_t max_requesters_;
  std::map<decltype(Source::host), TokenBucket> requesters_;
  TokenBucket total_;
};

}  // namespace psycho::multicast
