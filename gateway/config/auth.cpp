#include "config/auth.hpp"

#include <unistd.h>

#include <set>

#include "core/subject.hpp"

namespace psycho::config {

namespace {

void read_patterns(Section& s, std::string_view key, std::vector<std::string>& out) {
  s.get(key, out);
  for (const auto& p : out) {
    if (!is_valid_pattern(p)) {
      s.error_at(key, "'" + s.name_of(key) + "' has an invalid subject pattern '" + p + "'");
    }
  }
}

void read_rules(Section& permissions, std::string_view key, SubjectRulesConfig& rules) {
  Section r = permissions.child(key);
  read_patterns(r, "allow", rules.allow);
  read_patterns(r, "deny", rules.deny);
  permissions.adopt(r);
}

void read_user(Section& u, UserConfig& user) {
  u.get("user", user.user);
  if (user.user.empty()) u.error_at("user", "'" + u.name_of("user") + "' must name the user");
  u.get("password", user.password);
  // Never echo the value: it may be a plain-text password written by mistake.
  if (!user.password.empty() && !is_bcrypt_hash(user.password)) {
    u.error_at("password", "'" + u.name_of("password") +
                               "' must be a bcrypt hash ($2b$...); make one with "
                               "`psycho-gateway passwd`");
  }
  Section p = u.child("permissions");
  read_rules(p, "publish", user.permissions.publish);
  read_rules(p, "subscribe", user.permissions.subscribe);
  p.get("allow_responses", user.permissions.allow_responses);
  p.get_duration("response_expiry", user.permissions.response_expiry, std::chrono::milliseconds(1),
                 std::chrono::hours(24));
  u.adopt(p);
  u.get("max_connections", user.max_connections, 0, 10'000'000);
  u.get("max_subscriptions", user.max_subscriptions, 0, 10'000'000);
  u.get_size("max_payload", user.max_payload, 0, 64 << 20);
  read_rate(u, "publish_rate", user.publish_rate);
}

void read_users(Section& auth, AuthConfig& a) {
  const YAML::Node users = auth.take("users");
  if (!users || users.IsNull()) return;
  if (!users.IsSequence()) {
    auth.error_at("users", "'gateway.auth.users' must be a list");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < users.size(); ++i) {
    Section u(users[i], auth.file(), "gateway.auth.users[" + std::to_string(i) + "]");
    UserConfig user;
    read_user(u, user);
    if (!user.user.empty() && !names.insert(user.user).second) {
      u.error_at("user", "user '" + user.user + "' is listed twice");
    }
    auth.adopt(u);
    a.users.push_back(std::move(user));
  }
}

}  // namespace

bool is_bcrypt_hash(std::string_view hash) noexcept {
  // $2b$12$ + 22 characters of salt + 31 of hash = 60.
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  return hash[4] >= '0' && hash[4] <= '3' && hash[5] >= '0' && hash[5] <= '9';
}

void read_rate(Section& parent, std::string_view key, RateLimitConfig& rate) {
  Section r = parent.child(key);
  r.get("messages", rate.messages, 0, 1'000'000'000);
  r.get_size("bytes", rate.bytes, 0, std::size_t{1} << 40);
  parent.adopt(r);
}

void read_auth(Section& gateway, AuthConfig& a) {
  Section s = gateway.child("auth");
  s.get_duration("timeout", a.timeout, std::chrono::milliseconds(100), std::chrono::minutes(10));
  s.get("token", a.token);
  s.get("hmac_secret_file", a.hmac_secret_file);
  if (!a.hmac_secret_file.empty() && ::access(a.hmac_secret_file.c_str(), R_OK) != 0) {
    s.error_at("hmac_secret_file",
               "'gateway.auth.hmac_secret_file': cannot read '" + a.hmac_secret_file + "'");
  }
  s.get_duration("hmac_max_skew", a.hmac_max_skew, std::chrono::seconds(1), std::chrono::hours(1));
  s.get("tls_map", a.tls_map);
  read_users(s, a);
  gateway.adopt(s);
}

}  // namespace psycho::config
