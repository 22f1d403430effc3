#include "adapters/multicast/multicast_adapter.hpp"

#include <array>
#include <atomic>
#include <random>
#include <thread>

#include "adapters/import.hpp"
#include "adapters/interest_table.hpp"
#include "adapters/multicast/datagram_auth.hpp"
#include "adapters/multicast/group_interest.hpp"
#include "adapters/multicast/hold_back.hpp"
#include "adapters/multicast/multicast_config.hpp"
#include "adapters/multicast/pacer.hpp"
#include "adapters/multicast/reassembly.hpp"
#include "adapters/multicast/repair_budget.hpp"
#include "adapters/multicast/report.hpp"
#include "adapters/multicast/socket.hpp"
#include "adapters/outbound_queue.hpp"
#include "core/log.hpp"
#include "core/mutex.hpp"

namespace psycho::multicast {

namespace {

using namespace std::chrono_literals;

// Datagrams taken from the socket before the timers are looked at, and per recvmmsg.
constexpr std::size_t kReceiveBurst = 256;
constexpr std::size_t kReceiveBatch = 32;
// Big enough for any UDP datagram, so none is ever cut.
constexpr std::size_t kReceiveBufferSize = 65536;
// Datagrams built before they go out in one sendmmsg.
constexpr std::size_t kSendBatch = 64;

class MulticastAdapter final : public Adapter {
 public:
  explicit MulticastAdapter(MulticastConfig config)
      : config_(std::move(config)),
        queue_(config_.queue),
        window_(config_.repair),
        reassembly_(config_.reassembly_memory, config_.reassembly_timeout),
        held_(config_.repair.hold_bytes),
        // A peer that missed two announcements may make room for a newcomer.
        peers_(config_.max_peers, config_.peer_timeout, 2 * config_.announce_interval,
               config_.repair),
        repair_budget_(config_.repair, config_.max_peers, Clock::now()),
        group_interest_(config_.interest),
        local_interest_(std::make_shared<const SubjectFilter>(config_.subjects)),
        body_limit_(config_.max_datagram - (config_.keys.empty() ? 0 : kTrailerSize)),
        running_keys_(config_.keys),
        opener_(4 * config_.max_peers) {
    if (!config_.keys.empty())
      keys_ = std::make_shared<const KeyRing>(config_.keys, config_.encrypt);
  }

  ~MulticastAdapter() override { stop(0ms); }

  std::string_view name() const override { return "multicast"; }
  Status start(AdapterHost& host) override;
  void stop(std::chrono::milliseconds drain) override;
  bool exports(std::string_view subject) const override {
    return config_.subjects.exports(subject);
  }
  FlowState flow() const noexcept override { return queue_.flow(); }
  void send(const MessagePtr& message) override {
    if (!queue_.push(message)) counters_.count(Drop::queue_full);
  }
  // What this gateway wants changed: the sending thread announces it at once.
  void on_interest(std::string_view pattern, bool added) override;
  AdapterStatus status() const override;
  // Only the group keys change while running (docs/multicast.md#keys).
  Status reconfigure(const config::AdapterSection& section, bool apply) override;
  bool rereads_files_on_reload() const override { return !config_.keys.empty(); }

 private:
  // Sending thread.
  void run_sender();
  void send_message(const Message& m, const WhatTheGroupWants& wanted);
  std::string& next_datagram();
  void close_packed();
  void flush_datagrams();
  void wait_for_owed_repairs(std::size_t bytes);
  void send_datagram(std::string& datagram, Sealer& sealer, bool retransmission);
  std::size_t seal_and_send(std::string* datagrams, std::size_t count, Sealer& sealer);
  void announce(Sealer& sealer);
  std::shared_ptr<const KeyRing> keys() const;
  bool refresh_own_interest();
  // Receiving thread.
  void run_receiver();
  void receive(std::string_view bytes, const sockaddr_storage& from, Clock::time_point now,
               const std::shared_ptr<const KeyRing>& keys);
  Peer* admit(const Datagram& d, const sockaddr_storage& from, Clock::time_point now)
      REQUIRES(receive_mutex_);
  void forget(std::uint64_t node, const char* why) REQUIRES(receive_mutex_);
  void on_data(const Datagram& d, std::string_view plain, Peer& peer, Clock::time_point now)
      REQUIRES(receive_mutex_);
  void use(const Datagram& d, Clock::time_point now) REQUIRES(receive_mutex_);
  void release(std::uint64_t node, Peer& peer, Clock::time_point now) REQUIRES(receive_mutex_);
  void bound_held(Clock::time_point now) REQUIRES(receive_mutex_);
  void on_announce(const Announce& a, Peer& peer, Clock::time_point now);
  void deliver(const DataHeader& h, std::string_view bytes);
  void on_nack(const Nack& nack, const Source& requester, Clock::time_point now);
  std::vector<std::string> resend(const Nack& nack, const Source& requester, Clock::time_point now,
                                  bool& gone, std::uint64_t& news);
  void timers(Clock::time_point now);

  const MulticastConfig config_;
  AdapterHost* host_ = nullptr;
  std::uint64_t node_ = 0;
  Socket socket_;
  OutboundQueue queue_;
  std::thread sender_, receiver_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};  // for status(), from any thread
  bool stopped_ = false;

  // The sending thread's datagrams not yet sent: outgoing_[0, pending_), the last one a
  // packed datagram still open for records when `packing_`. Buffers are reused.
  std::array<std::string, kSendBatch> outgoing_;
  std::size_t pending_ = 0;
  bool packing_ = false;
  std::uint64_t send_seq_ = 1;  // the next data sequence; only the sending thread makes data
  Pacer pacer_;

  mutable Mutex window_mutex_;  // the sender keeps, the receiver retransmits
  SendWindow window_ GUARDED_BY(window_mutex_);
  Clock::time_point next_forced_announce_{};

  mutable Mutex receive_mutex_;  // receiving thread vs status()
  Reassembler reassembly_ GUARDED_BY(receive_mutex_);
  HoldBack held_ GUARDED_BY(receive_mutex_);
  PeerTable peers_ GUARDED_BY(receive_mutex_);
  RepairBudget repair_budget_;
  Clock::time_point next_timers_{};
  std::minstd_rand drop_rng_{1};

  // Interest (docs/multicast.md#interest): what the others want, from their interest
  // datagrams; what this gateway wants (fabric names), from the router's interest changes;
  // and what the sending thread last announced of it.
  GroupInterest group_interest_;
  mutable Mutex interest_mutex_;
  InterestTable local_interest_ GUARDED_BY(interest_mutex_);
  std::atomic<bool> interest_changed_{false};
  OwnInterest own_interest_ GUARDED_BY(interest_mutex_);  // written by the sending thread
  std::uint64_t own_interest_generation_ GUARDED_BY(interest_mutex_) = 0;

  // Group keys (docs/multicast.md#keys): null when the group is not keyed; a reload swaps
  // them. What is encoded fits `body_limit_`, so that keyed datagrams, trailer included,
  // stay within max_datagram (and full fragments are still exactly max_datagram).
  const std::size_t body_limit_;
  std::vector<GroupKey> running_keys_;  // main thread (reconfigure)
  mutable Mutex keys_mutex_;
  std::shared_ptr<const KeyRing> keys_ GUARDED_BY(keys_mutex_);
  std::atomic<std::uint64_t> datagram_counter_{first_counter()};  // every datagram sent
  Mutex send_mutex_;       // counters are taken in the order datagrams are sent
  Sealer send_sealer_;     // the sending thread's
  Sealer receive_sealer_;  // the receiving thread's (NACKs, repairs, announcements it forces)
  Opener opener_;          // the receiving thread's

  Counters counters_;
  const Importer<Drop> import_{counters_,
                               {.malformed = Drop::malformed, .not_imported = Drop::not_imported}};
};

// --- life cycle ---------------------------------------------------------------------------

Status MulticastAdapter::start(AdapterHost& host) {
  host_ = &host;
  node_ = host.node_id();
  drop_rng_.seed(static_cast<std::minstd_rand::result_type>(node_));
  auto socket = Socket::open(config_);
  if (!socket) return fail(socket.error());
  socket_ = std::move(socket.value());
  {
    MutexLock lock(interest_mutex_);
    local_interest_.start();  // the import list: wanted at all times
  }
  log::info("multicast: joined", {{"group", config_.group}, {"port", config_.port}});
  if (config_.test_drop_rate > 0) {
    log::warn("multicast: test_drop_rate is set: received datagrams are dropped on purpose",
              {{"rate", config_.test_drop_rate}});
  }
  sender_ = std::thread([this] { run_sender(); });
  receiver_ = std::thread([this] { run_receiver(); });
  running_.store(true);
  return Ok{};
}

void MulticastAdapter::stop(std::chrono::milliseconds) {
  if (stopped_) return;
  stopped_ = true;
  if (host_ == nullptr) return;  // never started
  running_.store(false);
  queue_.close();  // the sender sends what is queued, then returns
  if (sender_.joinable()) sender_.join();
  stopping_.store(true);
  if (receiver_.joinable()) receiver_.join();
}

// --- sending ------------------------------------------------------------------------------

void MulticastAdapter::on_interest(std::string_view pattern, bool added) {
  {
    MutexLock lock(interest_mutex_);
    local_interest_.change(pattern, added);
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
    thread_local std::string fragment_buffer;
    const std::uint32_t count =
        fragment(parts, m.trace(), node_, send_seq_, body_limit_, fragment_buffer,
                 [&](std::string_view datagram) { next_datagram().assign(datagram); });
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
  // Receivers that cannot keep up say so by NACKing: the pace follows (pacer.hpp).
  const auto wait =
      pacer_.before_send(bytes, pending_, Counters::get(counters_.nacked), Clock::now());
  if (wait > Clock::duration::zero()) std::this_thread::sleep_for(wait);
  counters_.pace_rate.store(static_cast<std::uint64_t>(pacer_.rate()), std::memory_order_relaxed);
  const std::size_t sent = seal_and_send(outgoing_.data(), pending_, send_sealer_);
  if (sent < pending_) counters_.count(Drop::send_error, pending_ - sent);
  counters_.add(counters_.datagrams_out, sent);
  counters_.add(counters_.datagram_bytes_out, bytes);
  pending_ = 0;
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
        if (waited) pacer_.restart(Counters::get(counters_.nacked), Clock::now());
        return;
      }
    }
    counters_.add(counters_.owed_waits, 1);
    std::this_thread::sleep_for(1ms);
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
  if (!everything) {
    {
      MutexLock lock(interest_mutex_);
      patterns = local_interest_.patterns();
    }
    for (const auto& local : host_->onward_patterns(*this)) {
      auto fabric = config_.subjects.fabric_patterns_for(local);
      patterns.insert(patterns.end(), fabric.begin(), fabric.end());
    }
  }
  OwnInterest next = everything
                         ? OwnInterest{true, {}}
                         : fit_interest(std::move(patterns), body_limit_ - kInterestHeaderSize);
  MutexLock lock(interest_mutex_);
  if (next == own_interest_ && own_interest_generation_ > 0) return false;
  own_interest_ = std::move(next);
  ++own_interest_generation_;
  return true;
}

// --- receiving ----------------------------------------------------------------------------

void MulticastAdapter::run_receiver() {
  ReceiveBatch batch(kReceiveBatch, kReceiveBufferSize);
  while (!stopping_.load(std::memory_order_relaxed)) {
    // Wait at most 50 ms for the first datagrams, so the timers (NACKs) run on time.
    for (std::size_t taken = 0; taken < kReceiveBurst; taken += batch.size()) {
      if (!socket_.receive(batch, taken == 0 ? 50 : 0) || batch.size() == 0) break;
      const auto now = Clock::now();
      const auto ring = keys();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (batch.truncated(i)) {
          counters_.count(Drop::oversized);
          continue;
        }
        receive(batch.datagram(i), batch.from(i), now, ring);
      }
    }
    timers(Clock::now());
  }
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
  switch (d.type) {
    case Type::data:
    case Type::packed:
      on_data(d, plain, *peer, now);
      break;
    case Type::nack:
      // A NACK is no sign that the peer's own stream makes sense to us: a peer whose data we
      // refuse as an implausible jump must age out and be joined afresh, not be kept alive
      // by the NACKs it sends after the same outage.
      if (d.nack.target == node_) on_nack(d.nack, peer->source, now);
      break;
    case Type::announce:
      on_announce(d.announce, *peer, now);
      release(d.sender, *peer, now);  // what the sender no longer holds is given up
      break;
    case Type::interest:
      // No sign of life either (it comes with every announcement, which is the sign), so a
      // peer refused for an implausible jump still ages out.
      group_interest_.update(d.sender, d.interest);
      break;
  }
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

void MulticastAdapter::on_announce(const Announce& a, Peer& peer, Clock::time_point now) {
  if (!peer.tracker.on_announce(a, now)) {
    counters_.count(Drop::seq_jump);
    return;
  }
  PeerTable::heard(peer, now);
}

void MulticastAdapter::on_data(const Datagram& d, std::string_view plain, Peer& peer,
                               Clock::time_point now) {
  const auto verdict = peer.tracker.on_data(d.data.seq, now);
  if (verdict == ReceiveTracker::Verdict::implausible) {
    counters_.count(Drop::seq_jump);
    return;
  }
  PeerTable::heard(peer, now);
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
  if (auto done = reassembly_.add(d.sender, d.data, d.chunk, now))
    deliver(done->header, done->bytes);
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

void MulticastAdapter::timers(Clock::time_point now) {
  MutexLock lock(receive_mutex_);
  if (now < next_timers_) return;
  next_timers_ = now + 1ms;
  std::string datagram;
  Nack nack;
  for (auto& [node, peer] : peers_.peers()) {
    nack.target = node;
    while (peer.tracker.due(now, nack)) {
      datagram.clear();
      encode_nack(datagram, node_, nack);
      counters_.add(counters_.nacks_out, 1);
      send_datagram(datagram, receive_sealer_, false);
    }
    release(node, peer, now);  // what was given up on no longer holds the rest back
  }
  reassembly_.expire(now);
  for (const std::uint64_t gone : peers_.expire(now)) forget(gone, "silent");
}

// --- status -------------------------------------------------------------------------------

AdapterStatus MulticastAdapter::status() const {
  AdapterStatus st;
  st.ready = running_.load();
  st.state = st.ready ? "joined" : "closed";
  MutexLock lock(receive_mutex_);
  ReportInputs in{config_, node_, counters_, reassembly_, peers_, queue_.bytes(),
                  0,       0,     {},        {},          {},     0};
  in.wants = group_interest_.peers();
  in.held_bytes = held_.bytes();
  {
    MutexLock interest_lock(interest_mutex_);
    in.own_interest = own_interest_;
  }
  {
    MutexLock window_lock(window_mutex_);
    in.window_bytes = window_.bytes();
    in.next_seq = window_.next_seq();
  }
  if (const auto ring = keys()) {
    for (const auto& k : ring->keys()) in.key_ids.push_back(k.id);
  }
  in.replay_senders = opener_.senders();
  report(in, st);
  return st;
}

// --- reload -------------------------------------------------------------------------------

// The key file may name other keys, or be another file; nothing else changes live, and
// neither does whether the group is keyed (every gateway would have to switch at once).
Status MulticastAdapter::reconfigure(const config::AdapterSection& section, bool apply) {
  auto next = parse_config(section);
  if (!next) return fail(next.error());
  if (next->restart_keys != config_.restart_keys || next->keys.empty() != config_.keys.empty()) {
    return fail(
        "multicast: only 'keys' (the file, and the keys it holds) changes while running; "
        "anything else in the section, and keying an unkeyed group or the reverse, needs a "
        "restart");
  }
  if (!apply || next->keys == running_keys_) return Ok{};
  running_keys_ = next->keys;
  auto ring = std::make_shared<const KeyRing>(running_keys_, config_.encrypt);
  {
    MutexLock lock(keys_mutex_);
    keys_ = std::move(ring);
  }
  std::string accepted;
  for (const auto& k : running_keys_) {
    accepted += (accepted.empty() ? "" : ",") + std::to_string(k.id);
  }
  log::info("multicast: keys reloaded",
            {{"send", std::to_string(running_keys_.front().id)}, {"accepted", accepted}});
  return Ok{};
}

}  // namespace

AdapterFactory adapter_factory() {
  return {"multicast", create_with<MulticastAdapter>(parse_config), command_line_flags()};
}

}  // namespace psycho::multicast
