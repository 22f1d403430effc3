// The `nats:` config section (docs/configuration.md#nats), parsed and checked before
// anything connects.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "adapters/queue_settings.hpp"
#include "adapters/subject_filter.hpp"
#include "config/command_line.hpp"
#include "config/config.hpp"
#include "core/result.hpp"

namespace psycho::nats {

struct TlsSettings {
  std::string ca_file, cert_file, key_file;
  bool verify = true;  // check the server's certificate and host name
  bool enabled() const { return !ca_file.empty() || !cert_file.empty(); }
  bool operator==(const TlsSettings&) const = default;
};

struct ReconnectSettings {
  std::chrono::milliseconds wait{2000};
  std::chrono::milliseconds jitter{100};
  int max_attempts = -1;              // -1: forever
  std::size_t buffer_size = 8 << 20;  // bytes nats.c holds while disconnected
  bool operator==(const ReconnectSettings&) const = default;
};

struct JetStreamSettings {
  std::vector<std::string> exports;  // local patterns published into JetStream
  std::chrono::milliseconds ack_timeout{5000};
  int max_pending = 4096;  // unacknowledged publishes in flight
  int retries = 3;         // re-publishes (same Nats-Msg-Id) after a failure
  bool enabled() const { return !exports.empty(); }
  bool operator==(const JetStreamSettings&) const = default;
};

enum class TraceHeaders { automatic, on, off };

struct NatsConfig {
  std::vector<std::string> servers;  // nats://host:port, tls://host:port
  std::string name = "psycho-gateway";
  std::string user, password, token, creds_file;
  std::string nkey, nkey_seed_file;  // public key and the file holding its seed
  TlsSettings tls;
  ReconnectSettings reconnect;
  std::chrono::milliseconds connect_timeout{2000};
  SubjectFilter subjects;
  // The Psycho-Trace header on what is exported (docs/nats.md, "Loops"): needed where a
  // second path joins the gateways (an overlay); automatic: when this gateway runs another
  // adapter besides NATS.
  TraceHeaders trace_headers = TraceHeaders::automatic;
  std::string bus = "nats";       // name of this NATS system, shared by its gateways
  QueueSettings queue;            // waiting for the publisher thread
  int pending_messages = 262144;  // per NATS subscription, before nats.c drops
  std::size_t pending_bytes = 64 << 20;
  JetStreamSettings jetstream;
  // pending_bytes as nats.c takes it (an int).
  int nats_pending_bytes() const {
    return static_cast<int>(std::min<std::size_t>(pending_bytes, 2'000'000'000));
  }
  bool operator==(const NatsConfig&) const = default;
};

// Parses `nats:`. Errors name file:line:col; files named in it must be readable.
Result<NatsConfig> parse_config(const config::AdapterSection& section);
// The command-line shortcut into the section: `--nats URL[,URL]` sets nats.servers.
inline std::vector<config::AdapterFlag> command_line_flags() {
  return {
      {"nats", "nats", "servers", "URL[,URL]  bridge to this NATS cluster (everything both ways)"}};
}

// The keys whose change from `running` to `next` needs a restart, comma-separated; empty
// when a reload can apply `next` while running (only the subject lists and prefixes differ).
std::string restart_keys(const NatsConfig& running, const NatsConfig& next);

// A stable 32-bit id for a bus name (never 0), for Trace::bus.
std::uint32_t bus_id(std::string_view bus_name) noexcept;

}  // namespace psycho::nats
