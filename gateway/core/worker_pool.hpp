// The router's view of the worker threads: how many there are, which one is calling, and
// how to run something on another one. Implemented by net::Workers (Asio io_contexts) and
// by a synchronous fake in the unit tests.
#pragma once

#include <functional>

namespace psycho {

class WorkerPool {
 public:
  virtual ~WorkerPool() = default;
  virtual int size() const = 0;
  // Index of the worker whose thread is calling, or -1 on any other thread.
  virtual int current() const = 0;
  // Runs task later on the given worker's thread; thread-safe. Tasks posted from one
  // thread to one worker run in order.
  virtual void post(int worker, std::function<void()> task) = 0;
};

}  // namespace psycho
