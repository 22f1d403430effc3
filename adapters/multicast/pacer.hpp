// How fast the sending thread may put datagrams on the group: pacing driven by what the
// receivers report.
//
// Multicast has no acknowledgements. A sender learns that it outruns a receiver from two
// signals, the way TCP learns it from ECN marks and loss:
//  - backlog reports: a receiver whose socket buffer is past half full and still filling
//    says so (Type::backlog) before it overflows. A report ends the interval early (once it
//    is a tenth of an interval old, and an interval after the last cut), so the cut comes
//    while there is room left: the pace drops by a quarter. A report from a buffer three
//    quarters full (codec.hpp, nearly_full: a receiver holding back for a congested
//    subscriber of its own, which reports every few milliseconds, or one far behind) is
//    about to lose what it cannot hold: it cuts the pace to a quarter, half an interval
//    after the last cut. An interval the sender spent mostly idle says nothing about its
//    pace, so a report then is no cut;
//  - NACKs, which follow an overflow: when, within one interval, the sequences newly NACKed
//    exceed a sixteenth of the datagrams sent (scattered loss of a few percent is repaired,
//    and is no reason to slow down), the pace is half the rate it was sending at.
// The pacer starts unpaced, and cuts again after each interval with a signal. An interval in
// which the pace held the sender back without one raises it by an eighth (doubling in about
// 60 ms); once it is far above anything the sender has needed, pacing ends. The rate never
// falls below `min_rate`, so repair always has datagrams to follow.
//
// Sending thread only; its inputs are counters the receiving thread keeps. I/O-free and
// clock-free (the caller passes the time), so it is unit-tested.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace psycho::multicast {

class Pacer {
 public:
  using Clock = std::chrono::steady_clock;

  // What the receivers have said so far: running counts, never reset.
  struct Feedback {
    std::uint64_t nacked = 0;    // sequences other gateways NACKed from us
    std::uint64_t backlogs = 0;  // backlog reports from other gateways
    std::uint64_t full = 0;      // of those, from a nearly full buffer (codec.hpp)
  };

  explicit Pacer(double min_rate = 4 << 20,
                 Clock::duration interval = std::chrono::milliseconds(10)) noexcept
      : min_rate_(min_rate), interval_(interval) {}

  // Before sending `bytes` as `datagrams` datagrams: how long to wait first.
  Clock::duration before_send(std::size_t bytes, std::size_t datagrams, Feedback feedback,
                              Clock::time_point now) noexcept {
    if (interval_start_ == Clock::time_point{}) {
      refilled_ = now;
      start_interval(now, feedback);
    }
    const bool reported = feedback.backlogs != at_start_.backlogs;
    const bool urgent = feedback.full != at_start_.full;
    if (now - interval_start_ >= interval_ ||
        (reported && interval_bytes_ > 0 && now - interval_start_ >= interval_ / 10 &&
         now - last_cut_ >= (urgent ? interval_ / 2 : interval_))) {
      end_interval(now, feedback);
    }
    interval_bytes_ += bytes;
    interval_datagrams_ += datagrams;
    if (rate_ == 0) return Clock::duration::zero();
    const double elapsed = std::chrono::duration<double>(now - refilled_).count();
    refilled_ = now;
    const double burst = std::max(64.0 * 1024, rate_ / 500);  // 2 ms at the current rate
    tokens_ = std::min(burst, tokens_ + elapsed * rate_) - static_cast<double>(bytes);
    if (tokens_ >= 0) return Clock::duration::zero();
    held_back_ = true;
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(-tokens_ / rate_));
  }

  // The sender waited for something else (repairs owed, see repair.hpp): that time says
  // nothing about the rate it sends at, nor do the NACKs that came meanwhile (they asked for
  // what it waited for), so the interval starts afresh rather than read as a slow sender
  // with much loss.
  void restart(Feedback feedback, Clock::time_point now) noexcept {
    if (interval_start_ == Clock::time_point{}) return;
    refilled_ = now;
    start_interval(now, feedback);
  }

  // Bytes per second; 0 while unpaced.
  double rate() const noexcept { return rate_; }
  // Cuts so far that a backlog report, and that loss, called for (a cut with both counts in
  // both).
  std::uint64_t backlog_cuts() const noexcept { return backlog_cuts_; }
  std::uint64_t loss_cuts() const noexcept { return loss_cuts_; }

 private:
  void start_interval(Clock::time_point now, Feedback feedback) noexcept {
    interval_start_ = now;
    interval_bytes_ = interval_datagrams_ = 0;
    at_start_ = feedback;
    held_back_ = false;
  }

  void end_interval(Clock::time_point now, Feedback feedback) noexcept {
    const double seconds = std::chrono::duration<double>(now - interval_start_).count();
    const std::uint64_t asked = feedback.nacked - at_start_.nacked;
    const bool stale = now - interval_start_ > 2 * interval_;  // mostly idle
    const bool backed_up = feedback.backlogs != at_start_.backlogs && !stale;
    const bool nearly_full = feedback.full != at_start_.full && !stale;
    const double sending = static_cast<double>(interval_bytes_) / seconds;
    const bool lossy = asked * 16 > interval_datagrams_;
    if (interval_datagrams_ > 0 && (backed_up || lossy)) {
      // A receiver nearly full is about to lose what it cannot hold: a quarter of the rate.
      // Loss has happened: half. A backlog is a warning with room left: a quarter off.
      const double cut = nearly_full ? 0.25 : lossy ? 0.5 : 0.75;
      rate_ = std::max(min_rate_, (rate_ == 0 ? sending : std::min(rate_, sending)) * cut);
      tokens_ = 0;
      last_cut_ = now;
      backlog_cuts_ += backed_up ? 1 : 0;
      loss_cuts_ += lossy ? 1 : 0;
    } else if (held_back_) {
      rate_ *= 1.125;
    } else if (rate_ > 16 * std::max(sending, min_rate_)) {
      rate_ = 0;  // not the limit for a while: unpaced again
    }
    start_interval(now, feedback);
  }

  const double min_rate_;
  const Clock::duration interval_;
  double rate_ = 0;
  double tokens_ = 0;
  Clock::time_point interval_start_{}, refilled_{}, last_cut_{};
  std::size_t interval_bytes_ = 0, interval_datagrams_ = 0;
  Feedback at_start_;
  std::uint64_t backlog_cuts_ = 0, loss_cuts_ = 0;
  bool held_back_ = false;
};

}  // namespace psycho::multicast
