// A value that a reload replaces now and then and busy threads read for every message (an
// adapter's subject lists).
//
// std::atomic<std::shared_ptr> alone costs every read a lock bit and a reference count on the
// one cache line all readers share: contended atomic writes, which `perf` found to be most of
// the NATS publisher thread's own time per message while workers read the same pointer.
// Here the pointer is replaced with a version bump, and a thread that keeps a Reader loads
// it again only when the version has moved: one shared-line read per message otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace psycho {

template <class T>
class SharedSnapshot {
 public:
  explicit SharedSnapshot(std::shared_ptr<const T> value) : value_(std::move(value)) {}

  // Any thread: the current value, kept alive for as long as the caller holds it.
  std::shared_ptr<const T> load() const { return value_.load(std::memory_order_acquire); }

  // Any thread: readers see `value` at their next read.
  void store(std::shared_ptr<const T> value) {
    value_.store(std::move(value), std::memory_order_release);
    version_.fetch_add(1, std::memory_order_release);
  }

  // One thread's cached copy. Not thread-safe itself: a thread keeps its own.
  class Reader {
   public:
    // The current value; valid until this reader's next get().
    const T& get(const SharedSnapshot& s) {
      // The version is read first: a value stored after it is loaded here is at worst
      // loaded once more at the next call, never missed.
      const std::uint64_t version = s.version_.load(std::memory_order_acquire);
      if (held_ == nullptr || version != seen_) {
        held_ = s.load();
        seen_ = version;
      }
      return *held_;
    }

   private:
    std::shared_ptr<const T> held_;
    std::uint64_t seen_ = 0;
  };

 private:
  std::atomic<std::shared_ptr<const T>> value_;
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace psycho
