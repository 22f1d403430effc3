// The `multicast:` config section (docs/configuration.md#multicast), parsed and checked
// before any socket is opened.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/multicast/group_keys.hpp"
#include "adapters/multicast/repair.hpp"
#include "adapters/queue_settings.hpp"
#include "adapters/subject_filter.hpp"
#include "config/command_line.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::multicast {

struct MulticastConfig {
  std::string group = "239.255.42.42";  // an IPv4 or IPv6 multicast address
  std::uint16_t port = 4245;
  bool ipv6 = false;
  std::string interface;  // name ("eth0") or address; "" lets the kernel choose
  int ttl = 1;            // hop limit of what we send: 1 stays on the LAN
  bool loopback = true;   // hear the group's datagrams sent from this host (other gateways here)
  SubjectFilter subjects;
  // Announce what this gateway wants and send only what some gateway on the group wants;
  // false: send every exported message, and ask for everything.
  bool interest = true;
  std::size_t max_datagram = 0;  // 0 until parsed: 1472 (IPv4) / 1452 (IPv6)
  // subject + reply + headers + payload: the gateway's default max_payload (1 MiB) plus
  // room for subject and reply.
  std::size_t max_message = (1 << 20) + (64 << 10);
  std::size_t reassembly_memory = 64 << 20;
  std::chrono::milliseconds reassembly_timeout{5000};
  RepairSettings repair;
  std::chrono::milliseconds announce_interval{1000};
  std::chrono::milliseconds peer_timeout{5000};
  std::size_t max_peers = 256;
  QueueSettings queue;                   // waiting for the sending thread
  std::size_t receive_buffer = 8 << 20;  // SO_RCVBUF
  std::size_t send_buffer = 4 << 20;     // SO_SNDBUF
  // Group keys (docs/multicast.md#keys): none, or read from `keys_file`, the sending key
  // first. Only these change on a reload; `restart_keys` is the rest of the section as text,
  // to tell a reload that changes something else.
  std::string keys_file;
  std::vector<GroupKey> keys;
  bool encrypt = false;  // AES-256-GCM instead of HMAC-SHA256 alone
  std::string restart_keys;
  // Test-only: the fraction of received data datagrams thrown away on purpose, to exercise
  // repair where netem is not available. Never set it in production.
  double test_drop_rate = 0;
};

// Parses `multicast:`. Errors name file:line:col.
Result<MulticastConfig> parse_config(const config::AdapterSection& section);
// The command-line shortcut into the section: `--multicast GROUP:PORT` sets multicast.group.
inline std::vector<config::AdapterFlag> command_line_flags() {
  return {{"multicast", "multicast", "group",
           "GROUP:PORT  bridge with the gateways on this multicast group"}};
}

}  // namespace psycho::multicast
