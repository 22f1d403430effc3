// The PolderCast adapter's /metrics samples and /varz details (docs/poldercast.md#metrics),
// built on the adapter's event-loop thread, which owns the node and the transport.
#pragma once

#include <atomic>
#include <cstdint>

#include "adapters/adapter.hpp"
#include "adapters/poldercast/protocol/node.hpp"
#include "adapters/poldercast/stream_transport.hpp"

namespace psycho::poldercast {

// What the adapter itself counts (the node and the transport count the rest). Written by
// worker threads (queue_full) and the event loop; relaxed atomics.
struct AdapterCounters {
  using Counter = std::atomic<std::uint64_t>;
  Counter messages_in{0}, bytes_in{0}, messages_out{0}, bytes_out{0};
  Counter queue_full{0}, too_large{0}, not_imported{0}, malformed{0};
  Counter wildcard_interest{0};  // local wildcard subscriptions, which do not join rings
};

struct ReportInputs {
  const Node& node;
  const StreamTransportCounters& transport;
  const AdapterCounters& counters;
  std::size_t queue_bytes = 0;
  bool listening = false;
};

// Fills `st` (state, traffic, drops, samples, histogram, varz_json).
void report(const ReportInputs& in, AdapterStatus& st);

}  // namespace psycho::poldercast
