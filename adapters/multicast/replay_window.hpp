// Which datagram counters of one sender were already accepted (docs/multicast.md#keys): the
// highest one, and a bitmap of the 960 below it, kept as a ring of 64-bit blocks so that
// moving ahead clears whole blocks instead of shifting bits (the scheme of RFC 6479, as
// IPsec and WireGuard use). A counter is accepted once; one further behind than the window
// is refused, as a replay would be.
//
// fresh() only looks; accept() records. The caller authenticates a datagram between the
// two, so that what a stranger sends can never move the window.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace psycho::multicast {

class ReplayWindow {
 public:
  static constexpr std::uint64_t kBlocks = 16;
  // Counters below the highest that may still arrive (a block is always being reused).
  static constexpr std::uint64_t kSize = (kBlocks - 1) * 64;

  bool fresh(std::uint64_t counter) const noexcept {
    if (counter == 0) return false;  // never sent: counters start at 1
    if (counter > highest_) return true;
    if (highest_ - counter >= kSize) return false;
    return (bits_[(counter / 64) % kBlocks] & bit(counter)) == 0;
  }

  // Records `counter`, which fresh() accepted.
  void accept(std::uint64_t counter) noexcept {
    if (counter > highest_) {
      const std::uint64_t from = highest_ / 64, to = counter / 64;
      const std::uint64_t clear = std::min(to - from, kBlocks);
      for (std::uint64_t i = 1; i <= clear; ++i) bits_[(from + i) % kBlocks] = 0;
      highest_ = counter;
    }
    bits_[(counter / 64) % kBlocks] |= bit(counter);
  }

  std::uint64_t highest() const noexcept { return highest_; }

 private:
  static std::uint64_t bit(std::uint64_t counter) noexcept {
    return std::uint64_t{1} << (counter % 64);
  }

  std::array<std::uint64_t, kBlocks> bits_{};
  std::uint64_t highest_ = 0;
};

}  // namespace psycho::multicast
