// The receiving thread: datagrams from the group are opened, checked against their sender's
// window, repaired by NACK, held in order when asked to, reassembled and injected; NACKs
// from others are answered within the repair budgets.
#include "adapters/multicast/multicast_adapter_impl.hpp"

namespace psycho::multicast {

void MulticastAdapter::run_receiver() {
  ReceiveBatch batch(kReceiveBatch, kReceiveBufferSize);
  while (!stopping_.load(std::memory_order_relaxed)) {
    // Wait at most 50 ms for the first datagrams, so the timers (NACKs) run on time.
    bool drained = false;  // the socket had nothing more: everything that came is read
    for (std::size_t taken = 0; taken < kReceiveBurst; taken += batch.size()) {
      if (!socket_.receive(batch, taken == 0 ? 50 : 0) || batch.size() == 0) {
        drained = true;
        break;
      }
      auto now = Clock::now();
      const auto ring = keys();
      refresh_wanted();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        // Before each datagram of messages, not each batch: one (GRO-joined) can carry
        // 64 KiB. A wait moves the clock on, and what follows is stamped with the time it
        // is read. NACKs, announcements and reports go on at once.
        if (carries_messages(batch.datagram(i)) && host_->congested(WaitFor::congested)) {
          now = wait_while_congested();
        }
        // Per datagram: one that was queued before the socket dropped any must not see the
        // drops, or it would take them for its sender's (ReceiveTracker::kAnyJump).
        note_socket_drops(batch.socket_drops(i));
        if (batch.truncated(i)) {
          counters_.count(Drop::oversized);
          continue;
        }
        receive(batch.datagram(i), batch.from(i), now, ring);
      }
    }
    const auto now = Clock::now();
    report_backlog(now);
    timers(now, drained);
  }
}

// Flow control, the receiving half (docs/architecture.md, "Flow control"). A group's
// datagrams have no local publisher to pause, so a subscriber here slower than the senders
// would fill its queue to max_pending and be cut as a slow consumer. While a recipient of
// what this gateway injects is congested, or what it injects piles up, the thread waits
// before its next datagram. What the group sends meanwhile waits in the socket buffer,
// which this thread reports as it fills, every few milliseconds (report_backlog): the
// senders' pacers slow down, their queues fill and pause their publishers. The wait gives
// way when the buffer is nearly full (it would overflow, and repairs cost every subscriber
// here far more than the congested one's remaining room), after kMaxReceivePause, and for
// a subscriber that has stopped reading (kStuckAfter, session side): that one still ends
// as a slow consumer. NACKs go out meanwhile.
Clock::time_point MulticastAdapter::wait_while_congested() {
  auto now = Clock::now();
  const auto until = now + kMaxReceivePause;
  bool waited = false;
  while (true) {
    report_backlog(now, true);
    if (now >= until || socket_nearly_full() || stopping_.load(std::memory_order_relaxed) ||
        !host_->congested(WaitFor::congested)) {
      break;
    }
    if (!std::exchange(waited, true)) counters_.add(counters_.read_pauses, 1);
    std::this_thread::sleep_for(kReceivePauseStep);
    now = Clock::now();
    timers(now, false);
  }
  if (waited) last_read_pause_ = now;
  return now;
}

// Past three quarters of the socket buffer the wait gives way: what overflows it is lost to
// every subscriber here until repaired, at the repair budgets' pace, while the congested
// subscriber still has room up to max_pending, and the senders, told since half, slow down.
bool MulticastAdapter::socket_nearly_full() const {
  const auto queue = socket_.receive_queue();
  return queue && nearly_full(Backlog{queue->queued, queue->capacity});
}

// While this thread waits for a subscriber, what peers send (announcements, the rest of a
// message's fragments) waits unread in the socket buffer: their silence is ours, and proves
// nothing until the thread has read all that came (`drained`), which bounds the excuse.
bool MulticastAdapter::paused_lately(Clock::time_point now, std::chrono::milliseconds within,
                                     bool drained) const {
  return !drained && now - last_read_pause_ < within;
}

// A socket buffer that fills is said so to the group before it overflows: each sender's
// pacer slows down (pacer.hpp), where NACKs would come only after the loss. Only while it
// still fills (or is full): one that drains has had the cuts it needs, and more would take
// the senders far below what this receiver can take.
void MulticastAdapter::report_backlog(Clock::time_point now, bool holding) {
  if (now < next_backlog_sample_) return;
  // Holding back, the buffer fills at the senders' full rate: they hear of it every few
  // milliseconds, and a nearly full one cuts their pace hard (pacer.hpp).
  next_backlog_sample_ = now + (holding ? kHoldingSampleInterval : kBacklogSampleInterval);
  const auto queue = socket_.receive_queue();
  if (!queue) return;
  // The kernel takes a datagram while below the limit and counts it after, so a full
  // buffer can hold a little more than its capacity.
  const std::uint32_t queued = std::min(queue->queued, queue->capacity);
  const std::uint32_t before = std::exchange(last_backlog_sample_, queued);
  if (std::size_t{queued} * kBacklogShare < queue->capacity) return;
  if (queued <= before && queued < queue->capacity && !holding) return;
  std::string datagram;
  encode_backlog(datagram, node_, {queued, queue->capacity});
  counters_.add(counters_.backlogs_out, 1);
  send_datagram(datagram, receive_sealer_, false);
}

void MulticastAdapter::receive(std::string_view bytes, const sockaddr_storage& from,
                               Clock::time_point now, const std::shared_ptr<const KeyRing>& keys) {
  counters_.add(counters_.datagrams_in, 1);
  counters_.add(counters_.datagram_bytes_in, bytes.size());
  if (sender_of(bytes) == node_) return;  // our own, looped back: nothing to check
  // Authenticated before anything it says is believed (docs/multicast.md#keys).
  std::string_view plain;
  if (const AuthError a = opener_.open(keys, bytes, plain); a != AuthError::none) {
    counters_.count(drop_for(a));
    return;
  }
  thread_local Datagram d;
  if (const DecodeError e = decode(plain, config_.max_message, d, keys != nullptr);
      e != DecodeError::none) {
    counters_.count(drop_for(e));
    return;
  }
  if (d.sender == node_) return;  // our own, looped back
  if ((d.type == Type::data || d.type == Type::packed) && config_.test_drop_rate > 0 &&
      std::uniform_real_distribution<double>(0, 1)(drop_rng_) < config_.test_drop_rate) {
    counters_.count(Drop::test_drop);
    return;
  }
  MutexLock lock(receive_mutex_);
  Peer* peer = admit(d, from, now);
  if (peer == nullptr) return;
  // A jump beyond max_seq_jump by no more than what this socket dropped since the sender's
  // last plausible datagram is the sender's own stream (the kernel counts a coalesced run of
  // datagrams, UDP GSO there and GRO here, as one drop). So is any jump where only key
  // holders can send, and any once nothing but jumps has come from the sender for two
  // announcement intervals: a forger cannot keep the sender's own datagrams and
  // announcements from us that long, so we are the ones behind (lost where the socket does
  // not see it: the kernel's backlog, the network). Anything else is refused.
  const bool out_of_step = peer->jumping_since != Clock::time_point{} &&
                           now - peer->jumping_since >= 2 * config_.announce_interval;
  const std::uint64_t lost_here = keys != nullptr || out_of_step
                                      ? ReceiveTracker::kAnyJump
                                      : (socket_overflows() - peer->overflows_seen) * kMaxRun;
  switch (d.type) {
    case Type::data:
    case Type::packed:
      on_data(d, plain, *peer, now, lost_here);
      break;
    case Type::nack:
      // A NACK is no sign that the peer's own stream makes sense to us: a peer whose data we
      // refuse as an implausible jump must age out and be joined afresh, not be kept alive
      // by the NACKs it sends after the same outage.
      if (d.nack.target == node_) on_nack(d.nack, peer->source, now);
      break;
    case Type::announce:
      on_announce(d.announce, *peer, now, lost_here);
      release(d.sender, *peer, now);  // what the sender no longer holds is given up
      break;
    case Type::backlog:
      // The sending thread's pacer reads the counts (no sign of life either).
      counters_.add(counters_.backlogs_in, 1);
      if (nearly_full(d.backlog)) counters_.add(counters_.backlogs_full_in, 1);
      break;
    case Type::interest:
      // No sign of life either (it comes with every announcement, which is the sign), so a
      // peer refused for an implausible jump still ages out.
      group_interest_.update(d.sender, d.interest);
      break;
  }
}

void MulticastAdapter::note_socket_drops(std::uint32_t dropped) {
  const std::uint32_t fresh = dropped - socket_drops_seen_;  // the kernel's count wraps
  if (fresh == 0) return;
  socket_drops_seen_ = dropped;
  socket_drops_ += fresh;
  // Less our own datagrams the filter dropped, which the kernel counts too. The send count
  // may run a little ahead of the kernel's (never behind): what is left only ever grows.
  const std::uint64_t own = socket_.own_dropped();
  const std::uint64_t overflows = socket_drops_ > own ? socket_drops_ - own : 0;
  const std::uint64_t counted = socket_overflows();
  if (overflows > counted) counters_.add(counters_.socket_overflows, overflows - counted);
}

// The sender's entry, or nullptr when the datagram is refused (and counted).
Peer* MulticastAdapter::admit(const Datagram& d, const sockaddr_storage& from,
                              Clock::time_point now) {
  const PeerTable::Admission a = peers_.admit(d.sender, from, now);
  if (a.displaced) forget(*a.displaced, "displaced");
  if (a.added) group_interest_.joined(d.sender);
  switch (a.refused) {
    case PeerTable::Refusal::none:
      break;
    case PeerTable::Refusal::spoofed:
      counters_.count(Drop::spoofed_sender);
      break;
    case PeerTable::Refusal::full:
      counters_.count(Drop::too_many_peers);
      break;
  }
  return a.peer;
}

void MulticastAdapter::forget(std::uint64_t node, const char* why) {
  reassembly_.forget(node);
  held_.forget(node);
  group_interest_.left(node);
  // Displacements can come as fast as forged ids do: counted, and logged only at debug.
  const auto level = std::string_view(why) == "silent" ? log::Level::info : log::Level::debug;
  if (log::enabled(level)) {
    log::write(level, "multicast: peer gone", {{"node_id", hex_id(node)}, {"reason", why}});
  }
}

void MulticastAdapter::refused_jump(Peer& peer, Clock::time_point now) {
  counters_.count(Drop::seq_jump);
  if (peer.jumping_since == Clock::time_point{}) peer.jumping_since = now;
}

void MulticastAdapter::in_step(Peer& peer, Clock::time_point now) {
  peer.jumping_since = {};
  peer.overflows_seen = socket_overflows();
  PeerTable::heard(peer, now);
}

void MulticastAdapter::on_announce(const Announce& a, Peer& peer, Clock::time_point now,
                                   std::uint64_t lost_here) {
  if (!peer.tracker.on_announce(a, now, lost_here)) {
    refused_jump(peer, now);
    return;
  }
  in_step(peer, now);
}

void MulticastAdapter::on_data(const Datagram& d, std::string_view plain, Peer& peer,
                               Clock::time_point now, std::uint64_t lost_here) {
  const auto verdict = peer.tracker.on_data(d.data.seq, now, lost_here);
  if (verdict == ReceiveTracker::Verdict::implausible) {
    refused_jump(peer, now);
    return;
  }
  in_step(peer, now);
  ++peer.datagrams;
  peer.bytes += d.chunk.size();
  if (verdict == ReceiveTracker::Verdict::duplicate) {
    ++peer.duplicates;
    return;
  }
  // Behind an older one still missing, or behind what waits already: held, in order.
  if (config_.repair.ordered &&
      (d.data.seq > peer.tracker.complete_before() || held_.holds(d.sender))) {
    held_.hold(d.sender, d.data.seq, plain);
    bound_held(now);
  } else {
    use(d, now);
  }
  release(d.sender, peer, now);
}

// What a datagram carries goes on: whole messages, or a fragment into reassembly.
void MulticastAdapter::use(const Datagram& d, Clock::time_point now) {
  if (d.type == Type::packed) {
    for_each_record(d.chunk,
                    [&](const DataHeader& h, std::string_view bytes) { deliver(h, bytes); });
    return;
  }
  if (d.data.count == 1) {
    deliver(d.data, d.chunk);
    return;
  }
  counters_.add(counters_.fragments_in, 1);
  // A message nobody here wants (or that is not imported, counted as such) is let go at its
  // first fragment rather than put together to be dropped.
  if (d.data.index == 0 && d.data.subject_size <= d.chunk.size()) {
    const std::string_view subject = d.chunk.substr(0, d.data.subject_size);
    if (unwanted(subject) || !import_.local_name(config_.subjects, subject)) {
      reassembly_.skip(d.sender, d.data, now);
      return;
    }
  }
  if (auto done = reassembly_.add(d.sender, d.data, d.chunk, now))
    deliver(done->header, done->bytes);
}

void MulticastAdapter::refresh_wanted() {
  MutexLock lock(interest_mutex_);
  wanted_now_ = wanted_here_;
}

// Every member of a group receives whatever any member wants. What matches nothing this
// gateway announced is dropped here, counted, before it costs an import (a copy into a
// gateway message, the router's duplicate check and route): that is most of what a
// gateway does with a message.
bool MulticastAdapter::unwanted(std::string_view fabric_subject) {
  if (wanted_now_ == nullptr || wanted_now_->wants(fabric_subject)) return false;
  counters_.add(counters_.unwanted_in, 1);
  return true;
}

// The datagrams `node` held back that nothing missing stands before any more, in order.
void MulticastAdapter::release(std::uint64_t node, Peer& peer, Clock::time_point now) {
  if (!config_.repair.ordered) return;
  thread_local std::string plain;
  thread_local Datagram d;  // not receive()'s: that one is still in use
  while (held_.take(node, peer.tracker.complete_before(), plain)) {
    if (decode(plain, config_.max_message, d, !config_.keys.empty()) == DecodeError::none)
      use(d, now);
  }
}

// Beyond repair.hold_bytes, the oldest gap of the sender holding the most is given up on
// (lost, and counted) and what it held back goes on.
void MulticastAdapter::bound_held(Clock::time_point now) {
  while (held_.over()) {
    const std::uint64_t node = held_.largest();
    const auto it = peers_.peers().find(node);
    if (it == peers_.peers().end()) {
      held_.forget(node);
      continue;
    }
    if (!it->second.tracker.give_up_oldest()) {
      held_.forget(node);  // nothing missing, so nothing held: cannot be, but never loop
      continue;
    }
    counters_.add(counters_.hold_overflows, 1);
    release(node, it->second, now);
  }
}

void MulticastAdapter::deliver(const DataHeader& h, std::string_view bytes) {
  if (unwanted(bytes.substr(0, h.subject_size))) return;
  const std::size_t headers_at = h.subject_size + h.reply_size;
  import_(*host_, origin_id(), config_.subjects,
          {bytes.substr(0, h.subject_size), bytes.substr(h.subject_size, h.reply_size),
           bytes.substr(headers_at, h.headers_size), bytes.substr(headers_at + h.headers_size)},
          h.trace);
}

void MulticastAdapter::on_nack(const Nack& nack, const Source& requester, Clock::time_point now) {
  counters_.add(counters_.nacks_in, 1);
  bool gone = false;
  std::uint64_t news = 0;
  std::vector<std::string> again = resend(nack, requester, now, gone, news);
  // What the pacer hears: sequences NACKed that were not sent again before. Re-asking for
  // what is being repaired is no new congestion, and one NACK counts for at most
  // max_nack_datagrams, so a forged one cannot slow the sender down alone.
  counters_.add(counters_.nacked, news);
  if (!again.empty()) counters_.add(counters_.nacks_answered, 1);
  for (auto& datagram : again) send_datagram(datagram, receive_sealer_, true);
  // Tell the asker at once what can no longer be had, so it stops asking (at most once per
  // nack_interval however many ask).
  if (gone && now >= next_forced_announce_) {
    next_forced_announce_ = now + config_.repair.nack_interval;
    announce(receive_sealer_);
  }
}

// What a NACK gets sent again: what the window holds of what it asks for, at most
// max_nack_datagrams of it, within the requester's and the gateway's repair budgets
// (docs/multicast.md#trust). `gone`: it asked for something the window no longer holds.
std::vector<std::string> MulticastAdapter::resend(const Nack& nack, const Source& requester,
                                                  Clock::time_point now, bool& gone,
                                                  std::uint64_t& news) {
  std::vector<std::string> again;
  std::size_t asked = 0;
  MutexLock lock(window_mutex_);
  const std::uint64_t oldest = window_.oldest_seq(), next = window_.next_seq();
  for (std::size_t r = 0; r < nack.range_count; ++r) {
    const NackRange& range = nack.ranges[r];
    gone = gone || range.first < oldest;
    // The part the window holds, whatever the range claims (its end saturates: no wrap).
    const std::uint64_t claimed_end =
        range.first > UINT64_MAX - range.count ? UINT64_MAX : range.first + range.count;
    // What it asks for that is gone: counted, at most max_nack_datagrams per range, so a
    // forged range cannot make the figure say anything.
    if (range.first < oldest) {
      const std::uint64_t older = std::min(claimed_end, oldest) - range.first;
      counters_.refuse(RepairRefusal::gone,
                       std::min<std::uint64_t>(older, config_.repair.max_nack_datagrams));
    }
    const std::uint64_t first = std::max(range.first, oldest);
    const std::uint64_t end = std::min(claimed_end, next);
    for (std::uint64_t s = first; s < end; ++s, ++asked) {
      if (asked == config_.repair.max_nack_datagrams) {
        counters_.refuse(RepairRefusal::nack_limit, end - s);
        break;
      }
      const std::string_view datagram = window_.resendable(s, now);
      // Asked for: kept in the window until it goes out (SendWindow::owe), whether that is
      // now, or later because it went out a moment ago or a budget is short.
      window_.owe(s, now);
      if (datagram.empty()) continue;
      if (!window_.resent(s)) ++news;
      switch (repair_budget_.take(requester, datagram.size(), now)) {
        case RepairBudget::Verdict::allowed:
          again.emplace_back(window_.mark_resent(s, now));
          break;
        case RepairBudget::Verdict::requester_rate:
          counters_.refuse(RepairRefusal::requester_rate, 1);
          break;
        case RepairBudget::Verdict::total_rate:
          counters_.refuse(RepairRefusal::total_rate, 1);
          break;
      }
    }
  }
  return again;
}

// NACKs that are due go out. Gaps are given up on only once everything that came is read:
// a receiver that was behind (descheduled, or slower than the group for a moment) may find
// the repairs, or news of them, still waiting in its socket.
void MulticastAdapter::timers(Clock::time_point now, bool drained) {
  MutexLock lock(receive_mutex_);
  if (now < next_timers_) return;
  next_timers_ = now + 1ms;
  std::string datagram;
  Nack nack;
  for (auto& [node, peer] : peers_.peers()) {
    nack.target = node;
    while (peer.tracker.due(now, nack, drained)) {
      datagram.clear();
      encode_nack(datagram, node_, nack);
      counters_.add(counters_.nacks_out, 1);
      send_datagram(datagram, receive_sealer_, false);
    }
    release(node, peer, now);  // what was given up on no longer holds the rest back
  }
  if (!paused_lately(now, config_.reassembly_timeout, drained)) reassembly_.expire(now);
  if (paused_lately(now, config_.peer_timeout, drained)) return;
  for (const std::uint64_t gone : peers_.expire(now)) forget(gone, "silent");
}

}  // namespace psycho::multicast
