// How an adapter's outbound queue is bounded and what happens when a publisher outruns the
// fabric: the keys `queue_size`, `queue_messages`, `on_full` and `block_timeout` that every
// adapter section has (docs/configuration.md, "Adapter queues and flow control").
#pragma once

#include <chrono>
#include <cstddef>

#include "config/section.hpp"

namespace psycho {

enum class OnFull {
  // Publishers whose messages go to the adapter pause while its queue is past half full,
  // for as long as the queue keeps draining (up to block_timeout when it does not).
  block,
  // Nobody waits: what does not fit the queue is dropped and counted (`queue_full`).
  drop,
};

struct QueueSettings {
  std::size_t bytes = 16 << 20;  // subject + reply + headers + payload of what is queued
  std::size_t messages = 1 << 20;
  OnFull on_full = OnFull::block;
  std::chrono::milliseconds block_timeout{10000};  // a paused publisher's patience
  bool operator==(const QueueSettings&) const = default;
};

// Reads the four keys of `s` into `q`, checking their ranges.
void read_queue_settings(config::Section& s, QueueSettings& q);

}  // namespace psycho
