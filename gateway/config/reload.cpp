#include "config/reload.hpp"

namespace psycho::config {

namespace {

bool same_tls(const TlsConfig& a, const TlsConfig& b) {
  return a.cert_file == b.cert_file && a.key_file == b.key_file && a.ca_file == b.ca_file &&
         a.verify_clients == b.verify_clients;
}

bool same_rules(const SubjectRulesConfig& a, const SubjectRulesConfig& b) {
  return a.allow == b.allow && a.deny == b.deny;
}

bool same_user(const UserConfig& a, const UserConfig& b) {
  return a.user == b.user && a.password == b.password &&
         same_rules(a.permissions.publish, b.permissions.publish) &&
         same_rules(a.permissions.subscribe, b.permissions.subscribe) &&
         a.permissions.allow_responses == b.permissions.allow_responses &&
         a.permissions.response_expiry == b.permissions.response_expiry &&
         a.max_connections == b.max_connections && a.max_subscriptions == b.max_subscriptions &&
         a.max_payload == b.max_payload && a.publish_rate.messages == b.publish_rate.messages &&
         a.publish_rate.bytes == b.publish_rate.bytes;
}

bool same_auth(const AuthConfig& a, const AuthConfig& b) {
  if (a.timeout != b.timeout || a.token != b.token || a.hmac_secret_file != b.hmac_secret_file ||
      a.hmac_max_skew != b.hmac_max_skew || a.tls_map != b.tls_map ||
      a.users.size() != b.users.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.users.size(); ++i) {
    if (!same_user(a.users[i], b.users[i])) return false;
  }
  return true;
}

bool same_adapter_set(const std::vector<AdapterSection>& a, const std::vector<AdapterSection>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name) return false;
  }
  return true;
}

}  // namespace

ReloadPlan plan_reload(const Config& running, const Config& next) {
  ReloadPlan plan;
  const GatewayConfig& a = running.gateway;
  const GatewayConfig& b = next.gateway;
  auto fixed = [&](bool same, const char* key) {
    if (!same) plan.needs_restart.emplace_back(key);
  };
  auto live = [&](bool same, const char* key) {
    if (!same) plan.live.emplace_back(key);
  };
  fixed(a.name == b.name, "gateway.name");
  fixed(a.listen.to_string() == b.listen.to_string(), "gateway.listen");
  fixed(a.websocket.to_string() == b.websocket.to_string(), "gateway.websocket");
  fixed(a.websocket_path == b.websocket_path, "gateway.websocket_path");
  fixed(a.websocket_static == b.websocket_static, "gateway.websocket_static");
  fixed(a.admin.to_string() == b.admin.to_string(), "gateway.admin");
  fixed(a.max_payload == b.max_payload, "gateway.max_payload");  // announced in INFO
  fixed(a.max_control_line == b.max_control_line, "gateway.max_control_line");
  fixed(a.workers == b.workers, "gateway.workers");
  fixed(a.shutdown_timeout == b.shutdown_timeout, "gateway.shutdown_timeout");
  fixed(a.handshake_timeout == b.handshake_timeout, "gateway.handshake_timeout");
  fixed(a.first_op_timeout == b.first_op_timeout, "gateway.first_op_timeout");
  fixed(same_tls(a.tls, b.tls), "gateway.tls");
  fixed(same_tls(a.admin_tls, b.admin_tls), "gateway.admin_tls");
  // Turning authentication on or off would strand the clients already connected.
  fixed(a.auth.required() == b.auth.required(), "gateway.auth (required or not)");
  fixed(same_adapter_set(running.adapters, next.adapters), "the set of adapters");
  if (same_adapter_set(running.adapters, next.adapters)) {
    for (std::size_t i = 0; i < next.adapters.size(); ++i) {
      if (YAML::Dump(running.adapters[i].node) != YAML::Dump(next.adapters[i].node)) {
        plan.changed_adapters.push_back(next.adapters[i].name);
        plan.live.push_back(next.adapters[i].name);
      }
    }
  }
  fixed(running.stdio == next.stdio, "--stdio");

  live(a.max_pending == b.max_pending, "gateway.max_pending");
  live(a.max_connections == b.max_connections, "gateway.max_connections");
  live(a.max_subscriptions == b.max_subscriptions, "gateway.max_subscriptions");
  live(a.publish_rate.messages == b.publish_rate.messages &&
           a.publish_rate.bytes == b.publish_rate.bytes,
       "gateway.publish_rate");
  live(a.ping_interval == b.ping_interval, "gateway.ping_interval");
  live(a.max_pings_out == b.max_pings_out, "gateway.max_pings_out");
  live(a.auth.required() != b.auth.required() || same_auth(a.auth, b.auth), "gateway.auth");
  live(running.log.level == next.log.level && running.log.format == next.log.format, "log");
  return plan;
}

}  // namespace psycho::config
