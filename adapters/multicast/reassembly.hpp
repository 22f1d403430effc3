// Puts fragmented messages back together, within a memory bound and a time limit.
//
// Pure (the caller passes the time) and single-threaded: the adapter's receiving thread owns
// one. A message is identified by (sender, sequence of its first fragment). The whole
// message is allocated when its first fragment arrives (whichever that is) and charged to
// the bound; when a new message does not fit, the oldest incomplete ones are evicted to make
// room. Incomplete messages older than the timeout are dropped. Both are counted.
//
// A message this gateway does not want is skipped at its first fragment: what had arrived of
// it is freed, and its other fragments are only ticked off as they come, at the cost of its
// bookkeeping, so that it is neither copied nor handed on.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/multicast/codec.hpp"

namespace psycho::multicast {

using Clock = std::chrono::steady_clock;

// A reassembled message: its header (of the first fragment) and subject|reply|headers|payload.
struct Assembled {
  DataHeader header;
  std::string bytes;
};

class Reassembler {
 public:
  Reassembler(std::size_t max_bytes, std::chrono::milliseconds timeout)
      : max_bytes_(max_bytes), timeout_(timeout) {}

  // One fragment of a multi-fragment message (count > 1), already decoded. Returns the
  // message once its last missing fragment has arrived. Fragments that disagree with the
  // first one heard about the message's shape are counted as inconsistent and ignored.
  std::optional<Assembled> add(std::uint64_t sender, const DataHeader& h, std::string_view chunk,
                               Clock::time_point now);
  // The first fragment (index 0) of a multi-fragment message nobody here wants, in place of
  // add(): the message is not put together, and its other fragments are let go.
  void skip(std::uint64_t sender, const DataHeader& h, Clock::time_point now);
  // Drops what has waited longer than the timeout.
  void expire(Clock::time_point now);
  // Forgets everything from one sender (it went away).
  void forget(std::uint64_t sender);

  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t pending() const noexcept { return entries_.size(); }
  std::uint64_t timed_out() const noexcept { return timed_out_; }
  std::uint64_t evicted() const noexcept { return evicted_; }
  std::uint64_t inconsistent() const noexcept { return inconsistent_; }
  // Per-sender drops (timed out or evicted), for the peer table.
  std::uint64_t dropped_from(std::uint64_t sender) const;

 private:
  using Key = std::pair<std::uint64_t, std::uint64_t>;  // sender, first fragment's seq
  struct Entry {
    DataHeader header;
    std::string bytes;
    std::vector<bool> have;
    std::uint32_t received = 0;
    Clock::time_point deadline;
    std::size_t cost = 0;
    bool skipped = false;  // not wanted: no bytes, and no drop when it goes unfinished
  };

  static std::size_t bookkeeping_of(const DataHeader& h) noexcept;
  static std::size_t cost_of(const DataHeader& h) noexcept;
  using Entries = std::map<Key, Entry>;
  // The entry of the message `h` is a fragment of, made when it is the first heard (with
  // room for its bytes when `wanted`); end() when it does not fit (evicted, counted) or
  // disagrees with what was heard of it (inconsistent, counted).
  Entries::iterator entry_for(std::uint64_t sender, const DataHeader& h, bool wanted,
                              Clock::time_point now);
  // Ticks fragment `index` off; true when it was the last one missing.
  static bool tick(Entry& e, std::uint32_t index);
  // An entry that goes unfinished (evicted, timed out): counted unless it was skipped.
  void lose(Entries::iterator it, std::uint64_t& counter);
  static bool same_shape(const DataHeader& a, const DataHeader& b) noexcept;
  void drop(Entries::iterator it);
  bool make_room(std::size_t cost);

  const std::size_t max_bytes_;
  const std::chrono::milliseconds timeout_;
  Entries entries_;
  std::set<std::pair<Clock::time_point, Key>> by_age_;  // deadline order: expiry, eviction
  std::map<std::uint64_t, std::uint64_t> dropped_by_sender_;
  std::size_t bytes_ = 0;
  std::uint64_t timed_out_ = 0, evicted_ = 0, inconsistent_ = 0;
};

}  // namespace psycho::multicast
