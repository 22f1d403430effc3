// THE adapter interface: how one external fabric (NATS, UDP multicast, PolderCast) is
// bridged into the gateway.
//
// Life cycle, all on the main thread: the registry's factory builds the adapter from its
// config section; start() is called once before the listeners open; stop() once at shutdown
// after the listeners have closed. Between the two the router calls send() and
// on_interest() from worker threads, and the adapter hands what it receives to the
// AdapterHost from any thread it likes.
//
// Loop rules (docs/architecture.md, "Loops and duplicates"): the router never sends an adapter a
// message whose origin is that adapter; an adapter stamps what it exports with the message's Trace
// and increments `hops` on what it imports; the router drops duplicates and exhausted hop counts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/fabric_link.hpp"
#include "core/message.hpp"
#include "core/result.hpp"
#include "core/subscriber.hpp"
#include "metrics/adapter_metrics.hpp"

namespace psycho {

// A node id as /varz, the logs and state files show it: 16 hex digits.
inline std::string hex_id(std::uint64_t id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, id >>= 4) text[static_cast<std::size_t>(i)] = kDigits[id & 0xF];
  return text;
}

// A point-in-time view of an adapter for /readyz, /varz and /metrics.
struct AdapterStatus {
  bool ready = false;  // connected and able to carry traffic
  std::string state;   // e.g. "connected", "reconnecting", "closed"
  metrics::AdapterTraffic traffic;
  std::vector<metrics::Sample> samples;  // adapter-specific, psycho_<adapter>_<name>
  std::vector<metrics::HistogramSample> histograms;
  // A JSON object with whatever else /varz should show (peers, views, servers), or "".
  std::string varz_json;
  // Ready, yet losing messages right now, and why (shown by /readyz, which stays 200: the
  // pod can still serve, but an operator should know); "" when it is not.
  std::string degraded;
};

class Adapter;

// A listener of an adapter's own and the port it bound.
struct ListeningPort {
  std::string name;
  std::uint16_t port = 0;
};

// What the gateway offers an adapter. Every method is thread-safe and never blocks.
class AdapterHost {
 public:
  virtual ~AdapterHost() = default;
  // This gateway's node id (random per process), for Trace and loop detection.
  virtual std::uint64_t node_id() const = 0;
  // Routes a message received from the adapter's fabric to local clients and to the other
  // adapters. `message.origin()` must be the adapter's origin id. Returns false when the
  // message was dropped (duplicate, hop limit, own origin or router backlog full); the
  // router counts those drops, the adapter need not.
  virtual bool inject(MessagePtr message) = 0;
  // The calling thread is about to inject many messages (one read of its fabric):
  // until end_burst(), what it injects reaches the workers at end_burst(), one hand-off per
  // worker, instead of message by message. True when this call opened the burst (false:
  // one is open on this thread already, or the host does not batch); only then must the
  // same thread call end_burst(), soon (PolderCast: posted to its loop, after the read).
  virtual bool begin_burst() { return false; }
  virtual void end_burst() {}
  // The adapter's fabric wants messages on `pattern` (added) or no longer does, e.g. an
  // overlay peer subscribed. The gateway's other adapters hear of it through on_interest,
  // exactly as of a local client's subscription; the adapter itself does not. Calls for one
  // pattern must pair up (one remove per add).
  virtual void declare_interest(const Adapter& adapter, std::string_view pattern, bool added) = 0;
  // What exports() answers changed (a reload changed the subject lists): the router forgets
  // the routes it cached.
  virtual void exports_changed() = 0;
  // Whether what adapters inject is piling up in the gateway (a local subscriber of it is
  // congested, or the router's backlog of injected messages is past a quarter of max_pending,
  // 4 MiB at most: RouterOptions::inject_pause). An adapter whose
  // fabric can wait (a TCP link) reads it more slowly meanwhile, a moment at a time, so that
  // a fast remote publisher is slowed instead of a local subscriber being cut off. One that
  // holds what keeps arriving in a buffer of its own asks, once that is filling, only about
  // recipients that are moving (WaitFor::moving): see core/subscriber.hpp.
  virtual bool congested(WaitFor /*who*/) const { return false; }
  // Any thread: the local subject patterns the gateway's *other* adapters carry onto their
  // fabrics whether or not anyone there asked (their onward_patterns()). An adapter that sends
  // only what its fabric asks for (multicast) asks for these too, so what it hears goes on.
  virtual std::vector<std::string> onward_patterns(const Adapter& /*asking*/) const { return {}; }
  // Whether the gateway runs an adapter besides `asking`: a message `asking` exports may
  // then reach another gateway by a second path, and needs its trace to be recognised there.
  virtual bool runs_other_adapters(const Adapter& /*asking*/) const { return false; }
  // Any thread: an adapter's max_payload() changed (it connected to a server with another
  // limit). The gateway promises new clients no more than the smallest, and holds them to it.
  virtual void limits_changed() {}
};

// The router reaches an adapter only through FabricLink (what it exports and carries, send,
// flow, interest and queue-group calls, and the origin id: core/fabric_link.hpp); the rest is
// the gateway's side of the life cycle.
class Adapter : public FabricLink {
 public:
  // Stable lower-case name, the same as its config section ("nats").
  virtual std::string_view name() const = 0;

  // Main thread, once. A failure here stops the gateway from starting with that message,
  // which starts with the adapter's name ("nats: connect failed: ...") and names each
  // context once: the gateway logs it as it is.
  // Connecting may continue in the background: readiness is reported by status().
  virtual Status start(AdapterHost& host) = 0;
  // Main thread, once: flush what is buffered (bounded by `drain`) and release everything.
  virtual void stop(std::chrono::milliseconds drain) = 0;

  // Any thread.
  virtual AdapterStatus status() const = 0;

  // Any thread: the local subject patterns this adapter sends onto its fabric whether or not
  // anyone there asked for them (NATS, PolderCast: every exported message goes out; nats-server
  // or the overlay finds who wants it). Empty for an adapter that sends only what its fabric
  // asked for.
  virtual std::vector<std::string> onward_patterns() const { return {}; }
  // Any thread: the largest body (headers + payload) this adapter can carry onto its fabric,
  // when it exports anything and its fabric has such a limit (a NATS server's max_payload);
  // 0: none, or not known yet.
  virtual std::size_t max_payload() const { return 0; }

  // Main thread, after start(): the TCP port the adapter's own listener bound (what
  // --ports-file reports under the adapter's name), or 0 when it has none.
  virtual std::uint16_t listening_port() const { return 0; }
  // Main thread, after start(): the adapter's further listeners, by the names --ports-file
  // reports them under ("poldercast.websocket").
  virtual std::vector<ListeningPort> more_listening_ports() const { return {}; }

  // Main (control) thread, on a configuration reload that changed this adapter's section.
  // With `apply` false, only checks whether the change can be made while running; with it
  // true, makes it. The default: nothing changes live.
  virtual Status reconfigure(const config::AdapterSection& /*section*/, bool /*apply*/) {
    return fail(std::string(name()) + ": its section cannot change while running");
  }
  // Main thread: whether reconfigure() is to be called on every reload, even one that left
  // the section's text alone, because the adapter reads files it names (a key file that a
  // Kubernetes Secret update rewrites in place) and takes what changed in them.
  virtual bool rereads_files_on_reload() const { return false; }
};

}  // namespace psycho
