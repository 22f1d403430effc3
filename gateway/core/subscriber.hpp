// Something local that receives routed messages: a client session (or a test fake).
#pragma once

#include <string_view>

#include "core/message.hpp"

namespace psycho {

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

  // Any thread. True while the subscriber's outbound queue is filling up (a session: above a
  // quarter of max_pending, until it drains below an eighth): the router reports it to the
  // publisher, which then pauses reading for a moment (flow
  // control), so that a fast producer slows down instead of cutting off a healthy consumer.
  // Only while it is still taking what it is sent: one that has stopped reading is not
  // waited for (a session: no write completed for 500 ms), and ends as a slow consumer.
  virtual bool congested() const noexcept { return false; }

  // Any thread. Whether a message on `subject` may be delivered here at all (a user's
  // permissions). The router asks before it picks a queue-group member, so that the one
  // member chosen is one that takes the message; deliver() may still filter.
  virtual bool may_receive(std::string_view subject) const { return !subject.empty(); }

 private:
  OriginId id_;
  int worker_;
};

}  // namespace psycho
