// What every adapter counts the same way: messages and bytes in each direction, and what it
// dropped, by reason. Relaxed atomics: any thread (workers, the adapter's own threads, a
// fabric library's callbacks) counts, and status() reads without stopping them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/adapter_metrics.hpp"

namespace psycho {

// `Drop` is the adapter's enum of drop reasons, ending in `count`; `names` gives each its
// label of psycho_adapter_dropped_total, in enum order. Adding a reason is one enum value and
// one name: the array's size is checked against the enum's.
template <class Drop>
class TrafficCounters {
 public:
  using Counter = std::atomic<std::uint64_t>;
  static constexpr std::size_t kDrops = static_cast<std::size_t>(Drop::count);
  using Names = std::array<std::string_view, kDrops>;

  // `names` must outlive the counters (a namespace-scope constant, in practice).
  explicit TrafficCounters(const Names& names) noexcept : names_(names) {}

  // A message handed to the router from the fabric; `bytes` of headers and payload.
  void received(std::uint64_t bytes) noexcept {
    add(messages_in_, 1);
    add(bytes_in_, bytes);
  }
  // A message handed to the fabric.
  void sent(std::uint64_t bytes) noexcept {
    add(messages_out_, 1);
    add(bytes_out_, bytes);
  }
  void count(Drop reason, std::uint64_t n = 1) noexcept { add(drops_[index(reason)], n); }
  std::uint64_t dropped(Drop reason) const noexcept { return get(drops_[index(reason)]); }

  // The traffic figures and one `dropped` entry per reason; the caller may add reasons
  // counted elsewhere (a library's, a protocol node's) afterwards.
  void fill(metrics::AdapterTraffic& t) const {
    t.messages_in = get(messages_in_);
    t.bytes_in = get(bytes_in_);
    t.messages_out = get(messages_out_);
    t.bytes_out = get(bytes_out_);
    for (std::size_t i = 0; i < kDrops; ++i) t.dropped[std::string(names_[i])] = get(drops_[i]);
  }

  static void add(Counter& c, std::uint64_t n) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
  static std::uint64_t get(const Counter& c) noexcept { return c.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t index(Drop reason) noexcept {
    return static_cast<std::size_t>(reason);
  }

  const Names& names_;
  Counter messages_in_{0}, bytes_in_{0}, messages_out_{0}, bytes_out_{0};
  std::array<Counter, kDrops> drops_{};
};

}  // namespace psycho
