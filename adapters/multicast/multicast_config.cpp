#include "adapters/multicast/multicast_config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

#include "adapters/multicast/codec.hpp"
#include "config/section.hpp"

namespace psycho::multicast {

namespace {

using std::chrono::milliseconds;

// 1500-byte Ethernet MTU less the IP and UDP headers.
constexpr std::size_t kDefaultDatagramV4 = 1500 - 20 - 8;
constexpr std::size_t kDefaultDatagramV6 = 1500 - 40 - 8;
constexpr std::size_t kMaxUdpPayload = 65507;

void read_group(config::Section& s, MulticastConfig& c) {
  config::Endpoint group{c.group, c.port};
  s.get("group", group);
  if (!group.enabled()) {
    s.error_at("group", "'multicast.group' must be a multicast address and port");
    return;
  }
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, group.host.c_str(), &v4) == 1 && IN_MULTICAST(ntohl(v4.s_addr))) {
    c.ipv6 = false;
  } else if (inet_pton(AF_INET6, group.host.c_str(), &v6) == 1 && IN6_IS_ADDR_MULTICAST(&v6)) {
    c.ipv6 = true;
  } else {
    s.error_at("group", "'multicast.group': '" + group.host +
                            "' is not a multicast address (224.0.0.0/4 or ff00::/8)");
    return;
  }
  if (group.port == 0) s.error_at("group", "'multicast.group' needs a port other than 0");
  c.group = group.host;
  c.port = group.port;
}

void read_repair(config::Section& s, RepairSettings& r) {
  config::Section c = s.child("repair");
  c.get_size("window", r.window_bytes, 64 << 10, std::size_t{4} << 30);
  c.get_duration("nack_delay", r.nack_delay, milliseconds(0), std::chrono::seconds(10));
  c.get_duration("nack_interval", r.nack_interval, milliseconds(1), std::chrono::seconds(60));
  c.get("max_nacks", r.max_nacks, 1, 1000);
  c.get_size("max_missing", r.max_missing, 16, 1 << 24);
  c.get("max_seq_jump", r.max_seq_jump, 16, std::uint64_t{1} << 40);
  c.get("max_nack_datagrams", r.max_nack_datagrams, 1, 1 << 20);
  c.get("ordered", r.ordered);
  c.get_size("hold", r.hold_bytes, 64 << 10, std::size_t{16} << 30);
  c.get_duration("owed_for", r.owed_for, milliseconds(1), std::chrono::seconds(60));
  c.get_duration("max_owed", r.max_owed, milliseconds(1), std::chrono::minutes(10));
  // Bursts hold at least the largest UDP datagram, so every datagram can be sent again.
  c.get_size("requester_rate", r.requester_rate, 1 << 10, std::size_t{4} << 30);
  c.get_size("requester_burst", r.requester_burst, 64 << 10, std::size_t{4} << 30);
  c.get_size("total_rate", r.total_rate, 1 << 10, std::size_t{4} << 30);
  c.get_size("total_burst", r.total_burst, 64 << 10, std::size_t{4} << 30);
  // A jump past what the receiver tracks would make the skipped sequences "lost" and the
  // sender's real datagrams behind it duplicates: a forged jump could blackhole a gateway.
  if (r.max_seq_jump > r.max_missing) {
    c.error_at("max_seq_jump",
               "'multicast.repair.max_seq_jump' must not exceed 'multicast.repair.max_missing'");
  }
  s.adopt(c);
}

void read_reassembly(config::Section& s, MulticastConfig& c) {
  config::Section r = s.child("reassembly");
  r.get_size("memory", c.reassembly_memory, 64 << 10, std::size_t{16} << 30);
  r.get_duration("timeout", c.reassembly_timeout, milliseconds(10), std::chrono::minutes(10));
  s.adopt(r);
  if (c.reassembly_memory < c.max_message) {
    s.error_at("max_message",
               "'multicast.reassembly.memory' must hold at least one 'multicast.max_message'");
  }
}

void read_test_drop_rate(config::Section& s, double& out) {
  std::string text;
  s.get("test_drop_rate", text);
  if (text.empty()) return;
  double v = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < 0 || v >= 1) {
    s.error_at("test_drop_rate", "'multicast.test_drop_rate' must be a fraction in [0, 1)");
    return;
  }
  out = v;
}

void read_keys(config::Section& s, MulticastConfig& c) {
  s.get("keys", c.keys_file);
  s.get("encrypt", c.encrypt);
  if (c.keys_file.empty()) {
    if (c.encrypt) s.error_at("encrypt", "'multicast.encrypt' needs 'multicast.keys'");
    return;
  }
  auto keys = read_group_keys(c.keys_file);
  if (!keys) {
    s.error_at("keys", "'multicast.keys': " + keys.error());
    return;
  }
  c.keys = std::move(keys.value());
}

}  // namespace

Result<MulticastConfig> parse_config(const config::AdapterSection& section) {
  MulticastConfig c;
  config::Section s(section.node, section.file, "multicast");
  read_group(s, c);
  s.get("interface", c.interface);
  s.get("ttl", c.ttl, 0, 255);
  s.get("loopback", c.loopback);
  c.subjects = SubjectFilter::parse(s);
  s.get("interest", c.interest);
  c.max_datagram = c.ipv6 ? kDefaultDatagramV6 : kDefaultDatagramV4;
  s.get_size("max_datagram", c.max_datagram, kDataHeaderSize + 128, kMaxUdpPayload);
  s.get_size("max_message", c.max_message, 1024, std::size_t{1} << 30);
  read_reassembly(s, c);
  read_repair(s, c.repair);
  s.get_duration("announce_interval", c.announce_interval, milliseconds(10),
                 std::chrono::minutes(10));
  s.get_duration("peer_timeout", c.peer_timeout, milliseconds(50), std::chrono::hours(1));
  if (c.peer_timeout <= c.announce_interval) {
    s.error_at("peer_timeout",
               "'multicast.peer_timeout' must be longer than 'multicast.announce_interval'");
  }
  s.get_size("max_peers", c.max_peers, 1, 1 << 16);
  read_queue_settings(s, c.queue);
  s.get_size("receive_buffer", c.receive_buffer, 64 << 10, std::size_t{1} << 30);
  s.get_size("send_buffer", c.send_buffer, 64 << 10, std::size_t{1} << 30);
  read_keys(s, c);
  // Everything but `keys`, whose path and contents may change while running.
  c.restart_keys = s.text_without("keys");
  read_test_drop_rate(s, c.test_drop_rate);
  if (auto st = s.finish(); !st) return fail(st.error());
  return c;
}

}  // namespace psycho::multicast
