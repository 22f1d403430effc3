// In-order delivery around repairs: a receiver holds a sender's datagrams that arrive while
// an older one of that sender is still missing, and lets them go, oldest first, once
// everything before them has arrived or been given up on. A flood that needed repair then
// reaches subscribers in the order it was published, as NORM and PGM deliver.
//
// Bounded in bytes over all senders; what would pass the bound is the caller's to resolve
// (it gives up on the oldest gap, which is counted as lost, and releases what that frees).
// Pure and single-threaded: the adapter's receiving thread owns it, under its receive lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace psycho::multicast {

class HoldBack {
 public:
  explicit HoldBack(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Keeps datagram `seq` of sender `node` (its authenticated, plain bytes) until taken.
  void hold(std::uint64_t node, std::uint64_t seq, std::string_view plain);
  // Moves the oldest datagram of `node` before `before` into `plain` and forgets it; false
  // when there is none. Taken one at a time, so the caller may hold more in between.
  bool take(std::uint64_t node, std::uint64_t before, std::string& plain);
  // Whether `node` has datagrams held: what arrives next from it waits behind them.
  bool holds(std::uint64_t node) const { return senders_.contains(node); }
  // Drops what `node` held (it is gone: nothing before it will come).
  void forget(std::uint64_t node);

  bool over() const noexcept { return bytes_ > max_bytes_; }
  std::size_t bytes() const noexcept { return bytes_; }
  // The sender holding the most bytes (0 when none), the one to give up a gap of first.
  std::uint64_t largest() const noexcept;

 private:
  struct Sender {
    std::map<std::uint64_t, std::string> datagrams;
    std::size_t bytes = 0;
  };
  const std::size_t max_bytes_;
  std::map<std::uint64_t, Sender> senders_;
  std::size_t bytes_ = 0;
};

}  // namespace psycho::multicast
