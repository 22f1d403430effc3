#include "adapters/multicast/repair.hpp"

namespace psycho::multicast {

namespace {
constexpr std::size_t kEntryOverhead = 64;  // bookkeeping per kept datagram
constexpr std::size_t kFlagsOffset = 6;     // of the common header
}  // namespace

// --- sender --------------------------------------------------------------------------------

void SendWindow::keep(std::uint64_t seq, std::string_view datagram) {
  if (seq != next_) {  // a jump (never by our own adapter): start over
    entries_.clear();
    bytes_ = 0;
  }
  next_ = seq + 1;
  if (datagram.size() + kEntryOverhead > settings_.window_bytes) {  // larger than the window
    entries_.clear();
    bytes_ = 0;
    return;
  }
  // A full window lends the new datagram the oldest one's buffer: it keeps what is sent
  // without allocating. A buffer counts with its capacity, which a reused one may have
  // beyond the datagram's size, so that the bound holds for the memory, not only the bytes.
  const auto cost = [](const std::string& b) { return b.capacity() + kEntryOverhead; };
  const auto drop_oldest = [&] {
    bytes_ -= cost(entries_.front().datagram);
    std::string buffer = std::move(entries_.front().datagram);
    entries_.pop_front();
    return buffer;
  };
  std::string buffer;
  if (!entries_.empty() && bytes_ + datagram.size() + kEntryOverhead > settings_.window_bytes) {
    buffer = drop_oldest();
  }
  buffer.assign(datagram);
  bytes_ += cost(buffer);
  entries_.push_back({std::move(buffer), {}});
  while (bytes_ > settings_.window_bytes && entries_.size() > 1) drop_oldest();
}

std::string_view SendWindow::resendable(std::uint64_t seq, Clock::time_point now) const {
  if (seq < oldest_seq() || seq >= next_) return {};
  const Entry& e = entries_[static_cast<std::size_t>(seq - oldest_seq())];
  if (e.last_sent != Clock::time_point{} && now - e.last_sent < settings_.nack_interval) return {};
  return e.datagram;
}

void SendWindow::owe(std::uint64_t seq, Clock::time_point now) {
  if (seq < oldest_seq() || seq >= next_) return;
  Entry& e = entries_[static_cast<std::size_t>(seq - oldest_seq())];
  // Not asked for lately: owed afresh, its time starts now. Asked for all along: max_owed
  // runs from the first time.
  if (e.owed == Clock::time_point{} || now - e.owed >= settings_.owed_for) e.first_owed = now;
  e.owed = now;
}

bool SendWindow::owed(const Entry& e, Clock::time_point now) const noexcept {
  return e.owed != Clock::time_point{} && now - e.owed < settings_.owed_for &&
         now - e.first_owed < settings_.max_owed;
}

bool SendWindow::would_drop_owed(std::size_t bytes, Clock::time_point now) const {
  std::size_t kept = bytes_ + bytes;
  for (const Entry& e : entries_) {
    if (kept <= settings_.window_bytes) return false;
    if (owed(e, now)) return true;
    kept -= e.datagram.size() + kEntryOverhead;
  }
  return false;
}

std::string_view SendWindow::mark_resent(std::uint64_t seq, Clock::time_point now) {
  if (seq < oldest_seq() || seq >= next_) return {};
  Entry& e = entries_[static_cast<std::size_t>(seq - oldest_seq())];
  e.last_sent = now;
  // Sent: owed no more. Lost again, it is NACKed again, and owed again (resendable() will
  // not send it twice within nack_interval): at full speed the window is gone in tens of
  // milliseconds, and holding what was just repaired would slow every sender with loss.
  e.owed = {};
  e.datagram[kFlagsOffset] = static_cast<char>(e.datagram[kFlagsOffset] | kFlagRetransmit);
  return e.datagram;
}

// --- receiver ------------------------------------------------------------------------------

void ReceiveTracker::add_missing(std::uint64_t from, std::uint64_t to, Clock::time_point now) {
  ++gaps_;
  // Only the newest max_missing are worth asking for; older ones are lost already.
  if (to - from > settings_.max_missing) {
    lost_ += to - from - settings_.max_missing;
    from = to - settings_.max_missing;
  }
  for (std::uint64_t s = from; s < to; ++s)
    missing_.emplace(s, Missing{now + settings_.nack_delay, now});
  while (missing_.size() > settings_.max_missing) {
    missing_.erase(missing_.begin());
    ++lost_;
  }
}

ReceiveTracker::Verdict ReceiveTracker::on_data(std::uint64_t seq, Clock::time_point now,
                                                std::uint64_t lost_here) {
  if (!started_) {  // join the stream where we find it: nothing before this is ours to ask
    started_ = true;
    next_ = seq + 1;
    return Verdict::fresh;
  }
  if (!plausible(seq)) {
    if (!takes_up(seq, lost_here)) return Verdict::implausible;
    resync(seq);
  }
  if (seq >= next_) {
    if (seq > next_) add_missing(next_, seq, now);
    next_ = seq + 1;
    return Verdict::fresh;
  }
  if (missing_.erase(seq) == 1) {
    ++repaired_;
    last_repair_ = now;
    return Verdict::repaired;
  }
  return Verdict::duplicate;
}

bool ReceiveTracker::on_announce(const Announce& a, Clock::time_point now,
                                 std::uint64_t lost_here) {
  if (a.oldest_seq > a.next_seq) return false;
  if (!started_) {
    started_ = true;
    next_ = a.next_seq;
    return true;
  }
  if (!plausible(a.next_seq)) {
    if (!takes_up(a.next_seq, lost_here)) return false;
    resync(a.next_seq - settings_.max_seq_jump);
  }
  if (a.next_seq > next_) {
    add_missing(next_, a.next_seq, now);
    next_ = a.next_seq;
  }
  while (!missing_.empty() && missing_.begin()->first < a.oldest_seq) {
    missing_.erase(missing_.begin());
    ++lost_;
  }
  return true;
}

void ReceiveTracker::resync(std::uint64_t next) noexcept {  // see kAnyJump
  lost_ += missing_.size() + (next - next_);
  missing_.clear();
  next_ = next;
  ++resyncs_;
}

// A gap is asked for until it is max_owed old (as long as the sender keeps a datagram it was
// asked for), and past that while the sender repaired anything lately: it is alive and
// answering, only slower than asked (its repair budget, or its backlog and ours). Silence is
// no reason to give up sooner. A sender short of CPU answers late: a sanitized build on a
// loaded 2-core machine once took longer than max_nacks NACKs to answer its first one, and a
// gateway in a container at its CPU limit is stopped for whole scheduler periods. When it
// runs again its window still holds what was asked for, and the NACKs wait in its socket. A
// sender that is gone costs its receivers NACKs to nobody for max_owed.
bool ReceiveTracker::answering(const Missing& m, Clock::time_point now) const noexcept {
  const auto patience = settings_.max_nacks * settings_.nack_interval;
  if (last_repair_ != Clock::time_point{} && now - last_repair_ < patience) return true;
  return now - m.found < settings_.max_owed;
}

bool ReceiveTracker::due(Clock::time_point now, Nack& nack, bool may_give_up) {
  nack.range_count = 0;
  std::size_t asked = 0;
  for (auto it = missing_.begin(); it != missing_.end() && asked < settings_.max_nack_datagrams;) {
    Missing& m = it->second;
    if (m.next_nack > now) {
      ++it;
      continue;
    }
    if (may_give_up && m.nacks >= settings_.max_nacks && !answering(m, now)) {
      ++lost_;
      it = missing_.erase(it);
      continue;
    }
    NackRange* last = nack.range_count > 0 ? &nack.ranges[nack.range_count - 1] : nullptr;
    if (last != nullptr && last->first + last->count == it->first) {
      ++last->count;
    } else if (nack.range_count < kMaxNackRanges) {
      nack.ranges[nack.range_count++] = {it->first, 1};
    } else {
      ++it;  // asked for in the next NACK
      continue;
    }
    ++asked;
    ++m.nacks;
    m.next_nack = now + settings_.nack_interval;
    ++it;
  }
  if (nack.range_count > 0) ++nacks_;
  return nack.range_count > 0;
}

bool ReceiveTracker::give_up_oldest() {
  if (missing_.empty()) return false;
  missing_.erase(missing_.begin());
  ++lost_;
  return true;
}

Clock::time_point ReceiveTracker::next_due() const noexcept {
  Clock::time_point next = Clock::time_point::max();
  for (const auto& [seq, m] : missing_) next = std::min(next, m.next_nack);
  return next;
}

}  // namespace psycho::multicast
