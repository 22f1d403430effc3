// The sending thread: what the router sends waits in one bounded queue; it is packed or
// cut into datagrams, paced by what receivers NACK, sealed on a keyed group, and kept for
// repairs. It also announces this gateway's presence and interest.
#include "adapters/multicast/multicast_adapter_impl.hpp"

namespace psycho::multicast {

void MulticastAdapter::on_interest(std::string_view pattern, bool added) {
  {
    MutexLock lock(interest_mutex_);
    local_interest_.change(pattern, added);
    if (added) {
      ++local_additions_;
      wanted_here_ = nullptr;
    }
  }
  interest_changed_.store(true);
  queue_.poke();
}

void MulticastAdapter::run_sender() {
  std::vector<MessagePtr> batch;
  auto next_announce = Clock::now();
  while (queue_.take_all(batch, config_.announce_interval)) {
    if (!batch.empty()) {
      const auto wanted = group_interest_.wanted();
      for (const auto& m : batch) send_message(*m, *wanted);
      flush_datagrams();  // a burst waits for nothing but its own end
      batch.clear();
    }
    const auto now = Clock::now();
    const bool changed = interest_changed_.exchange(false) && refresh_own_interest();
    if (changed || now >= next_announce) {
      if (!changed) refresh_own_interest();  // other adapters' lists change on a reload
      announce(send_sealer_);
      next_announce = now + config_.announce_interval;
    }
  }
}

// A message that fits a datagram whole is packed with its neighbours; a larger one is cut
// into fragments of its own.
void MulticastAdapter::send_message(const Message& m, const WhatTheGroupWants& wanted) {
  thread_local std::string subject;
  config_.subjects.to_fabric(m.subject(), subject);
  if (!wanted.wants(subject)) {
    counters_.count(Drop::no_subscriber);
    return;
  }
  const std::uint64_t size = subject.size() + m.reply().size() + m.body().size();
  if (subject.size() > UINT16_MAX || m.reply().size() > UINT16_MAX || size > config_.max_message) {
    counters_.count(Drop::too_large);
    return;
  }
  const MessageParts parts{subject, m.reply(), m.headers(), m.payload()};
  const std::size_t record = packed_size(parts);
  if (kPackedHeaderSize + record <= body_limit_) {
    if (!packing_ || outgoing_[pending_ - 1].size() + record > body_limit_) {
      start_packed(next_datagram(), node_);
      packing_ = true;
    }
    append_record(outgoing_[pending_ - 1], parts, m.trace());
  } else {
    const std::uint32_t count = fragment(parts, m.trace(), node_, send_seq_, body_limit_,
                                         [this]() -> std::string& { return next_datagram(); });
    counters_.add(counters_.fragments_out, count);
  }
  counters_.sent(m.body().size());
}

// A fresh datagram buffer at the end of outgoing_, sending what is there when it is full.
// It takes the next sequence: packed datagrams have theirs set here, fragments carry it.
std::string& MulticastAdapter::next_datagram() {
  close_packed();
  if (pending_ == outgoing_.size()) flush_datagrams();
  std::string& d = outgoing_[pending_++];
  d.clear();
  ++send_seq_;
  return d;
}

// Keeps the pending datagrams for repair, under one lock, and sends them in one go. The
// window keeps them unkeyed: a repair is sealed again, with a counter of its own.
void MulticastAdapter::flush_datagrams() {
  close_packed();
  if (pending_ == 0) return;
  const std::uint64_t first = send_seq_ - pending_;
  std::size_t bytes = body_limit_ == config_.max_datagram ? 0 : pending_ * kTrailerSize;
  for (std::size_t i = 0; i < pending_; ++i) bytes += outgoing_[i].size();
  wait_for_owed_repairs(bytes);
  {
    // Refused ones too: a receiver NACKs the gap, and the repair sends them.
    MutexLock lock(window_mutex_);
    for (std::size_t i = 0; i < pending_; ++i) window_.keep(first + i, outgoing_[i]);
  }
  // Receivers that cannot keep up say so, by backlog reports and NACKs: the pace follows
  // (pacer.hpp).
  const auto wait = pacer_.before_send(bytes, pending_, feedback(), Clock::now());
  if (wait > Clock::duration::zero()) std::this_thread::sleep_for(wait);
  counters_.pace_rate.store(static_cast<std::uint64_t>(pacer_.rate()), std::memory_order_relaxed);
  counters_.backlog_cuts.store(pacer_.backlog_cuts(), std::memory_order_relaxed);
  counters_.loss_cuts.store(pacer_.loss_cuts(), std::memory_order_relaxed);
  const std::size_t sent = seal_and_send(outgoing_.data(), pending_, send_sealer_);
  if (sent < pending_) counters_.count(Drop::send_error, pending_ - sent);
  counters_.add(counters_.datagrams_out, sent);
  counters_.add(counters_.datagram_bytes_out, bytes);
  pending_ = 0;
}

Pacer::Feedback MulticastAdapter::feedback() const noexcept {
  return {Counters::get(counters_.nacked), Counters::get(counters_.backlogs_in),
          Counters::get(counters_.backlogs_full_in)};
}

// Repairs go before new data: while keeping `bytes` more would push out of the window a
// datagram a receiver asked for and the repair budgets have not let through yet, the
// sending thread waits (and its queue, full, pauses the publishers). Bounded: an owed
// datagram is resent as the budgets refill, or stops being owed when nobody asks for it
// for repair.owed_for.
void MulticastAdapter::wait_for_owed_repairs(std::size_t bytes) {
  for (bool waited = false;; waited = true) {
    {
      MutexLock lock(window_mutex_);
      if (!window_.would_drop_owed(bytes, Clock::now())) {
        if (waited) pacer_.restart(feedback(), Clock::now());
        return;
      }
    }
    const auto before = Clock::now();
    std::this_thread::sleep_for(1ms);
    counters_.add(
        counters_.owed_wait_us,
        static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - before).count()));
  }
}

// Sends `count` datagrams, at most kSendBatch. A keyed group's are sealed first, under one
// lock held across the one non-blocking sendmmsg: the two threads that send take counters
// in the order their datagrams reach the wire, so a receiver's replay window never sees one
// thread's batch fall behind the other's (a thread preempted between sealing and sending
// would otherwise get its batch refused as replays). Unkeyed, there is nothing to order.
std::size_t MulticastAdapter::seal_and_send(std::string* datagrams, std::size_t count,
                                            Sealer& sealer) {
  std::array<std::string_view, kSendBatch> views;
  const auto ring = keys();
  if (!ring) {
    for (std::size_t i = 0; i < count; ++i) views[i] = datagrams[i];
    return socket_.send(views.data(), count);
  }
  MutexLock lock(send_mutex_);
  for (std::size_t i = 0; i < count; ++i) {
    sealer.seal(ring, datagram_counter_, datagrams[i]);
    views[i] = datagrams[i];
  }
  return socket_.send(views.data(), count);
}

// The open packed datagram, if any, takes no more records: its sequence goes in.
void MulticastAdapter::close_packed() {
  if (!packing_) return;
  finish_packed(outgoing_[pending_ - 1], send_seq_ - 1);
  packing_ = false;
}

void MulticastAdapter::send_datagram(std::string& datagram, Sealer& sealer, bool retransmission) {
  if (seal_and_send(&datagram, 1, sealer) == 0) {
    counters_.count(Drop::send_error);
    return;
  }
  counters_.add(counters_.datagrams_out, 1);
  counters_.add(counters_.datagram_bytes_out, datagram.size());
  if (retransmission) counters_.add(counters_.retransmissions, 1);
}

// Presence: the sequence window, then what this gateway wants.
void MulticastAdapter::announce(Sealer& sealer) {
  std::string datagram;
  {
    MutexLock lock(window_mutex_);
    encode_announce(datagram, node_, {window_.next_seq(), window_.oldest_seq()});
  }
  send_datagram(datagram, sealer, false);
  datagram.clear();
  {
    MutexLock lock(interest_mutex_);
    encode_interest(datagram, node_, own_interest_generation_, own_interest_.everything,
                    own_interest_.patterns);
  }
  send_datagram(datagram, sealer, false);
}

std::shared_ptr<const KeyRing> MulticastAdapter::keys() const {
  MutexLock lock(keys_mutex_);
  return keys_;
}

// What this gateway wants from the group: its clients' and adapters' subscriptions (through
// the router) and whatever its other adapters carry on unasked, in fabric names, fitted into
// one datagram. Returns whether that changed (and so took a new generation).
bool MulticastAdapter::refresh_own_interest() {
  std::vector<std::string> patterns;
  bool everything = !config_.interest;
  std::uint64_t additions = 0;  // local subscriptions added, as of the patterns read
  {
    MutexLock lock(interest_mutex_);
    additions = local_additions_;
    if (!everything) patterns = local_interest_.patterns();
  }
  if (!everything) {
    for (const auto& local : host_->onward_patterns(*this)) {
      auto fabric = config_.subjects.fabric_patterns_for(local);
      patterns.insert(patterns.end(), fabric.begin(), fabric.end());
    }
  }
  OwnInterest next = everything
                         ? OwnInterest{true, {}}
                         : fit_interest(std::move(patterns), body_limit_ - kInterestHeaderSize);
  MutexLock lock(interest_mutex_);
  const bool changed = !(next == own_interest_ && own_interest_generation_ > 0);
  if (changed) {
    own_interest_ = std::move(next);
    ++own_interest_generation_;
  }
  // A subscription added since the patterns were read is not in them: the receiving thread
  // keeps wanting everything until the next refresh (interest_changed_ calls for one).
  if ((changed || wanted_here_ == nullptr) && additions == local_additions_)
    wanted_here_ = what_is_wanted(own_interest_);
  return changed;
}

}  // namespace psycho::multicast
