// Who a client is: checks the credentials of CONNECT against `gateway.auth` and returns the
// user (with permissions and limits) the connection acts as.
//
// Methods, tried in this order: an HMAC-signed CONNECT (hmac_* fields), a shared token
// (auth_token), a user and password (bcrypt), and, with `tls_map`, the verified client
// certificate's common name. Secrets are compared in constant time and never appear in a
// verdict's reason, which is meant for the log.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "auth/hmac_connect.hpp"
#include "auth/permissions.hpp"
#include "config/config.hpp"
#include "core/message.hpp"
#include "core/mutex.hpp"
#include "core/result.hpp"
#include "protocol/connect_options.hpp"

namespace psycho::auth {

// The id of the user called `name`: the same for every connection of that user, and across
// configuration reloads, for the life of the process. Never 0. Thread-safe.
PrincipalId principal_of(std::string_view name);

struct User {
  std::string name;
  PrincipalId principal = 0;  // principal_of(name)
  std::string password_hash;
  Permissions permissions;
  std::size_t max_connections = 0;  // 0: no per-user bound
  std::size_t max_subscriptions = 0;
  std::size_t max_payload = 0;
  config::RateLimitConfig publish_rate;
};

enum class Method { none, hmac, token, password, certificate };
std::string_view method_name(Method m) noexcept;

struct Verdict {
  bool ok = false;
  // Null: a token or HMAC client, which may do everything. Shared, so that a session keeps
  // its user alive across a configuration reload that replaces the Authenticator.
  std::shared_ptr<const User> user;
  Method method = Method::none;
  std::string reason;  // why not, without secrets
};

class Authenticator {
 public:
  // Reads the HMAC secret file; fails on an unreadable or empty one.
  static Result<std::unique_ptr<Authenticator>> create(const config::AuthConfig& config);

  bool required() const noexcept { return required_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

  Method method_for(const protocol::ConnectOptions& options, std::string_view cert_cn) const;
  // Whether verifying would run bcrypt (slow): callers move that off their thread.
  bool is_slow(const protocol::ConnectOptions& options, std::string_view cert_cn) const;
  // Thread-safe.
  Verdict verify(const protocol::ConnectOptions& options, std::string_view cert_cn);
  // The user of that name (after a reload: the new permissions), or null.
  std::shared_ptr<const User> find_user(std::string_view name) const;

 private:
  explicit Authenticator(const config::AuthConfig& config);
  Verdict check_password(const protocol::ConnectOptions& options);
  std::string cache_key(std::string_view user, std::string_view password) const;

  bool required_ = false;
  std::chrono::milliseconds timeout_;
  std::string token_digest_;  // SHA-256 of the token, or empty
  std::unique_ptr<HmacVerifier> hmac_;
  bool tls_map_ = false;
  std::unordered_map<std::string, std::shared_ptr<const User>> users_;
  std::string decoy_hash_;  // a real user's hash, run for unknown users
  // Passwords verified recently, as salted SHA-256 digests, so that a client reconnecting
  // does not cost a bcrypt run each time. Bounded; cleared when full.
  std::string cache_salt_;
  Mutex cache_mutex_;
  std::unordered_set<std::string> verified_ GUARDED_BY(cache_mutex_);
};

}  // namespace psycho::auth
