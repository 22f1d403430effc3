// A token bucket per connection for the publish rate limit: messages per second and bytes
// per second, each with one second of burst. Single-threaded (the session's worker).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "config/config.hpp"

namespace psycho::auth {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter() = default;
  explicit RateLimiter(const config::RateLimitConfig& rate)
      : msg_rate_(static_cast<double>(rate.messages)),
        byte_rate_(static_cast<double>(rate.bytes)),
        msgs_(msg_rate_),
        bytes_(byte_rate_),
        last_(Clock::now()) {}

  bool enabled() const noexcept { return msg_rate_ > 0 || byte_rate_ > 0; }

  // Whether one more message of `size` bytes fits now; takes it from the buckets if so.
  // Without a limit the clock is not read: a clock read is a few percent of the gateway's
  // CPU per publication on some VMs.
  bool allow(std::size_t size) noexcept { return !enabled() || take(size, Clock::now()); }
  // The same at a given time (tests).
  bool allow(std::size_t size, Clock::time_point now) noexcept {
    return !enabled() || take(size, now);
  }

 private:
  bool take(std::size_t size, Clock::time_point now) noexcept {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    msgs_ = std::min(msg_rate_, msgs_ + elapsed * msg_rate_);
    bytes_ = std::min(byte_rate_, bytes_ + elapsed * byte_rate_);
    const bool msg_ok = msg_rate_ <= 0 || msgs_ >= 1;
    const bool byte_ok = byte_rate_ <= 0 || bytes_ >= static_cast<double>(size);
    if (!msg_ok || !byte_ok) return false;
    if (msg_rate_ > 0) msgs_ -= 1;
    if (byte_rate_ > 0) bytes_ -= static_cast<double>(size);
    return true;
  }

  double msg_rate_ = 0, byte_rate_ = 0;
  double msgs_ = 0, bytes_ = 0;
  Clock::time_point last_{};
};

}  // namespace psycho::auth
