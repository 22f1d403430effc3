// The bounded hand-off from worker threads to an adapter's own sending thread, and the
// adapter's flow-control signal.
//
// Workers push() and never wait: a push that would exceed the byte or message bound is
// refused, and the adapter counts it. The sending thread takes everything queued in one
// swap (take_all), so the lock is held for a pointer exchange, not for the I/O, and a burst
// of messages costs one wake-up. Messages are shared pointers: queuing copies no payload.
//
// Flow control (on_full: block): once more than half the bound waits, the queue reports
// itself congested and the router pauses the publishers whose messages come here; the next
// take_all empties the queue and clears it, so publishers read on while the sender works
// through its batch. The other half is headroom: a publisher pauses at the publication that
// found the queue congested, so each one adds at most that message past the mark.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <vector>

#include "adapters/queue_settings.hpp"
#include "core/fabric_link.hpp"
#include "core/message.hpp"
#include "core/mutex.hpp"

namespace psycho {

class OutboundQueue {
 public:
  explicit OutboundQueue(const QueueSettings& settings)
      : max_bytes_(settings.bytes),
        max_messages_(settings.messages),
        blocks_(settings.on_full == OnFull::block),
        patience_(settings.block_timeout) {}

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
      if (blocks_ && (2 * bytes_ > max_bytes_ || 2 * queued_.size() > max_messages_) &&
          !congested_.load(std::memory_order_relaxed)) {
        congested_.store(true, std::memory_order_relaxed);
      }
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
    if (!out.empty()) drained_.fetch_add(out.size(), std::memory_order_relaxed);
    // Read by the router for every message sent here: written only when it changes.
    if (congested_.load(std::memory_order_relaxed)) {
      congested_.store(false, std::memory_order_relaxed);
    }
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

  // Any thread, lock-free: what FabricLink::flow() reports for this queue.
  FlowState flow() const noexcept {
    return {congested_.load(std::memory_order_relaxed), drained_.load(std::memory_order_relaxed),
            patience_};
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
  const bool blocks_;
  const std::chrono::milliseconds patience_;
  mutable Mutex mutex_;
  std::condition_variable ready_;
  std::vector<MessagePtr> queued_ GUARDED_BY(mutex_);
  std::size_t bytes_ GUARDED_BY(mutex_) = 0;
  bool waiting_ GUARDED_BY(mutex_) = false;
  bool poked_ GUARDED_BY(mutex_) = false;
  bool closed_ GUARDED_BY(mutex_) = false;
  // Apart from the lock and from drained_, which the sending thread writes at every batch.
  alignas(64) std::atomic<bool> congested_{false};
  alignas(64) std::atomic<std::uint64_t> drained_{0};
};

}  // namespace psycho
