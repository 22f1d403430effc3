#include "config/load.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/section.hpp"

namespace psycho::config {

namespace {

constexpr std::size_t kKiB = 1024, kMiB = 1024 * 1024;

Status read_gateway(const YAML::Node& node, const std::string& file, GatewayConfig& g) {
  Section s(node, file, "gateway");
  s.get("name", g.name);
  s.get("listen", g.listen);
  s.get("websocket", g.websocket);
  s.get("websocket_path", g.websocket_path);
  s.get("admin", g.admin);
  s.get_size("max_payload", g.max_payload, 1, 64 * kMiB);
  s.get_size("max_control_line", g.max_control_line, 64, 1 * kMiB);
  s.get_size("max_pending", g.max_pending, 64 * kKiB, std::size_t{1} << 34);
  s.get_size("max_connections", g.max_connections, 1, 10'000'000);
  s.get_size("max_subscriptions", g.max_subscriptions, 0, 10'000'000);
  s.get_duration("ping_interval", g.ping_interval, std::chrono::milliseconds(100));
  s.get("max_pings_out", g.max_pings_out, 1, 1000);
  s.get("workers", g.workers, 0, 256);
  s.get_duration("shutdown_timeout", g.shutdown_timeout);
  s.get_duration("handshake_timeout", g.handshake_timeout, std::chrono::milliseconds(100));
  Section tls = s.child("tls");
  tls.get("cert_file", g.tls.cert_file);
  tls.get("key_file", g.tls.key_file);
  tls.get("ca_file", g.tls.ca_file);
  tls.get("verify_clients", g.tls.verify_clients);
  if (g.tls.cert_file.empty() != g.tls.key_file.empty()) {
    tls.error_at(g.tls.cert_file.empty() ? "key_file" : "cert_file",
                 "'gateway.tls' needs both cert_file and key_file");
  }
  if (g.tls.verify_clients && g.tls.ca_file.empty()) {
    tls.error_at("verify_clients", "'gateway.tls.verify_clients' needs ca_file");
  }
  s.adopt(tls);
  if (g.websocket_path.empty() || g.websocket_path.front() != '/') {
    s.error_at("websocket_path", "'gateway.websocket_path' must start with '/'");
  }
  return s.finish();
}

Status read_log(const YAML::Node& node, const std::string& file, LogConfig& log) {
  Section s(node, file, "log");
  std::string level, format;
  s.get("level", level);
  s.get("format", format);
  static const std::pair<std::string_view, LogLevel> levels[] = {
      {"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
      {"warn", LogLevel::warn},   {"error", LogLevel::error}, {"off", LogLevel::off}};
  if (!level.empty()) {
    auto it = std::find_if(std::begin(levels), std::end(levels),
                           [&](const auto& l) { return l.first == level; });
    if (it == std::end(levels)) {
      s.error_at("level", "'log.level' must be trace, debug, info, warn, error or off");
    } else {
      log.level = it->second;
    }
  }
  if (format == "json")
    log.format = LogFormat::json;
  else if (format == "text")
    log.format = LogFormat::text;
  else if (!format.empty())
    s.error_at("format", "'log.format' must be text or json");
  return s.finish();
}

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, std::string_view file_name,
                            const std::vector<std::string>& adapter_names) {
  const std::string file(file_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return fail(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Config config;
  if (!root || root.IsNull()) return config;  // empty file or only comments: defaults
  if (!root.IsMap()) return fail(file + ":1:1: the configuration must be a mapping");
  std::string errors;
  auto collect = [&](const Status& st) {
    if (!st) errors += (errors.empty() ? "" : "\n") + st.error();
  };
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    const YAML::Mark mark = entry.first.Mark();
    if (key == "gateway") {
      collect(read_gateway(entry.second, file, config.gateway));
    } else if (key == "log") {
      collect(read_log(entry.second, file, config.log));
    } else if (std::find(adapter_names.begin(), adapter_names.end(), key) != adapter_names.end()) {
      config.adapters.push_back(AdapterSection{key, entry.second, file});
    } else {
      collect(fail(file + ":" + std::to_string(mark.line + 1) + ":" +
                   std::to_string(mark.column + 1) + ": unknown section '" + key +
                   "' (known: gateway, log" +
                   [&] {
                     std::string names;
                     for (const auto& n : adapter_names) names += ", " + n;
                     return names;
                   }() +
                   ")"));
    }
  }
  if (!errors.empty()) return fail(errors);
  return config;
}

Result<Config> load_config_file(const std::string& path,
                                const std::vector<std::string>& adapter_names) {
  std::ifstream in(path);
  if (!in) return fail(path + ": cannot read the configuration file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, adapter_names);
}

}  // namespace psycho::config
