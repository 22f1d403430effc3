// HMAC-signed CONNECT (the lonelypsp idea): a client proves it holds the shared secret
// without sending it, so it is safe on an internal network without TLS, and a captured
// CONNECT cannot be used again.
//
// The client sends "hmac_ts" (Unix time, ms), "hmac_nonce" (8 to 128 characters, fresh for
// every connection) and "hmac_sig", the lower-case hex HMAC-SHA256 under the secret of
//   "psycho-connect:" + hmac_ts + ":" + hmac_nonce
// The gateway accepts a timestamp within `max_skew` of its clock and each nonce once: seen
// nonces are remembered until their timestamp is out of the window anyway, in a bounded
// cache; when that cache is full of live entries, new attempts are refused rather than
// letting memory grow.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/mutex.hpp"

namespace psycho::auth {

std::string hmac_connect_signature(std::string_view secret, std::int64_t ts_ms,
                                   std::string_view nonce);

class HmacVerifier {
 public:
  enum class Verdict { ok, malformed, bad_signature, expired, replayed, busy };

  HmacVerifier(std::string secret, std::chrono::milliseconds max_skew,
               std::size_t capacity = 100'000);
  // Thread-safe.
  Verdict verify(std::int64_t ts_ms, std::string_view nonce, std::string_view signature,
                 std::int64_t now_ms);

 private:
  const std::string secret_;
  const std::int64_t max_skew_ms_;
  const std::size_t capacity_;
  Mutex mutex_;
  std::unordered_set<std::string> seen_ GUARDED_BY(mutex_);
  std::deque<std::pair<std::int64_t, std::string>> expiry_
      GUARDED_BY(mutex_);  // (forget after, nonce), in order
};

std::string_view verdict_text(HmacVerifier::Verdict v) noexcept;

}  // namespace psycho::auth
