// The bounded hand-off from worker threads to an adapter's own sending thread.
//
// Workers push() and never wait: a push that would exceed the byte or message bound is
// refused, and the adapter counts it. The sending thread takes everything queued in one
// swap (take_all), so the lock is held for a pointer exchange, not for the I/O, and a burst
// of messages costs one wake-up. Messages are shared pointers: queuing copies no payload.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <vector>

#include "core/message.hpp"
#include "core/mutex.hpp"

namespace psycho {

class OutboundQueue {
 public:
  OutboundQueue(std::size_t max_bytes, std::size_t max_messages)
      : max_bytes_(max_bytes), max_messages_(max_messages) {}

  // Any thread. False when the queue is full (or closed): the caller counts the drop.
  bool push(const MessagePtr& message) {
    const std::size_t cost = cost_of(message);
    bool wake = false;
    {
      MutexLock lock(mutex_);
      if (closed_ || bytes_ + cost > max_bytes_ || queued_.size() >= max_messages_) return false;
      bytes_ += cost;
      queued_.push_back(message);
      wake = waiting_;
    }
    if (wake) ready_.notify_one();
    return true;
  }

  // The sending thread. Waits up to `timeout` for work (or close()), then moves everything
  // queued into `out` (which must be empty). Returns false once closed and drained.
  bool take_all(std::vector<MessagePtr>& out, std::chrono::milliseconds timeout) {
    MutexLock lock(mutex_);
    if (queued_.empty() && !closed_ && !poked_) {
      waiting_ = true;
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      while (queued_.empty() && !closed_ && !poked_) {
        if (lock.wait_until(ready_, deadline) == std::cv_status::timeout) break;
      }
      waiting_ = false;
    }
    poked_ = false;
    out.swap(queued_);
    bytes_ = 0;
    return !(closed_ && out.empty());
  }

  // Wakes the sending thread without a message (e.g. it has other work to look at).
  void poke() {
    {
      MutexLock lock(mutex_);
      poked_ = true;
    }
    ready_.notify_one();
  }

  // Refuses further pushes; take_all() returns what is left, then false.
  void close() {
    {
      MutexLock lock(mutex_);
      closed_ = true;
    }
    ready_.notify_one();
  }

  std::size_t bytes() const {
    MutexLock lock(mutex_);
    return bytes_;
  }

  static std::size_t cost_of(const MessagePtr& m) noexcept {
    return m->subject().size() + m->reply().size() + m->body().size();
  }

 private:
  const std::size_t max_bytes_, max_messages_;
  mutable Mutex mutex_;
  std::condition_variable ready_;
  std::vector<MessagePtr> queued_ GUARDED_BY(mutex_);
  std::size_t bytes_ GUARDED_BY(mutex_) = 0;
  bool waiting_ GUARDED_BY(mutex_) = false;
  bool poked_ GUARDED_BY(mutex_) = false;
  bool closed_ GUARDED_BY(mutex_) = false;
};

}  // namespace psycho
