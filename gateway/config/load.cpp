#include "config/load.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "config/auth.hpp"
#include "config/section.hpp"

namespace psycho::config {

namespace {

constexpr std::size_t kKiB = 1024, kMiB = 1024 * 1024;
// A configuration is a few KiB; this only stops `--config /dev/zero` from eating memory.
constexpr std::size_t kMaxFileSize = 16 * kMiB;

std::string position(const std::string& file, const YAML::Mark& mark) {
  if (mark.line < 0) return file + ": ";
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": ";
}

void read_tls(Section& tls, TlsConfig& t, const std::string& name) {
  tls.get("cert_file", t.cert_file);
  tls.get("key_file", t.key_file);
  tls.get("ca_file", t.ca_file);
  tls.get("verify_clients", t.verify_clients);
  if (t.cert_file.empty() != t.key_file.empty()) {
    tls.error_at(t.cert_file.empty() ? "key_file" : "cert_file",
                 "'" + name + "' needs both cert_file and key_file");
  } else if (!t.ca_file.empty() && t.cert_file.empty()) {
    tls.error_at("ca_file", "'" + name + ".ca_file' needs cert_file and key_file");
  }
  if (t.verify_clients && t.ca_file.empty()) {
    tls.error_at("verify_clients", "'" + name + ".verify_clients' needs ca_file");
  }
}

void read_limits(Section& s, GatewayConfig& g) {
  s.get_size("max_payload", g.max_payload, 1, 64 * kMiB);
  s.get_size("max_control_line", g.max_control_line, 64, 1 * kMiB);
  s.get_size("max_pending", g.max_pending, 64 * kKiB, std::size_t{16} << 30);
  s.get("max_connections", g.max_connections, 1, 10'000'000);
  s.get("max_subscriptions", g.max_subscriptions, 0, 10'000'000);
  // A largest-allowed message must fit in a client's queue, or every one of them would
  // close its receiver as a slow consumer.
  if (g.max_pending < g.max_payload) {
    s.error_at(s.has("max_pending") ? "max_pending" : "max_payload",
               "'gateway.max_pending' (" + std::to_string(g.max_pending) +
                   ") must be at least 'gateway.max_payload' (" + std::to_string(g.max_payload) +
                   ")");
  }
}

Status read_gateway(const YAML::Node& node, const std::string& file, GatewayConfig& g) {
  Section s(node, file, "gateway");
  s.get("name", g.name);
  s.get("listen", g.listen);
  s.get("websocket", g.websocket);
  s.get("websocket_path", g.websocket_path);
  s.get("websocket_static", g.websocket_static);
  s.get("admin", g.admin);
  read_limits(s, g);
  // 100ms rather than seconds: integration tests exercise stale connections quickly.
  s.get_duration("ping_interval", g.ping_interval, std::chrono::milliseconds(100));
  s.get("max_pings_out", g.max_pings_out, 1, 1000);
  s.get("workers", g.workers, 0, 256);
  s.get_duration("shutdown_timeout", g.shutdown_timeout);
  s.get_duration("handshake_timeout", g.handshake_timeout, std::chrono::milliseconds(100));
  s.get_duration("first_op_timeout", g.first_op_timeout, std::chrono::milliseconds(100));
  Section tls = s.child("tls");
  read_tls(tls, g.tls, "gateway.tls");
  s.adopt(tls);
  Section admin_tls = s.child("admin_tls");
  read_tls(admin_tls, g.admin_tls, "gateway.admin_tls");
  s.adopt(admin_tls);
  read_auth(s, g.auth);
  read_rate(s, "publish_rate", g.publish_rate);
  if (g.auth.tls_map && !g.tls.verify_clients) {
    s.error_at("auth", "'gateway.auth.tls_map' needs 'gateway.tls.verify_clients: true'");
  }
  if (g.name.empty()) s.error_at("name", "'gateway.name' must not be empty");
  if (g.websocket_path.empty() || g.websocket_path.front() != '/') {
    s.error_at("websocket_path", "'gateway.websocket_path' must start with '/'");
  }
  return s.finish();
}

template <class T, std::size_t N>
bool pick(const std::pair<std::string_view, T> (&table)[N], const std::string& name, T& out) {
  for (const auto& [text, value] : table) {
    if (text == name) {
      out = value;
      return true;
    }
  }
  return false;
}

Status read_log(const YAML::Node& node, const std::string& file, LogConfig& log) {
  static constexpr std::pair<std::string_view, LogLevel> levels[] = {
      {"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
      {"warn", LogLevel::warn},   {"error", LogLevel::error}, {"off", LogLevel::off}};
  static constexpr std::pair<std::string_view, LogFormat> formats[] = {{"text", LogFormat::text},
                                                                       {"json", LogFormat::json}};
  Section s(node, file, "log");
  std::string level, format;
  s.get("level", level);
  s.get("format", format);
  if (s.has("level") && !pick(levels, level, log.level)) {
    s.error_at("level",
               "'log.level' must be trace, debug, info, warn, error or off, not '" + level + "'");
  }
  if (s.has("format") && !pick(formats, format, log.format)) {
    s.error_at("format", "'log.format' must be text or json, not '" + format + "'");
  }
  return s.finish();
}

// One top-level entry: gateway, log, an adapter's section, or a mistake.
Status read_entry(const YAML::Node& key, const YAML::Node& value, const std::string& file,
                  const std::vector<std::string>& adapter_names, Config& config) {
  if (!key.IsScalar()) return fail(position(file, key.Mark()) + "section names must be plain");
  const std::string& name = key.Scalar();
  if (name == "gateway") return read_gateway(value, file, config.gateway);
  if (name == "log") return read_log(value, file, config.log);
  if (std::find(adapter_names.begin(), adapter_names.end(), name) != adapter_names.end()) {
    config.adapters.push_back(AdapterSection{name, value, file});
    return Ok{};
  }
  std::vector<std::string> known = {"gateway", "log"};
  known.insert(known.end(), adapter_names.begin(), adapter_names.end());
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return fail(position(file, key.Mark()) + "unknown section '" + name + "'" +
              did_you_mean(name, known) + " (known: " + list + ")");
}

Result<Config> parse_root(const YAML::Node& root, const std::string& file,
                          const std::vector<std::string>& adapter_names, Config config) {
  if (!root || root.IsNull()) return config;  // empty file or only comments: defaults
  if (!root.IsMap())
    return fail(position(file, root.Mark()) + "the configuration must be a mapping");
  std::string errors;
  std::vector<std::string> seen;
  for (const auto& entry : root) {
    Status st = Ok{};
    if (entry.first.IsScalar() &&
        std::find(seen.begin(), seen.end(), entry.first.Scalar()) != seen.end()) {
      st = fail(position(file, entry.first.Mark()) + "duplicate section '" + entry.first.Scalar() +
                "'");
    } else {
      if (entry.first.IsScalar()) seen.push_back(entry.first.Scalar());
      st = read_entry(entry.first, entry.second, file, adapter_names, config);
    }
    if (!st) errors += (errors.empty() ? "" : "\n") + st.error();
  }
  if (!errors.empty()) return fail(errors);
  return config;
}

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, std::string_view file_name,
                            const std::vector<std::string>& adapter_names, Config defaults) {
  const std::string file(file_name);
  // yaml-cpp reports syntax errors (and a few oddities while walking) by exception; this is
  // the boundary where they become file:line:col messages.
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    return parse_root(root, file, adapter_names, std::move(defaults));
  } catch (const YAML::Exception& e) {
    return fail(position(file, e.mark) + e.msg);
  } catch (const std::exception& e) {
    return fail(file + ": " + e.what());
  }
}

Result<Config> load_config_file(const std::string& path,
                                const std::vector<std::string>& adapter_names, Config defaults) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(path + ": cannot read the configuration file: " + std::strerror(errno));
  }
  std::string text;
  char buf[16384];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() <= kMaxFileSize) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    return fail(path + ": cannot read the configuration file: " + std::strerror(read_errno));
  }
  if (text.size() > kMaxFileSize) {
    return fail(path + ": the configuration file is larger than 16MiB");
  }
  return parse_config(text, path, adapter_names, std::move(defaults));
}

}  // namespace psycho::config
