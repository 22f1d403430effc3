// The NATS adapter's counters and how they become its /readyz state, /metrics samples and
// /varz details (docs/nats.md). The adapter reads what needs its locks or nats.c into
// ReportInputs; report() only formats.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.hpp"
#include "adapters/nats/jetstream.hpp"
#include "adapters/nats/nats_config.hpp"
#include "adapters/traffic_counters.hpp"

namespace psycho::nats {

enum class State { connecting, connected, reconnecting, closed };

// Why a message did not cross: each is a label of
// psycho_adapter_dropped_total{adapter="nats"}.
enum class Drop {
  queue_full,             // the publisher thread's queue was full
  reconnect_buffer_full,  // disconnected, and nats.c's reconnect buffer was full
  too_large,              // above the NATS server's max_payload
  closed,                 // the connection is closed for good (max_attempts reached)
  publish_error,          // any other nats.c error
  same_bus,               // it came from this NATS system: exporting it would loop
  not_imported,           // inbound on a subject outside the import prefix
  count
};
inline constexpr TrafficCounters<Drop>::Names kDropNames = {
    "queue_full", "reconnect_buffer_full", "too_large", "closed", "publish_error",
    "same_bus",   "not_imported"};

// The traffic every adapter counts, and what only the NATS adapter does.
struct Counters : TrafficCounters<Drop> {
  Counters() noexcept : TrafficCounters(kDropNames) {}
  Counter reconnects{0};
  Counter overlap_copies{0};         // second copies from overlapping subscriptions, skipped
  Counter slow_dropped{0};           // what nats.c dropped for slow subscriptions, summed (a total)
  Counter import_stalls{0};          // times the delivery thread waited for a congested recipient
  Counter import_stall_timeouts{0};  // waits that ran out (time, or nats.c pending room)
};

struct ReportInputs {
  const NatsConfig& config;
  bool trace_headers = false;  // what `trace_headers` resolved to
  State state = State::connecting;
  std::string last_error;                    // why it is not connected, or ""
  std::optional<std::string> connected_url;  // while connected
  const Counters& counters;
  std::size_t subscriptions = 0;
  std::vector<std::string> patterns;  // the fabric subscriptions held
  std::size_t queue_bytes = 0;
  const JetStreamExporter& jetstream;
  std::size_t queue_subscriptions = 0;
  std::vector<std::string> queue_patterns;  // "pattern group", the queue subscriptions held
};

// Fills every field of `st`.
void report(const ReportInputs& in, AdapterStatus& st);

}  // namespace psycho::nats
