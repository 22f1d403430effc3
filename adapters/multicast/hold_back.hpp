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

  // Keeps datagram `seq` of sender `node` (its authenticated, plain bytes) until release().
  void hold(std::uint64_t node, std::uint64_t seq, std::string_view plain);
  // Hands `use(std::string_view plain)` the datagrams of `node` before `before`, oldest
  // first, at most `limit` of them, and forgets them.
  template <class Use>
  void release(std::uint64_t node, std::uint64_t before, Use&& use, std::size_t limit = SIZE_MAX);
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

template <class Use>
void HoldBack::release(std::uint64_t node, std::uint64_t before, Use&& use, std::size_t limit) {
  const auto s = senders_.find(node);
  if (s == senders_.end()) return;
  auto& datagrams = s->second.datagrams;
  for (; limit > 0 && !datagrams.empty() && datagrams.begin()->first < before; --limit) {
    // Out of the map first: `use` may hold more (for this sender, later sequences).
    const std::string plain = std::move(datagrams.begin()->second);
    datagrams.erase(datagrams.begin());
    s->second.bytes -= plain.size();
    bytes_ -= plain.size();
    use(std::string_view(plain));
  }
  if (datagrams.empty()) senders_.erase(s);
}

}  // namespace psycho::multicast
