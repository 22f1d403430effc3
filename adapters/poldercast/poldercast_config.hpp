// The `poldercast:` config section (docs/configuration.md#poldercast), parsed and checked
// before any socket is opened.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/poldercast/link_security.hpp"
#include "adapters/poldercast/node_key.hpp"
#include "adapters/poldercast/stream_transport.hpp"
#include "adapters/queue_settings.hpp"
#include "adapters/subject_filter.hpp"
#include "config/command_line.hpp"
#include "config/config.hpp"
#include "core/result.hpp"
#include "poldercast/node.hpp"

namespace psycho::poldercast {

struct PolderCastConfig {
  config::Endpoint listen{"0.0.0.0", 4250};  // overlay links arrive here
  // What others should dial ("host:port"); required when `listen` is a wildcard address.
  std::string advertise;
  std::vector<std::string> seeds;  // "host:port" each
  // The node's Ed25519 key (PEM); empty: the one kept in state_dir, created on first start.
  // The node id derives from it.
  std::string key_file;
  // Browsers open their overlay links here, over WebSocket (disabled: no browser links).
  config::Endpoint websocket;
  // Browser links from one IP address at once: more than gateways' own, since many people
  // may share one address behind a NAT.
  std::size_t websocket_max_per_address = 64;
  std::string state_dir = "psycho-state";
  // Who may join (docs/poldercast.md#admission); one of its options must be chosen.
  AdmissionPolicy admission;
  // No handshake, no encryption, no authentication: for measuring what security costs, on a
  // network where every host is trusted. Chosen explicitly, never combined with admission.
  bool plaintext = false;
  std::chrono::milliseconds cycle{1000};
  NodeOptions node;
  SubjectFilter subjects;
  std::size_t max_payload = 1 << 20;  // headers + payload of one publication
  QueueSettings queue;                // from the router, waiting for the overlay's thread
  StreamTransportOptions transport;
};

// A shared overlay secret as the handshake's 32-byte pre-shared key: SHA-256 with a label,
// so the same secret used elsewhere (a multicast group key) gives another key.
noise::Key32 overlay_psk(const std::string& secret);

// Parses `poldercast:`. Errors name file:line:col.
Result<PolderCastConfig> parse_config(const config::AdapterSection& section);
// The command-line shortcuts into the section: `--poldercast HOST:PORT` sets
// poldercast.listen, each `--poldercast-seed HOST:PORT` adds to poldercast.seeds.
inline std::vector<config::AdapterFlag> command_line_flags() {
  return {{"poldercast", "poldercast", "listen",
           "HOST:PORT  join the PolderCast overlay, listening here for its links"},
          {"poldercast-websocket", "poldercast", "websocket",
           "HOST:PORT  accept overlay links from browsers over WebSocket here"},
          {"poldercast-seed", "poldercast", "seeds",
           "HOST:PORT  a gateway already in the overlay, to join through"}};
}

// The file in `state_dir` that keeps the generated node key: "poldercast-<advertised>.key",
// with anything but letters, digits, '.' and '-' replaced by '_'. `advertised` is the
// address the node really advertises: with `listen` on port 0, the one that was bound.
std::string node_key_file(const std::string& advertised);

// The node key: `key_file` when set (it must exist), else the one kept in `state_dir` for
// `advertised`, created there (mode 0600) on first start.
Result<std::shared_ptr<NodeKey>> load_node_key(const PolderCastConfig& config,
                                               const std::string& advertised);

}  // namespace psycho::poldercast
