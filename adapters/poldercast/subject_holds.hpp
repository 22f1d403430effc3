// Publications held back, per subject, while a link they go to is backed up: the PolderCast
// adapter's flow control with on_full: block (docs/poldercast.md, "Flow control").
//
// A peer that reads slowly backs up the one link to it. Only the subjects whose
// publications went over that link wait for it; every other subject keeps its rate. A
// subject is held from the moment a publication of it was queued on a link that holds up
// (Node::on_held_up) until every such link has caught up, been found stuck, or been cut.
// Meanwhile its next publications wait here in order, and its publishers are paused
// (holds(), asked from any thread by FabricLink::flow_for).
//
// Threading: the adapter's event loop owns everything but holds(), which any thread may ask.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.hpp"
#include "core/mutex.hpp"

namespace psycho::poldercast {

class SubjectHolds {
 public:
  // --- the event loop. Subjects are the overlay's (the fabric's) subjects.

  // A publication of `subject` was queued on the link to `address`, which holds up.
  void held_up(std::string_view subject, const std::string& address);
  // Whether a publication of `subject` must wait: for a link, or behind earlier ones.
  bool holding(std::string_view subject) const { return holds_.contains(subject); }
  // Appends `message` to what waits for `subject`, which must be holding().
  void hold(std::string_view subject, MessagePtr message);

  // Forgets every link for which `holds_up(address)` is false (caught up, stuck, cut), and
  // returns the subjects that no link holds up any more: their publications may go on, in
  // order, through take().
  std::vector<std::string> release(const std::function<bool(const std::string&)>& holds_up);
  // For a released subject: hands at most `max_count` of its waiting messages, and at least
  // one while any waits, until about `max_bytes`, to `each` in order; none once a link
  // holds the subject up again. Then forgets the subject if nothing waits and no link holds.
  // Whether it handed any.
  bool take(const std::string& subject, std::size_t max_count, std::size_t max_bytes,
            const std::function<void(const Message&)>& each);
  // Every waiting message of every subject, in order per subject, whatever holds it up
  // (the adapter stops); forgets everything.
  void take_everything(const std::function<void(const Message&)>& each);

  bool empty() const { return holds_.empty(); }
  // Of the waiting messages, as their adapter queue counted them (OutboundQueue::cost_of).
  std::size_t bytes() const { return bytes_; }
  std::size_t subjects() const { return holds_.size(); }

  // --- any thread: whether any subject, or `subject`, is held back now.
  bool any() const noexcept { return held_count_.load(std::memory_order_relaxed) != 0; }
  bool holds(std::string_view subject) const;

 private:
  struct Hold {
    std::vector<std::string> links;  // addresses of the links that hold this subject up
    std::deque<MessagePtr> waiting;  // in the order they were published
  };

  using Holds = std::map<std::string, Hold, std::less<>>;
  // Erases a subject that nothing waits for and no link holds up.
  void forget(Holds::iterator it);

  Holds holds_;
  std::size_t bytes_ = 0;
  // The keys of holds_, for other threads; `held_count_` spares them the lock when empty.
  mutable SharedMutex mutex_;  // workers read it for every message while any is held
  std::set<std::string, std::less<>> held_ GUARDED_BY(mutex_);
  std::atomic<std::size_t> held_count_{0};
};

}  // namespace psycho::poldercast
