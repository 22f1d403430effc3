#include "auth/hmac_connect.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace psycho::auth {

std::string hmac_connect_signature(std::string_view secret, std::int64_t ts_ms,
                                   std::string_view nonce) {
  const std::string text = "psycho-connect:" + std::to_string(ts_ms) + ":" + std::string(nonce);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += digits[mac[i] >> 4];
    hex += digits[mac[i] & 0xF];
  }
  return hex;
}

HmacVerifier::HmacVerifier(std::string secret, std::chrono::milliseconds max_skew,
                           std::size_t capacity)
    : secret_(std::move(secret)), max_skew_ms_(max_skew.count()), capacity_(capacity) {}

HmacVerifier::Verdict HmacVerifier::verify(std::int64_t ts_ms, std::string_view nonce,
                                           std::string_view signature, std::int64_t now_ms) {
  if (nonce.size() < 8 || nonce.size() > 128 || signature.size() != 64) return Verdict::malformed;
  if (ts_ms < now_ms - max_skew_ms_ || ts_ms > now_ms + max_skew_ms_) return Verdict::expired;
  // The signature first: an unauthenticated peer must not be able to fill the nonce cache.
  const std::string expected = hmac_connect_signature(secret_, ts_ms, nonce);
  if (CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0) {
    return Verdict::bad_signature;
  }
  MutexLock lock(mutex_);
  while (!expiry_.empty() && expiry_.front().first < now_ms) {
    seen_.erase(expiry_.front().second);
    expiry_.pop_front();
  }
  if (seen_.count(std::string(nonce)) != 0) return Verdict::replayed;
  if (seen_.size() >= capacity_) return Verdict::busy;
  seen_.emplace(nonce);
  // Past ts + skew the timestamp check refuses it anyway. The deque is in insertion order,
  // which is not quite expiry order; a nonce may be kept a little longer, never shorter.
  expiry_.emplace_back(ts_ms + max_skew_ms_, std::string(nonce));
  return Verdict::ok;
}

std::string_view verdict_text(HmacVerifier::Verdict v) noexcept {
  switch (v) {
    case HmacVerifier::Verdict::ok:
      return "ok";
    case HmacVerifier::Verdict::malformed:
      return "malformed hmac fields";
    case HmacVerifier::Verdict::bad_signature:
      return "bad hmac signature";
    case HmacVerifier::Verdict::expired:
      return "hmac timestamp outside the allowed skew";
    case HmacVerifier::Verdict::replayed:
      return "hmac nonce already used";
    case HmacVerifier::Verdict::busy:
      return "hmac replay cache full";
  }
  return "unknown";
}

}  // namespace psycho::auth
