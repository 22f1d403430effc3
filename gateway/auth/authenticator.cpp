#include "auth/authenticator.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fstream>
#include <sstream>

#include "auth/bcrypt.hpp"

namespace psycho::auth {

namespace {

constexpr std::size_t kVerifiedCacheSize = 4096;

std::string sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

bool same_digest(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view method_name(Method m) noexcept {
  switch (m) {
    case Method::none:
      return "none";
    case Method::hmac:
      return "hmac";
    case Method::token:
      return "token";
    case Method::password:
      return "password";
    case Method::certificate:
      return "certificate";
  }
  return "unknown";
}

Result<std::unique_ptr<Authenticator>> Authenticator::create(const config::AuthConfig& config) {
  std::unique_ptr<Authenticator> a(new Authenticator(config));
  if (!config.hmac_secret_file.empty()) {
    std::ifstream in(config.hmac_secret_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (!in || secret.size() < 16) {
      return fail("gateway.auth.hmac_secret_file: cannot read '" + config.hmac_secret_file +
                  "', or it holds fewer than 16 bytes");
    }
    a->hmac_ = std::make_unique<HmacVerifier>(std::move(secret), config.hmac_max_skew);
  }
  return a;
}

PrincipalId principal_of(std::string_view name) {
  // Only configured user names are interned, so the table is as small as the user list
  // (plus the names of users removed by reloads).
  struct Interned {
    Mutex mutex;
    std::unordered_map<std::string, PrincipalId> ids GUARDED_BY(mutex);
  };
  static Interned interned;
  MutexLock lock(interned.mutex);
  auto [it, fresh] = interned.ids.try_emplace(std::string(name), 0);
  if (fresh) it->second = static_cast<PrincipalId>(interned.ids.size());
  return it->second;
}

Authenticator::Authenticator(const config::AuthConfig& config)
    : required_(config.required()), timeout_(config.timeout), tls_map_(config.tls_map) {
  if (!config.token.empty()) token_digest_ = sha256(config.token);
  for (const auto& u : config.users) {
    User user;
    user.name = u.user;
    user.principal = principal_of(u.user);
    user.password_hash = u.password;
    user.permissions = Permissions({u.permissions.publish.allow, u.permissions.publish.deny},
                                   {u.permissions.subscribe.allow, u.permissions.subscribe.deny},
                                   u.permissions.allow_responses, u.permissions.response_expiry);
    user.max_connections = u.max_connections;
    user.max_subscriptions = u.max_subscriptions;
    user.max_payload = u.max_payload;
    user.publish_rate = u.publish_rate;
    if (decoy_hash_.empty()) decoy_hash_ = u.password;
    auto name = user.name;
    users_.emplace(std::move(name), std::make_shared<const User>(std::move(user)));
  }
  unsigned char salt[32];
  RAND_bytes(salt, sizeof salt);
  cache_salt_.assign(reinterpret_cast<const char*>(salt), sizeof salt);
}

Method Authenticator::method_for(const protocol::ConnectOptions& o,
                                 std::string_view cert_cn) const {
  if (!o.hmac_sig.empty()) return Method::hmac;
  if (!o.auth_token.empty()) return Method::token;
  if (!o.user.empty() && !o.pass.empty()) return Method::password;
  if (tls_map_ && !cert_cn.empty()) return Method::certificate;
  return Method::none;
}

bool Authenticator::is_slow(const protocol::ConnectOptions& o, std::string_view cert_cn) const {
  return method_for(o, cert_cn) == Method::password;
}

Verdict Authenticator::verify(const protocol::ConnectOptions& o, std::string_view cert_cn) {
  Verdict v;
  v.method = method_for(o, cert_cn);
  switch (v.method) {
    case Method::none:
      v.reason = "no credentials";
      return v;
    case Method::hmac: {
      if (!hmac_) {
        v.reason = "hmac connect is not enabled";
        return v;
      }
      const auto verdict = hmac_->verify(o.hmac_ts, o.hmac_nonce, o.hmac_sig, unix_ms());
      v.ok = verdict == HmacVerifier::Verdict::ok;
      if (!v.ok) v.reason = std::string(verdict_text(verdict));
      return v;
    }
    case Method::token:
      v.ok = !token_digest_.empty() && same_digest(sha256(o.auth_token), token_digest_);
      if (!v.ok) v.reason = "wrong token";
      return v;
    case Method::password:
      return check_password(o);
    case Method::certificate: {
      auto it = users_.find(std::string(cert_cn));
      v.ok = it != users_.end();
      if (v.ok) {
        v.user = it->second;
      } else {
        v.reason = "no user for certificate '" + std::string(cert_cn) + "'";
      }
      return v;
    }
  }
  return v;
}

std::string Authenticator::cache_key(std::string_view user, std::string_view password) const {
  std::string material = cache_salt_;
  material += user;
  material.push_back('\0');
  material += password;
  return sha256(material);
}

Verdict Authenticator::check_password(const protocol::ConnectOptions& o) {
  Verdict v;
  v.method = Method::password;
  auto it = users_.find(o.user);
  if (it == users_.end() || it->second->password_hash.empty()) {
    // Same cost as a real check, so that timing does not tell which users exist.
    if (!decoy_hash_.empty()) bcrypt_verify(o.pass, decoy_hash_);
    v.reason = "unknown user or wrong password";
    return v;
  }
  const std::string key = cache_key(o.user, o.pass);
  bool cached = false;
  {
    MutexLock lock(cache_mutex_);
    cached = verified_.count(key) != 0;
  }
  if (!cached && !bcrypt_verify(o.pass, it->second->password_hash)) {
    v.reason = "unknown user or wrong password";
    return v;
  }
  if (!cached) {
    MutexLock lock(cache_mutex_);
    if (verified_.size() >= kVerifiedCacheSize) verified_.clear();
    verified_.insert(key);
  }
  v.ok = true;
  v.user = it->second;
  return v;
}

std::shared_ptr<const User> Authenticator::find_user(std::string_view name) const {
  auto it = users_.find(std::string(name));
  return it == users_.end() ? nullptr : it->second;
}

}  // namespace psycho::auth
