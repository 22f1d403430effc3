// The closures of NATS subscriptions that are gone on our side but that nats.c may still
// call. Unsubscribing, or a connection that closes, queues the subscription's last messages
// and then its on-complete callback on nats.c's delivery thread; the connection's closed
// callback runs on another thread, in no order with them. So a closure is freed only once
// its on-complete callback has run, never because its connection closed.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <vector>

#include "core/mutex.hpp"

namespace psycho::nats {

// `Closure` has a `bool complete` that only this class touches.
template <class Closure>
class RetiredClosures {
 public:
  void add(std::unique_ptr<Closure> closure) {
    MutexLock lock(mutex_);
    list_.push_back(std::move(closure));
  }

  // The subscription's on-complete callback (nats.c's delivery thread): no callback of it
  // comes after this one. The closure may still be live, or retired already.
  void completed(Closure& closure) {
    {
      MutexLock lock(mutex_);
      closure.complete = true;
    }
    done_.notify_all();
  }

  // Frees the closures nats.c has finished with.
  void collect() {
    MutexLock lock(mutex_);
    std::erase_if(list_, [](const auto& c) { return c->complete; });
  }

  // At stop, after the connection closed: waits until nats.c has finished with every
  // closure, up to `deadline`. Those it has not are leaked (freeing memory a callback may
  // still use is worse); returns how many.
  template <class TimePoint>
  std::size_t finish(const TimePoint& deadline) {
    MutexLock lock(mutex_);
    while (pending() && lock.wait_until(done_, deadline) == std::cv_status::no_timeout) {
    }
    std::size_t leaked = 0;
    for (auto& c : list_) {
      if (!c->complete) {
        static_cast<void>(c.release());
        ++leaked;
      }
    }
    list_.clear();
    return leaked;
  }

 private:
  bool pending() REQUIRES(mutex_) {
    return std::any_of(list_.begin(), list_.end(), [](const auto& c) { return !c->complete; });
  }

  Mutex mutex_;
  std::condition_variable done_;
  std::vector<std::unique_ptr<Closure>> list_ GUARDED_BY(mutex_);
};

}  // namespace psycho::nats
