#include "net/workers.hpp"

#include <boost/asio/post.hpp>

namespace psycho::net {
namespace {
thread_local int current_worker = -1;
}

// Concurrency hint 1: each context is run by exactly one thread, so Asio can skip locking.
Workers::Workers(int count) : contexts_(count, [](int) { return boost::asio::io_context(1); }) {
  contexts_.for_each(
      [this](int, boost::asio::io_context& c) { guards_.emplace_back(c.get_executor()); });
}

Workers::~Workers() { stop(); }

int Workers::current() const { return current_worker; }

void Workers::post(int worker, std::function<void()> task) {
  boost::asio::post(context(worker), std::move(task));
}

void Workers::start() {
  for (int i = 0; i < size(); ++i) {
    threads_.emplace_back([this, i] {
      current_worker = i;
      context(i).run();
    });
  }
}

void Workers::join() {
  guards_.clear();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Workers::stop() {
  guards_.clear();
  contexts_.for_each([](int, boost::asio::io_context& c) { c.stop(); });
  join();
}

}  // namespace psycho::net
