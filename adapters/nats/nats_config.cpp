#include "adapters/nats/nats_config.hpp"

#include <algorithm>
#include <tuple>

#include <unistd.h>

#include "config/section.hpp"

namespace psycho::nats {

namespace {

// `servers` items may themselves be comma-separated lists (that is what --nats gives).
std::vector<std::string> split_servers(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    for (std::size_t start = 0; start <= item.size();) {
      const std::size_t comma = std::min(item.find(',', start), item.size());
      const std::string url = item.substr(start, comma - start);
      const auto first = url.find_first_not_of(" \t");
      const auto last = url.find_last_not_of(" \t");
      if (first != std::string::npos) out.push_back(url.substr(first, last - first + 1));
      start = comma + 1;
    }
  }
  return out;
}

bool valid_server_url(const std::string& url) {
  // nats.c accepts a bare host:port too, but a scheme makes typos visible early.
  for (const char* scheme : {"nats://", "tls://"}) {
    const std::string s(scheme);
    if (url.size() > s.size() && url.compare(0, s.size(), s) == 0) return true;
  }
  return false;
}

void require_readable(config::Section& s, std::string_view key, const std::string& path) {
  if (!path.empty() && ::access(path.c_str(), R_OK) != 0) {
    s.error_at(key, "'" + s.name_of(key) + "': cannot read '" + path + "'");
  }
}

void read_tls(config::Section& s, TlsSettings& tls) {
  config::Section t = s.child("tls");
  t.get("ca_file", tls.ca_file);
  t.get("cert_file", tls.cert_file);
  t.get("key_file", tls.key_file);
  t.get("verify", tls.verify);
  t.require_both_or_neither("cert_file", tls.cert_file, "key_file", tls.key_file);
  require_readable(t, "ca_file", tls.ca_file);
  require_readable(t, "cert_file", tls.cert_file);
  require_readable(t, "key_file", tls.key_file);
  s.adopt(t);
}

void read_reconnect(config::Section& s, ReconnectSettings& r) {
  config::Section c = s.child("reconnect");
  c.get_duration("wait", r.wait, std::chrono::milliseconds(10), std::chrono::hours(1));
  c.get_duration("jitter", r.jitter, std::chrono::milliseconds(0), std::chrono::minutes(1));
  c.get("max_attempts", r.max_attempts, -1, 1'000'000);
  c.get_size("buffer_size", r.buffer_size, 64 << 10, std::size_t{1} << 30);
  s.adopt(c);
}

void read_jetstream(config::Section& s, JetStreamSettings& js) {
  config::Section j = s.child("jetstream");
  read_patterns(j, "export", js.exports);
  j.get_duration("ack_timeout", js.ack_timeout, std::chrono::milliseconds(10),
                 std::chrono::minutes(10));
  j.get("max_pending", js.max_pending, 1, 1'000'000);
  j.get("retries", js.retries, 0, 100);
  s.adopt(j);
}

// `auto`, or a bool (YAML's spellings of one: true/false, yes/no, on/off).
void read_trace_headers(config::Section& s, TraceHeaders& out) {
  std::string text;
  s.get("trace_headers", text);
  if (text.empty() || text == "auto") return;
  if (bool on = false; config::parse_bool(text, on)) {
    out = on ? TraceHeaders::on : TraceHeaders::off;
  } else {
    s.error_at("trace_headers", "'" + s.name_of("trace_headers") +
                                    "' must be auto, true or false, not '" + text + "'");
  }
}

void read_credentials(config::Section& s, NatsConfig& c) {
  s.get("user", c.user);
  s.get("password", c.password);
  s.get("token", c.token);
  s.get("nkey", c.nkey);
  s.get("nkey_seed_file", c.nkey_seed_file);
  s.require_both_or_neither("nkey", c.nkey, "nkey_seed_file", c.nkey_seed_file);
  s.get("creds_file", c.creds_file);
  require_readable(s, "nkey_seed_file", c.nkey_seed_file);
  require_readable(s, "creds_file", c.creds_file);
  const int ways = (!c.user.empty() ? 1 : 0) + (!c.token.empty() ? 1 : 0) +
                   (!c.nkey_seed_file.empty() ? 1 : 0) + (!c.creds_file.empty() ? 1 : 0);
  if (ways > 1) {
    s.error_at("user", "'" + s.name_of("") +
                           "': choose one of user/password, token, nkey_seed_file, creds_file");
  }
  if (!c.password.empty() && c.user.empty()) {
    s.error_at("password", "'" + s.name_of("password") + "' needs 'user'");
  }
}

}  // namespace

Result<NatsConfig> parse_config(const config::AdapterSection& section) {
  NatsConfig c;
  config::Section s(section.node, section.file, "nats");
  std::vector<std::string> servers;
  s.get("servers", servers);
  c.servers = split_servers(servers);
  if (c.servers.empty()) s.error_at("servers", "'nats.servers' needs at least one server URL");
  for (const auto& url : c.servers) {
    if (!valid_server_url(url)) {
      s.error_at("servers", "'nats.servers': '" + url +
                                "' is not a NATS URL (nats://host:port or tls://host:port)");
    }
  }
  s.get("name", c.name);
  read_credentials(s, c);
  read_tls(s, c.tls);
  read_reconnect(s, c.reconnect);
  s.get_duration("connect_timeout", c.connect_timeout, std::chrono::milliseconds(10),
                 std::chrono::minutes(5));
  c.subjects = SubjectFilter::parse(s);
  read_trace_headers(s, c.trace_headers);
  s.get("bus", c.bus);
  if (c.bus.empty()) s.error_at("bus", "'nats.bus' must not be empty");
  read_queue_settings(s, c.queue);
  s.get_size("pending_bytes", c.pending_bytes, 64 << 10, std::size_t{4} << 30);
  s.get("pending_messages", c.pending_messages, 16, 100'000'000);
  read_jetstream(s, c.jetstream);
  if (auto st = s.finish(); !st) return fail(st.error());
  return c;
}

std::uint32_t bus_id(std::string_view bus_name) noexcept {
  // FNV-1a: stable across builds and processes, which std::hash is not required to be.
  std::uint32_t h = 2166136261u;
  for (const char ch : bus_name) {
    h ^= static_cast<unsigned char>(ch);
    h *= 16777619u;
  }
  return h == 0 ? 1 : h;
}

std::string restart_keys(const NatsConfig& running, const NatsConfig& next) {
  // The whole configurations decide, with what changes live (the subject lists) taken over
  // from `running`: a field added to NatsConfig or to its settings structs thus needs a
  // restart until it is taken over here too. It cannot change live by being forgotten; the
  // names below only word the error.
  NatsConfig unchanged_live = next;
  unchanged_live.subjects = running.subjects;
  if (unchanged_live == running) return "";
  const NatsConfig &a = running, &b = next;
  std::string keys;
  const auto differs = [&](bool same, const char* key) {
    if (!same) keys += (keys.empty() ? "" : ", ") + std::string(key);
  };
  differs(a.servers == b.servers, "servers");
  differs(a.name == b.name, "name");
  differs(std::tie(a.user, a.password, a.token, a.creds_file, a.nkey, a.nkey_seed_file) ==
              std::tie(b.user, b.password, b.token, b.creds_file, b.nkey, b.nkey_seed_file),
          "credentials");
  differs(a.tls == b.tls, "tls");
  differs(a.reconnect == b.reconnect, "reconnect");
  differs(a.connect_timeout == b.connect_timeout, "connect_timeout");
  differs(a.trace_headers == b.trace_headers, "trace_headers");
  differs(a.bus == b.bus, "bus");
  differs(std::tie(a.queue, a.pending_messages, a.pending_bytes) ==
              std::tie(b.queue, b.pending_messages, b.pending_bytes),
          "queue_size/pending_*");
  differs(a.jetstream == b.jetstream, "jetstream");
  return keys.empty() ? "settings not named here" : keys;
}

}  // namespace psycho::nats
