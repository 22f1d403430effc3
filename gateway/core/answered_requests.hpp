// The reply subjects of the last requests that reached a recipient here and went to a fabric
// too. A fabric's "no responders" status for one of them is not the answer: a responder here
// has the request (nats-server sends one for a request that only the publishing gateway's
// own clients serve), and the router drops it (RouterDrop::answered_here).
//
// Reply subjects are untrusted input, so each is remembered as its keyed hash
// (core/keyed_hash.hpp) in a RecentSet: fixed memory, the oldest forgotten first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/keyed_hash.hpp"
#include "core/mutex.hpp"
#include "core/recent_set.hpp"

namespace psycho {

class AnsweredRequests {
 public:
  explicit AnsweredRequests(std::size_t capacity) : recent_(capacity) {}

  // Any thread.
  void note(std::string_view reply) {
    const std::uint64_t key = siphash<1, 3>(process_hash_key(), reply);
    MutexLock lock(mutex_);
    recent_.insert(key);
  }
  bool contains(std::string_view reply) const {
    const std::uint64_t key = siphash<1, 3>(process_hash_key(), reply);
    MutexLock lock(mutex_);
    return recent_.contains(key);
  }

 private:
  mutable Mutex mutex_;
  RecentSet<> recent_ GUARDED_BY(mutex_);
};

}  // namespace psycho
