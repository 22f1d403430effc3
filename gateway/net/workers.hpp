// The worker threads: one io_context per thread, one thread per core. A session lives on
// one worker for its whole life, so its state needs no locks.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>
#include <vector>

#include "core/per_worker.hpp"
#include "core/worker_pool.hpp"

namespace psycho::net {

class Workers final : public WorkerPool {
 public:
  explicit Workers(int count);
  ~Workers() override;

  int size() const override { return contexts_.size(); }
  int current() const override;
  void post(int worker, std::function<void()> task) override;

  boost::asio::io_context& context(int worker) { return contexts_[worker]; }
  // Round-robin choice for a new session.
  int next() noexcept { return static_cast<int>(next_++ % static_cast<unsigned>(size())); }

  void start();
  // Lets the io_contexts run out of work (sessions must be closed first), then joins.
  void join();
  // Stops the io_contexts at once and joins.
  void stop();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  PerWorker<boost::asio::io_context> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  unsigned next_ = 0;
};

}  // namespace psycho::net
