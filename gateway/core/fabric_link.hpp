// What the router needs of an adapter: the narrow side of adapters/adapter.hpp. The router
// exports messages and interest through it and asks it about loops; everything else an
// adapter is (its configuration, start and stop, status) stays out of core, so core needs
// neither the configuration nor the metrics types.
//
// Loop rules (docs/architecture.md, "Loops and duplicates"): the router never sends a link a
// message whose origin is that link's origin id, and drops a copy relayed by another adapter when
// this link receives_directly() the same message from its own fabric.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/message.hpp"

namespace psycho {

// An adapter's answer to "should a publisher whose messages go to you wait?" (flow control).
struct FlowState {
  // Its outbound queue is past its high mark and the adapter has not caught up yet (taken
  // the queue, or, for links with marks of their own, drained below the low one).
  bool congested = false;
  // A count that grows whenever the adapter takes messages off its queue: a paused
  // publisher keeps waiting while it moves, and gives up waiting when it stands still.
  std::uint64_t drained = 0;
  // How long a publisher waits for `drained` to move before it reads on anyway (and what
  // does not fit the queue is dropped, and counted).
  std::chrono::milliseconds patience{0};
};

// Who picks the member of a local queue group for a subject.
enum class GroupChoice {
  router,   // the router, here: the link has no part in it
  fabric,   // the fabric: the link exports the subject and holds a live queue subscription of
            // the group that brings it back
  fallback  // the fabric should, but cannot yet (its queue subscription is unconfirmed, or its
            // connection down): the router picks here meanwhile, counted as a fallback
};

class FabricLink {
 public:
  virtual ~FabricLink() = default;

  // Set by the gateway before the adapter starts; messages it injects carry it. Not virtual:
  // the router compares it for every exported message.
  void set_origin_id(OriginId id) noexcept { origin_id_ = id; }
  OriginId origin_id() const noexcept { return origin_id_; }

  // Any thread; pure. Whether a locally routed subject is exported to this fabric.
  virtual bool exports(std::string_view subject) const = 0;
  // A worker thread. Must not block: queue (bounded) and count what does not fit.
  virtual void send(const MessagePtr& message) = 0;
  // Any thread, serialised by the router. The set of distinct subscription patterns wanted
  // by local clients and the other adapters changed: `added` is true when the first
  // subscriber of `pattern` appeared, false when the last one left. Must not block.
  // A link that bridges queue groups hears of plain subscriptions only here; any other
  // link hears of every subscription, plain or queue-group member, here.
  virtual void on_interest(std::string_view pattern, bool added) = 0;

  // Whether the fabric has queue groups of its own that the gateway's groups join (NATS):
  // then the link hears of each group apart, through on_queue_interest, so that the fabric
  // can choose one member among all its gateways. Constant for the link's life.
  virtual bool bridges_queue_groups() const noexcept { return false; }
  // Any thread, serialised by the router with on_interest; only for links that bridge queue
  // groups. The first member of queue group `queue` on `pattern` appeared (added), or the
  // last one left. Must not block.
  virtual void on_queue_interest(std::string_view /*pattern*/, std::string_view /*queue*/,
                                 bool /*added*/) {}
  // Any thread; asked when the router builds a route, not per message. Who chooses the
  // member of local queue group `queue` for messages on `subject` (GroupChoice). With
  // `fabric`, the router picks no member itself: the message goes to the fabric, which hands
  // it back through the queue subscription (MessageParts::queue) if it chooses this gateway.
  // A link calls AdapterHost::exports_changed() when its answer changes.
  virtual GroupChoice group_choice(std::string_view /*subject*/, std::string_view /*queue*/) const {
    return GroupChoice::router;
  }
  // Any thread, cheap and allocation-free: asked per message and group the link chooses
  // for. Whether send() would take `message` to the fabric now (connected, not from the
  // fabric's own bus). When not, the router picks a member itself (counted as a fallback).
  virtual bool carries(const Message& /*message*/) const noexcept { return true; }

  // Any thread, cheap. The adapter as a whole: its queue to its fabric. The default, for an
  // adapter that never queues: never congested.
  virtual FlowState flow() const noexcept { return {}; }
  // Any thread, cheap: the router asks after every message it sends the link. Whether a
  // publisher of `message` should wait. A link whose fabric may be slow for some subjects
  // only (PolderCast: one slow peer) holds up only their publishers; by default, flow().
  virtual FlowState flow_for(const Message& /*message*/) const noexcept { return flow(); }

  // Any thread; pure. Whether this adapter itself receives `message` from its fabric, so a
  // copy relayed to this gateway through another adapter is redundant: true for a NATS
  // adapter connected to the bus the message entered through and importing its subject.
  virtual bool receives_directly(const Message& /*message*/) const { return false; }

 private:
  OriginId origin_id_ = 0;
};

}  // namespace psycho
