// A point-in-time view of the gateway, assembled by the server for /metrics and /varz.
// Kept free of server types so that rendering can be tested on its own.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/router_stats.hpp"
#include "metrics/adapter_metrics.hpp"
#include "metrics/counters.hpp"

namespace psycho::metrics {

struct AdapterSnapshot {
  std::string name;
  bool ready = false;
  std::string state;
  AdapterTraffic traffic;
  std::vector<Sample> samples;
  std::vector<HistogramSample> histograms;
  std::string varz_json;  // a JSON object, or ""
};

struct Snapshot {
  std::string version;
  std::string server_name;
  double uptime_seconds = 0;
  double start_time_seconds = 0;  // Unix time
  std::uint64_t messages_in = 0, bytes_in = 0, messages_out = 0, bytes_out = 0;
  std::uint64_t slow_consumers = 0, stale_connections = 0, auth_failures = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Transport::count)> opened{}, closed{};
  std::array<std::uint64_t, kProtocolErrorSlots> protocol_errors{};
  std::array<std::uint64_t, static_cast<std::size_t>(PauseCause::count)> publisher_pauses{};
  std::uint64_t subscriptions = 0;
  std::uint64_t connections_rejected = 0;  // max_connections reached
  std::uint64_t connection_slots = 0;      // connections counted against max_connections
  // Router
  std::uint64_t routed = 0, injected = 0, no_interest = 0, queue_fallback = 0;
  std::uint64_t queue_gateway_picks = 0;
  std::uint64_t silent_passed_over = 0;
  std::array<std::uint64_t, kRouterDropReasons> router_dropped{};  // by RouterDrop
  std::vector<AdapterSnapshot> adapters;

  // Sums per-worker counters into the totals above.
  void add(const WorkerCounters& w);
  std::uint64_t connections() const;
  // Accepted connections whose TLS handshake or WebSocket upgrade is still running.
  std::uint64_t connections_in_handshake() const;
};

std::string_view transport_name(Transport t);

// Prometheus text exposition format (via prometheus-cpp's serializer).
std::string render_prometheus(const Snapshot& s);
// The /varz JSON document.
std::string render_varz(const Snapshot& s);

}  // namespace psycho::metrics
