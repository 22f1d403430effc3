// Runs password checks (bcrypt, deliberately slow) off the worker threads, so that a flood of
// CONNECTs with passwords slows down logging in, not the messages of clients already in.
// One thread, a bounded queue: when it is full, submit() refuses and the caller turns the
// client away.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <thread>

#include "core/mutex.hpp"

namespace psycho::net {

class AuthPool {
 public:
  explicit AuthPool(std::size_t max_queued = 256);
  ~AuthPool();
  AuthPool(const AuthPool&) = delete;
  AuthPool& operator=(const AuthPool&) = delete;

  // Any thread. False when the queue is full or the pool is stopping.
  bool submit(std::function<void()> task);

 private:
  void run();

  const std::size_t max_queued_;
  Mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mutex_);
  bool stopping_ GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace psycho::net
