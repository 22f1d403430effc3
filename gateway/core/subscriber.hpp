// Something local that receives routed messages: a client session (or a test fake).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/message.hpp"

namespace psycho {

// How far behind a subscriber is, for flow control. In the order of how much a wait for it
// is worth: of several congested recipients, the greatest is the one to wait for.
enum class Congestion : std::uint8_t {
  none,     // keeping up, or stopped long enough that nobody waits for it any more
  silent,   // as stalled, but it has taken nothing since it fell behind: it may well have
            // stopped before (one that never reads looks like this from the start), where a
            // stalled one was reading and paused (a session: its peer took under 256 KiB
            // off the send queue since, and had not in the second before)
  stalled,  // behind, and it has taken nothing for longer, not yet long enough to be
            // given up (a session: 500 ms)
  moving,   // behind, and it took something lately (a session: a write completed in the
            // last 50 ms)
};

// Whom an adapter waits for before it injects more.
enum class WaitFor : std::uint8_t {
  congested,  // every congested recipient (and the router's own backlog, congested adapters),
              // except a silent one while another recipient keeps up: waiting for it would
              // idle that one for a subscriber that has probably stopped
  moving,     // only recipients that are moving (and the backlog, congested adapters):
              // what the adapter itself holds meanwhile is filling up, and a stalled
              // recipient would make it overflow
};

class Subscriber {
 public:
  Subscriber(OriginId id, int worker) noexcept : id_(id), worker_(worker) {}
  virtual ~Subscriber() = default;
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  OriginId id() const noexcept { return id_; }
  // The worker whose thread owns this subscriber; deliver() is only ever called there.
  int worker() const noexcept { return worker_; }

  // Called on the owning worker's thread, once per message, however many of the
  // subscriber's patterns matched. Must not block; a full queue is the subscriber's problem
  // (a session declares itself a slow consumer).
  virtual void deliver(const MessagePtr& message) = 0;

  // Any thread. Whether the subscriber's outbound queue is filling up (a session: above a
  // quarter of max_pending, until it drains below an eighth): the router reports it to the
  // publisher, which then pauses reading for a moment (flow control), so that a fast
  // producer slows down instead of cutting off a healthy consumer. Only while it is still
  // taking what it is sent: one that has stopped reading is not waited for (a session: no
  // write completed for 500 ms), and ends as a slow consumer. Must not lock: the router
  // asks while it holds its own lock.
  virtual Congestion congestion() const noexcept { return Congestion::none; }
  bool congested() const noexcept { return congestion() != Congestion::none; }

  // Any thread. Whether it takes what it is sent as fast as it comes: not behind at all
  // (unlike congestion(), which also says none for one behind that nobody waits for any
  // more) and not leaving. An adapter does not idle such a one for a silent recipient.
  virtual bool keeps_up() const noexcept { return congestion() == Congestion::none; }

  // Any thread. Whether a message on `subject` may be delivered here at all (a user's
  // permissions). The router asks before it picks a queue-group member, so that the one
  // member chosen is one that takes the message; deliver() may still filter.
  virtual bool may_receive(std::string_view subject) const { return !subject.empty(); }

 private:
  OriginId id_;
  int worker_;
};

}  // namespace psycho
