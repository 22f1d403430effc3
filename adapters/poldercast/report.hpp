// The PolderCast adapter's /metrics samples and /varz details
// (docs/poldercast.md#metrics-and-varz), built on the adapter's event-loop thread, which owns the
// node and the transport.
#pragma once

#include <atomic>
#include <cstdint>

#include "adapters/adapter.hpp"
#include "adapters/poldercast/stream_transport.hpp"
#include "adapters/traffic_counters.hpp"
#include "poldercast/node.hpp"

namespace psycho::poldercast {

// Labels of psycho_adapter_dropped_total{adapter="poldercast"} that the adapter itself
// counts; the node and the transport count the others (report() adds them).
enum class Drop {
  queue_full,    // the event loop's queue was full
  too_large,     // above max_payload, or a subject or reply above the wire's limit
  not_imported,  // a subject outside the import lists
  malformed,     // an invalid subject, reply or header block
  count
};
inline constexpr TrafficCounters<Drop>::Names kDropNames = {"queue_full", "too_large",
                                                            "not_imported", "malformed"};

// Written by worker threads (queue_full) and the event loop.
struct AdapterCounters : TrafficCounters<Drop> {
  AdapterCounters() noexcept : TrafficCounters(kDropNames) {}
  Counter wildcard_interest{0};  // local wildcard subscriptions, which do not join rings
};

struct ReportInputs {
  const Node& node;
  const StreamTransportCounters& transport;
  const AdapterCounters& counters;
  std::size_t queue_bytes = 0;
  std::size_t held_subjects = 0;  // subjects whose publications wait for a backed-up link
  std::size_t crowded_links = 0;  // backed-up links that hold every publication up
  bool listening = false;
  std::string node_key;  // hex
  bool secure = false;   // links run the handshake
};

// Fills `st` (state, traffic, drops, samples, histogram, varz_json).
void report(const ReportInputs& in, AdapterStatus& st);

}  // namespace psycho::poldercast
