#include "net/auth_pool.hpp"

namespace psycho::net {

AuthPool::AuthPool(std::size_t max_queued) : max_queued_(max_queued) {
  thread_ = std::thread([this] { run(); });
}

AuthPool::~AuthPool() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
  thread_.join();
}

bool AuthPool::submit(std::function<void()> task) {
  {
    MutexLock lock(mutex_);
    if (stopping_ || tasks_.size() >= max_queued_) return false;
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
  return true;
}

void AuthPool::run() {
  MutexLock lock(mutex_);
  while (true) {
    while (!stopping_ && tasks_.empty()) lock.wait(ready_);
    if (stopping_) return;  // queued checks are dropped; their sessions are closing anyway
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace psycho::net
