// One T per worker thread, indexed by the worker's index (0 .. size-1).
//
// Each slot sits on its own cache line(s), so a worker writing its slot never invalidates
// the line another worker is reading: per-worker counters, match caches and queues stay
// single-writer without false sharing. The slots are one contiguous allocation, built once
// and never moved (T may hold atomics or mutexes), so reaching a slot costs one index.
// Which thread may touch a slot is the owner's rule, not this container's.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace psycho {

inline constexpr std::size_t kCacheLine = 64;

template <class T>
class PerWorker {
 public:
  // Every slot default-constructed.
  explicit PerWorker(int workers) : PerWorker(workers, [](int) { return T(); }) {}
  // Slot w is make(w).
  template <class Make>
  PerWorker(int workers, Make&& make)
      : size_(workers > 0 ? static_cast<std::size_t>(workers) : 0),
        slots_(static_cast<Slot*>(
            ::operator new (size_ * sizeof(Slot), std::align_val_t{alignof(Slot)}))) {
    std::size_t built = 0;
    try {
      for (; built < size_; ++built) new (&slots_[built]) Slot{make(static_cast<int>(built))};
    } catch (...) {
      destroy(built);
      throw;
    }
  }
  ~PerWorker() { destroy(size_); }
  PerWorker(const PerWorker&) = delete;
  PerWorker& operator=(const PerWorker&) = delete;

  int size() const noexcept { return static_cast<int>(size_); }
  T& operator[](int worker) noexcept { return slots_[static_cast<std::size_t>(worker)].value; }
  const T& operator[](int worker) const noexcept {
    return slots_[static_cast<std::size_t>(worker)].value;
  }

  // f(worker, slot) for every worker in order.
  template <class F>
  void for_each(F&& f) {
    for (std::size_t w = 0; w < size_; ++w) f(static_cast<int>(w), slots_[w].value);
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t w = 0; w < size_; ++w) f(static_cast<int>(w), slots_[w].value);
  }
  // The sum of f(slot) over all workers.
  template <class F>
  auto sum(F&& f) const {
    decltype(f(std::declval<const T&>())) total{};
    for (std::size_t w = 0; w < size_; ++w) total += f(slots_[w].value);
    return total;
  }

 private:
  struct alignas(kCacheLine) Slot {
    T value;
  };

  // In index order, as a std::vector destroys its elements: the order the workers'
  // io_contexts were torn down in before they lived here.
  void destroy(std::size_t built) noexcept {
    for (std::size_t w = 0; w < built; ++w) slots_[w].~Slot();
    ::operator delete (slots_, std::align_val_t{alignof(Slot)});
  }

  std::size_t size_;
  Slot* slots_;
};

}  // namespace psycho
