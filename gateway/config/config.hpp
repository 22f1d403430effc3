// The gateway's configuration: what the YAML file, the defaults and the command-line flags
// resolve to. See docs/configuration.md for every key and deploy/psycho-gateway.yaml for a
// documented example.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/log.hpp"

namespace psycho::config {

// "host:port", "[v6]:port" or "" (disabled).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  bool enabled() const noexcept { return !host.empty(); }
  std::string to_string() const;  // "" when disabled; brackets around IPv6 hosts
};

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;          // when set, client certificates are verified against it
  bool verify_clients = false;  // require a client certificate
  bool enabled() const noexcept { return !cert_file.empty(); }
};

// Subject patterns a user may use in one direction; an empty allow list allows all, deny wins.
struct SubjectRulesConfig {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
};

struct PermissionsConfig {
  SubjectRulesConfig publish, subscribe;
  // May publish, once, to the reply subject of a message someone else sent it, for
  // response_expiry after receiving it.
  bool allow_responses = false;
  std::chrono::milliseconds response_expiry{std::chrono::minutes(1)};
};

// Per second; 0 means unlimited.
struct RateLimitConfig {
  std::uint64_t messages = 0;
  std::size_t bytes = 0;
  bool enabled() const noexcept { return messages != 0 || bytes != 0; }
};

struct UserConfig {
  std::string user;
  std::string password;  // a bcrypt hash ($2b$...); empty for certificate-only users
  PermissionsConfig permissions;
  // 0 = the gateway-wide value.
  std::size_t max_connections = 0;
  std::size_t max_subscriptions = 0;
  std::size_t max_payload = 0;
  RateLimitConfig publish_rate;
};

struct AuthConfig {
  std::chrono::milliseconds timeout{std::chrono::seconds(2)};
  std::string token;             // a shared token (compare in constant time)
  std::string hmac_secret_file;  // enables HMAC-signed CONNECT
  std::chrono::milliseconds hmac_max_skew{std::chrono::seconds(30)};
  bool tls_map = false;  // a verified client certificate's CN names the user
  std::vector<UserConfig> users;
  bool required() const noexcept {
    return !token.empty() || !hmac_secret_file.empty() || !users.empty() || tls_map;
  }
};

struct GatewayConfig {
  std::string name = "psycho-gateway";
  Endpoint listen{"127.0.0.1", 4242};
  Endpoint websocket{"127.0.0.1", 4243};
  std::string websocket_path = "/";
  // A directory whose files the WebSocket listener serves to plain HTTP GET/HEAD requests
  // (net/static_files.hpp); "" (the default) serves none.
  std::string websocket_static;
  Endpoint admin{"127.0.0.1", 9242};
  std::size_t max_payload = 1024 * 1024;
  std::size_t max_control_line = 4 * 1024;
  std::size_t max_pending = 8 * 1024 * 1024;  // outbound bytes queued per client
  std::size_t max_connections = 65536;
  std::size_t max_subscriptions = 65536;  // per connection; 0 = unlimited
  std::chrono::milliseconds ping_interval{std::chrono::minutes(2)};
  int max_pings_out = 2;
  int workers = 0;  // 0 = one per core
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(10)};
  // How long a new connection may take for its TLS handshake and WebSocket upgrade.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // From INFO to the client's first operation, when authentication is not required.
  std::chrono::milliseconds first_op_timeout{std::chrono::seconds(30)};
  TlsConfig tls;
  TlsConfig admin_tls;  // HTTPS for the admin endpoint
  AuthConfig auth;
  RateLimitConfig publish_rate;  // per connection
};

// The logger defines its own options (core has no configuration code); the `log:` section
// fills them in directly.
using LogLevel = log::Level;
using LogFormat = log::Format;
using LogConfig = log::Options;

// An adapter's own section (`nats:`, `multicast:`, ...), handed to the adapter's factory
// through the registry, which parses it with config::Section.
struct AdapterSection {
  std::string name;
  YAML::Node node;
  std::string file;  // for file:line:col messages; "" when the section came from flags
};

struct Config {
  GatewayConfig gateway;
  LogConfig log;
  std::vector<AdapterSection> adapters;
  bool stdio = false;  // serve one client on stdin/stdout (--stdio)
  // --ports-file: where to report the ports the listeners bound ("" = nowhere).
  std::string ports_file;
};

}  // namespace psycho::config
