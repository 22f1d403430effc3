// The `poldercast:` config section (docs/configuration.md#poldercast), parsed and checked
// before any socket is opened.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/poldercast/protocol/node.hpp"
#include "adapters/poldercast/stream_transport.hpp"
#include "adapters/queue_settings.hpp"
#include "adapters/subject_filter.hpp"
#include "config/command_line.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::poldercast {

struct PolderCastConfig {
  config::Endpoint listen{"0.0.0.0", 4250};  // overlay links arrive here
  // What others should dial ("host:port"); required when `listen` is a wildcard address.
  std::string advertise;
  std::vector<std::string> seeds;        // "host:port" each
  std::optional<std::uint64_t> node_id;  // unset: generated once, kept in state_dir
  std::string state_dir = "psycho-state";
  std::chrono::milliseconds cycle{1000};
  NodeOptions node;
  SubjectFilter subjects;
  std::size_t max_payload = 1 << 20;  // headers + payload of one publication
  QueueSettings queue;                // from the router, waiting for the overlay's thread
  StreamTransportOptions transport;
};

// Parses `poldercast:`. Errors name file:line:col.
Result<PolderCastConfig> parse_config(const config::AdapterSection& section);
// The command-line shortcuts into the section: `--poldercast HOST:PORT` sets
// poldercast.listen, each `--poldercast-seed HOST:PORT` adds to poldercast.seeds.
inline std::vector<config::AdapterFlag> command_line_flags() {
  return {{"poldercast", "poldercast", "listen",
           "HOST:PORT  join the PolderCast overlay, listening here for its links"},
          {"poldercast-seed", "poldercast", "seeds",
           "HOST:PORT  a gateway already in the overlay, to join through"}};
}

// The file in `state_dir` that keeps the generated node id: "poldercast-<advertised>.id",
// with anything but letters, digits, '.' and '-' replaced by '_'. `advertised` is the
// address the node really advertises: with `listen` on port 0, the one that was bound.
std::string node_id_file(const std::string& advertised);

// The node id: the configured one, else the one kept in `state_dir` for `advertised`, else a
// new random one, which is written there for next time.
Result<std::uint64_t> load_node_id(const PolderCastConfig& config, const std::string& advertised);

}  // namespace psycho::poldercast
