// The router's traffic and drop counters, read by /metrics and /varz.
//
// A new drop reason is one enumerator and its name below: the renderers iterate the names
// (the `reason` label of psycho_router_dropped_total, `dropped_<name>` in /varz).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace psycho {

// Why the router dropped a message an adapter injected.
enum class RouterDrop : std::uint8_t {
  duplicate,      // seen before (dedup cache)
  own_origin,     // came back to the gateway that sent it
  hop_limit,      // hop limit exhausted
  backlog_full,   // inject backlog full
  direct_path,    // another adapter hears the bus itself
  queue_gone,     // a fabric chose this gateway for a queue group that has no member left here
  answered_here,  // a fabric's "no responders" for a request a recipient here has taken
  count
};

inline constexpr std::size_t kRouterDropReasons = static_cast<std::size_t>(RouterDrop::count);

// By RouterDrop, as /metrics and /varz name them.
inline constexpr std::array<std::string_view, kRouterDropReasons> kRouterDropNames = {
    "duplicate",   "own_origin", "hop_limit",    "backlog_full",
    "direct_path", "queue_gone", "answered_here"};
// A name left out leaves the last entry empty.
static_assert(!kRouterDropNames.back().empty(), "every RouterDrop needs a name");

struct RouterStats {
  std::atomic<std::uint64_t> routed{0};       // messages routed (local + injected)
  std::atomic<std::uint64_t> injected{0};     // accepted from adapters
  std::atomic<std::uint64_t> no_interest{0};  // routed to nobody
  // Queue-group members picked here although a fabric bridges the group, because the
  // fabric could not take the message (not connected): the fallback that keeps local
  // members served while NATS is unreachable.
  std::atomic<std::uint64_t> queue_fallback{0};
  // Queue-group picks made here for a message from an adapter whose fabric does not choose
  // for the group (an overlay, or NATS before its queue subscription is confirmed): every
  // gateway the message reaches picks one of its own members, so a group spread over
  // several gateways gets it once per gateway.
  std::atomic<std::uint64_t> queue_gateway_picks{0};
  // Silent recipients (behind, and took nothing since they fell behind) that adapters stopped
  // waiting for because another recipient of the same messages kept up: each such recipient
  // once. It gets what follows at the fabric's pace, and is cut as a slow consumer if it has
  // stopped for good.
  std::atomic<std::uint64_t> silent_passed_over{0};
  std::array<std::atomic<std::uint64_t>, kRouterDropReasons> dropped{};  // by RouterDrop

  void drop(RouterDrop reason) noexcept {
    dropped[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t dropped_for(RouterDrop reason) const noexcept {
    return dropped[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
  }
};

}  // namespace psycho
