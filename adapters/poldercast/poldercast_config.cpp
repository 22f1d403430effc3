#include "adapters/poldercast/poldercast_config.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <random>

#include "adapters/adapter.hpp"
#include "config/section.hpp"
#include "core/host_port.hpp"

namespace psycho::poldercast {

namespace {

using std::chrono::milliseconds;

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

void read_addresses(config::Section& s, PolderCastConfig& c) {
  s.get("listen", c.listen);
  if (!c.listen.enabled()) s.error_at("listen", "'poldercast.listen' must be a host:port");
  s.get("advertise", c.advertise);
  if (c.advertise.empty()) {
    if (is_wildcard(c.listen.host)) {
      s.error_at("advertise",
                 "'poldercast.advertise' is required when 'poldercast.listen' is a wildcard "
                 "address: other gateways need an address they can dial");
    } else {
      c.advertise = c.listen.to_string();
    }
  } else if (!parse_host_port(c.advertise)) {
    s.error_at("advertise", "'poldercast.advertise' must be host:port, not '" + c.advertise + "'");
  }
  s.get("seeds", c.seeds);
  for (const auto& seed : c.seeds) {
    if (!parse_host_port(seed)) {
      s.error_at("seeds", "'poldercast.seeds': '" + seed + "' is not host:port");
    }
  }
}

void read_views(config::Section& s, NodeOptions& n) {
  s.get_size("fanout", n.fanout, 1, 16);
  s.get_size("cyclon_view", n.cyclon_view, 2, 256);
  s.get_size("cyclon_gossip", n.cyclon_gossip, 1, 64);
  s.get_size("vicinity_view", n.vicinity_view, 2, 256);
  s.get_size("vicinity_gossip", n.vicinity_gossip, 1, 64);
  s.get_size("ring_slots", n.ring_slots, 1, 8);
  s.get_size("rings_gossip", n.rings_gossip, 1, 64);
  if (n.cyclon_gossip > n.cyclon_view) {
    s.error_at("cyclon_gossip", "'poldercast.cyclon_gossip' must not exceed 'cyclon_view'");
  }
  if (n.vicinity_gossip > n.vicinity_view) {
    s.error_at("vicinity_gossip", "'poldercast.vicinity_gossip' must not exceed 'vicinity_view'");
  }
}

}  // namespace

Result<PolderCastConfig> parse_config(const config::AdapterSection& section) {
  PolderCastConfig c;
  config::Section s(section.node, section.file, "poldercast");
  read_addresses(s, c);
  std::string id;
  s.get("node_id", id);
  if (!id.empty()) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v, 16);
    if (ec != std::errc{} || end != id.data() + id.size() || id.size() > 16) {
      s.error_at("node_id", "'poldercast.node_id' must be up to 16 hex digits");
    } else {
      c.node_id = v;
    }
  }
  s.get("state_dir", c.state_dir);
  s.get_duration("cycle", c.cycle, milliseconds(10), std::chrono::minutes(10));
  read_views(s, c.node);
  c.subjects = SubjectFilter::parse(s);
  s.get_size("max_payload", c.max_payload, 0, std::size_t{1} << 30);
  read_queue_settings(s, c.queue);
  s.get_size("max_connections", c.transport.max_connections, 2, 1 << 16);
  s.get_duration("connect_timeout", c.transport.connect_timeout, milliseconds(10),
                 std::chrono::minutes(10));
  s.get_duration("idle_timeout", c.transport.idle_timeout, milliseconds(0), std::chrono::hours(24));
  milliseconds answer_timeout(c.node.answer_timeout_ms);
  s.get_duration("answer_timeout", answer_timeout, milliseconds(10), std::chrono::minutes(10));
  c.node.answer_timeout_ms = answer_timeout.count();
  s.get_duration("stall_timeout", c.transport.stall_timeout, milliseconds(0),
                 std::chrono::hours(1));
  s.get_size("max_connections_per_address", c.transport.max_connections_per_address, 1, 1 << 16);
  s.get_duration("frame_timeout", c.transport.frame_timeout, milliseconds(0),
                 std::chrono::hours(1));
  // A frame carries subject, reply, headers and payload plus the wire header.
  c.node.max_publication = c.max_payload + 2 * c.node.max_gossip_message;
  c.transport.max_frame = c.node.max_publication;
  c.transport.max_queue_bytes =
      std::max<std::size_t>(c.transport.max_queue_bytes, 2 * c.transport.max_frame);
  // Publications fill a link to three quarters; the last quarter stays for gossip and pings.
  c.node.publication_backlog = c.transport.max_queue_bytes / 4 * 3;
  if (auto st = s.finish(); !st) return fail(st.error());
  return c;
}

std::string node_id_file(const std::string& advertised) {
  // Named after the advertised address, so that gateways started from one directory (one
  // state_dir) keep one id each instead of sharing one.
  std::string name = "poldercast-" + advertised + ".id";
  for (char& c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '-';
    if (!plain) c = '_';
  }
  return name;
}

Result<std::uint64_t> load_node_id(const PolderCastConfig& config, const std::string& advertised) {
  if (config.node_id) return *config.node_id;
  namespace fs = std::filesystem;
  const fs::path file = fs::path(config.state_dir) / node_id_file(advertised);
  if (std::ifstream in(file); in) {
    std::string text;
    in >> text;
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (ec == std::errc{} && end == text.data() + text.size() && !text.empty()) return v;
    return fail("poldercast: " + file.string() + " does not hold a node id (16 hex digits)");
  }
  std::error_code ec;
  fs::create_directories(config.state_dir, ec);
  if (ec)
    return fail("poldercast: cannot create state_dir " + config.state_dir + ": " + ec.message());
  const std::uint64_t id = std::random_device{}() * 0x100000000ULL ^ std::random_device{}();
  const fs::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << hex_id(id) << '\n';
    if (!out) return fail("poldercast: cannot write " + temp.string());
  }
  fs::rename(temp, file, ec);  // atomic: a crash never leaves half an id
  if (ec) return fail("poldercast: cannot write " + file.string() + ": " + ec.message());
  return id;
}

}  // namespace psycho::poldercast
