// Reliability over multicast: the sender keeps its recent datagrams (SendWindow); each
// receiver tracks every sender's datagram sequence (ReceiveTracker), notices gaps, asks for
// what is missing with NACKs, and gives up (counting the loss) when the sender no longer has
// it, or after `max_nacks` requests and as long as the sender keeps an owed datagram
// (`max_owed`), unless the sender is repairing. A sender that repairs slowly (its budgets,
// its pace) is still repairing: what it holds is asked for again until it comes. One that
// falls silent may only be short of CPU, and is asked all the same.
//
// Both are pure: the caller passes the time, and sockets stay in the adapter. Neither is
// thread-safe; the adapter guards the SendWindow (its sending and receiving threads both use
// it) and keeps each ReceiveTracker on its receiving thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/multicast/codec.hpp"

namespace psycho::multicast {

using Clock = std::chrono::steady_clock;

struct RepairSettings {
  std::size_t window_bytes = 32 << 20;          // sender: datagrams kept for retransmission
  std::chrono::milliseconds nack_delay{2};      // receiver: wait this long for reordering
  std::chrono::milliseconds nack_interval{20};  // receiver: between NACKs for one sequence;
                                                // sender: between retransmissions of one
  // receiver: asked at least this often; then the datagram is lost once the gap is max_owed
  // old (until then the sender still holds what was asked, silent or not), unless the sender
  // repaired something within the last max_nacks * nack_interval (it still answers, only
  // not this one yet).
  int max_nacks = 8;
  std::size_t max_missing = 16384;  // receiver: sequences tracked per sender; beyond: lost
  // receiver: the furthest a sender's sequence may move ahead in one datagram. Further is
  // refused (a forged announce or datagram), so nothing a sender says can move the expected
  // sequence or the loss count by more. At most max_missing: then every sequence a jump
  // skips is tracked as missing, and the sender's real datagrams behind a forged jump are
  // taken as repairs, not dropped as duplicates.
  std::uint64_t max_seq_jump = 16384;
  // receiver: bytes of datagrams held back behind a gap, so that what follows a repaired
  // datagram is delivered after it (all senders together); beyond, the oldest gap is lost.
  std::size_t hold_bytes = 64 << 20;
  // receiver: deliver each sender's messages in its order, holding back what follows a gap
  // until the gap is repaired or given up on (hold_back.hpp).
  bool ordered = false;
  // both: sequences one NACK asks for (receiver) and is answered for (sender).
  std::size_t max_nack_datagrams = 512;
  // sender: how long a datagram a NACK asked for stays owed without being asked for again
  // (receivers ask every nack_interval while they wait; one that gave up or went away
  // stops asking).
  std::chrono::milliseconds owed_for{100};
  // sender: the longest one datagram holds the window, however often it is asked for (a
  // receiver that never gets it, or forged NACKs, must not stop the sender for good).
  // receiver: how long a gap is asked for at least, whether the sender is heard or not.
  std::chrono::milliseconds max_owed{2000};
  // sender: retransmitted bytes per second (and the burst allowed) per requesting host
  // (ip), and in total.
  std::size_t requester_rate = 8 << 20, requester_burst = 2 << 20;
  std::size_t total_rate = 32 << 20, total_burst = 8 << 20;
};

// The sender's recent datagrams, oldest first, bounded in bytes.
class SendWindow {
 public:
  explicit SendWindow(const RepairSettings& settings) : settings_(settings) {}

  // Keeps a datagram just sent; sequences must be consecutive.
  void keep(std::uint64_t seq, std::string_view datagram);
  // The datagram with `seq` for retransmission, or "" when it is gone or was sent again
  // less than nack_interval ago (several receivers NACK the same loss; one answer serves all).
  std::string_view retransmit(std::uint64_t seq, Clock::time_point now) {
    return resendable(seq, now).empty() ? std::string_view{} : mark_resent(seq, now);
  }
  // The two halves of retransmit(), for a caller that decides in between (a rate limit):
  // what would be sent, and marking it sent (flagged as a retransmission), returned.
  std::string_view resendable(std::uint64_t seq, Clock::time_point now) const;
  std::string_view mark_resent(std::uint64_t seq, Clock::time_point now);
  // A NACK asked for `seq` and it is not being sent again now: until it is, or nobody has
  // asked for it for `owed_for`, keeping more must not push it out (a repair refused by a
  // budget, or sent a moment ago and lost again, is asked for again every nack_interval,
  // and must still be there).
  void owe(std::uint64_t seq, Clock::time_point now);
  // Whether keeping `bytes` more now would push out a datagram still owed. The sender then
  // waits (the repairs go first) instead of breaking a promise it can still keep.
  bool would_drop_owed(std::size_t bytes, Clock::time_point now) const;
  // Whether `seq` has been sent again already (a NACK for it is not news).
  bool resent(std::uint64_t seq) const noexcept {
    return seq >= oldest_seq() && seq < next_ &&
           entries_[static_cast<std::size_t>(seq - oldest_seq())].last_sent != Clock::time_point{};
  }

  // What an announcement carries.
  std::uint64_t next_seq() const noexcept { return next_; }
  std::uint64_t oldest_seq() const noexcept { return next_ - entries_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  struct Entry {
    std::string datagram;
    Clock::time_point last_sent{};
    Clock::time_point owed{};        // when a NACK last asked for it
    Clock::time_point first_owed{};  // when it became owed
  };
  bool owed(const Entry& e, Clock::time_point now) const noexcept;

  const RepairSettings settings_;
  std::deque<Entry> entries_;
  std::uint64_t next_ = 1;
  std::size_t bytes_ = 0;
};

// One sender's sequence as one receiver hears it.
class ReceiveTracker {
 public:
  // implausible: further ahead than max_seq_jump; ignored, and not a sign of life.
  enum class Verdict { fresh, repaired, duplicate, implausible };
  // How much further than max_seq_jump a data datagram may jump and still be its sender's
  // own stream: as many datagrams as the receiver knows it lost since the sender's last
  // plausible one (its socket's drops), or any number where only key holders can send
  // (docs/multicast.md, "Trust"). Such a jump is taken up, and what it skipped given up on
  // (lost), instead of refusing everything the sender sends until it is forgotten.
  static constexpr std::uint64_t kAnyJump = UINT64_MAX;

  explicit ReceiveTracker(const RepairSettings& settings) : settings_(settings) {}

  // A data datagram with `seq` arrived: whether to use it. `lost_here`: see kAnyJump.
  Verdict on_data(std::uint64_t seq, Clock::time_point now, std::uint64_t lost_here = 0);
  // The sender's announcement: finds loss at the tail (nothing came after the lost
  // datagrams) and gives up on what the sender no longer holds. False, and ignored, when
  // implausible: next_seq beyond max_seq_jump, or oldest_seq after next_seq.
  // A jump beyond it by no more than `lost_here` (see kAnyJump) is taken up, short of its
  // last max_seq_jump sequences, which are asked for: some may still be on their way.
  bool on_announce(const Announce& a, Clock::time_point now, std::uint64_t lost_here = 0);
  // Fills `nack` with what is due to be asked for again (ranges of consecutive sequences, at
  // most max_nack_datagrams in all) and, when `may_give_up`, gives up on what the sender no
  // longer answers for (see RepairSettings::max_nacks); the caller says no while it has not
  // read all that came (a repair may be waiting there). False when nothing is due.
  bool due(Clock::time_point now, Nack& nack, bool may_give_up = true);
  // Gives up on the oldest sequence missing (counted as lost); false when none is.
  bool give_up_oldest();
  // When due() next has something to do (Clock::time_point::max() when nothing is missing).
  Clock::time_point next_due() const noexcept;
  // The oldest sequence still missing, or the next one expected when none is: everything
  // before it has arrived or been given up on.
  std::uint64_t complete_before() const noexcept {
    return missing_.empty() ? next_ : missing_.begin()->first;
  }

  std::uint64_t gaps() const noexcept { return gaps_; }  // gap events
  std::uint64_t missing() const noexcept { return missing_.size(); }
  std::uint64_t nacks() const noexcept { return nacks_; }        // NACK datagrams asked
  std::uint64_t repaired() const noexcept { return repaired_; }  // datagrams recovered
  std::uint64_t lost() const noexcept { return lost_; }          // datagrams given up on
  std::uint64_t resyncs() const noexcept { return resyncs_; }    // jumps taken up (kAnyJump)

 private:
  struct Missing {
    Clock::time_point next_nack;
    Clock::time_point found;  // when the gap was seen
    int nacks = 0;
  };
  // Whether the sender still counts as answering for `m`: see due().
  bool answering(const Missing& m, Clock::time_point now) const noexcept;
  void add_missing(std::uint64_t from, std::uint64_t to, Clock::time_point now);
  // A jump beyond max_seq_jump taken up: what was missing and what it skips (every sequence
  // before `next`) are lost, and `next` is expected next.
  void resync(std::uint64_t next) noexcept;
  bool plausible(std::uint64_t seq) const noexcept {
    return seq <= next_ || seq - next_ <= settings_.max_seq_jump;
  }
  // For a `seq` that is not plausible: whether its jump goes beyond max_seq_jump by no more
  // than `lost_here` (kAnyJump).
  bool takes_up(std::uint64_t seq, std::uint64_t lost_here) const noexcept {
    return seq - next_ - settings_.max_seq_jump <= lost_here;
  }

  const RepairSettings settings_;
  bool started_ = false;
  std::uint64_t next_ = 0;  // the next sequence expected
  std::map<std::uint64_t, Missing> missing_;
  Clock::time_point last_repair_{};  // when a repair last came from this sender
  std::uint64_t gaps_ = 0, nacks_ = 0, repaired_ = 0, lost_ = 0, resyncs_ = 0;
};

}  // namespace psycho::multicast
