// The multicast adapter's class, shared by the files that implement it: its life cycle,
// status and reload (multicast_adapter.cpp), the sending thread (sending.cpp) and the
// receiving thread (receiving.cpp). Private to adapters/multicast/.
#pragma once

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

using namespace std::chrono_literals;

// Datagrams taken from the socket before the timers are looked at, and per recvmmsg.
constexpr std::size_t kReceiveBurst = 256;
constexpr std::size_t kReceiveBatch = 32;
// Big enough for any UDP datagram, so none is ever cut.
constexpr std::size_t kReceiveBufferSize = 65536;
// Datagrams built before they go out in one sendmmsg.
constexpr std::size_t kSendBatch = 64;
// A receiver looks at its socket buffer at most once per pacer interval, and reports a
// backlog when it holds at least this share of what it can (a half: room for the senders to
// hear it and slow down before it overflows, and not so little that a receiver descheduled
// for a moment slows every sender) and more than it did the last time it looked. While it
// holds back for a congested subscriber (wait_while_congested) it looks every
// kHoldingSampleInterval and reports from half full whether or not the buffer still grows.
constexpr std::size_t kBacklogShare = 2;
constexpr auto kBacklogSampleInterval = std::chrono::milliseconds(10);
constexpr auto kHoldingSampleInterval = std::chrono::milliseconds(2);
// While a subscriber here that keeps reading is congested, the receiving thread looks again
// this often, for at most kMaxReceivePause before each datagram (wait_while_congested).
constexpr auto kReceivePauseStep = std::chrono::microseconds(200);
constexpr auto kMaxReceivePause = std::chrono::milliseconds(50);

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
  Pacer::Feedback feedback() const noexcept;
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
  void on_data(const Datagram& d, std::string_view plain, Peer& peer, Clock::time_point now,
               std::uint64_t lost_here) REQUIRES(receive_mutex_);
  void use(const Datagram& d, Clock::time_point now) REQUIRES(receive_mutex_);
  void refresh_wanted();
  bool unwanted(std::string_view fabric_subject);
  // `holding`: this thread is holding back for a subscriber (wait_while_congested), so a
  // buffer past half that no longer grows is still reported: it stays full on purpose.
  void report_backlog(Clock::time_point now, bool holding = false);
  // Returns the time it stopped waiting.
  Clock::time_point wait_while_congested();
  bool socket_nearly_full() const;
  bool paused_lately(Clock::time_point now, std::chrono::milliseconds within, bool drained) const;
  void release(std::uint64_t node, Peer& peer, Clock::time_point now) REQUIRES(receive_mutex_);
  void bound_held(Clock::time_point now) REQUIRES(receive_mutex_);
  void on_announce(const Announce& a, Peer& peer, Clock::time_point now, std::uint64_t lost_here)
      REQUIRES(receive_mutex_);
  // A datagram of `peer`'s refused as an implausible jump (counted), or taken: in step.
  void refused_jump(Peer& peer, Clock::time_point now) REQUIRES(receive_mutex_);
  void in_step(Peer& peer, Clock::time_point now) REQUIRES(receive_mutex_);
  // The kernel's count of datagrams dropped at the socket when it queued a datagram.
  void note_socket_drops(std::uint32_t dropped);
  // Those of the socket's drops that were for a full buffer, so far.
  std::uint64_t socket_overflows() const noexcept {
    return Counters::get(counters_.socket_overflows);
  }
  void deliver(const DataHeader& h, std::string_view bytes);
  void on_nack(const Nack& nack, const Source& requester, Clock::time_point now);
  std::vector<std::string> resend(const Nack& nack, const Source& requester, Clock::time_point now,
                                  bool& gone, std::uint64_t& news);
  void timers(Clock::time_point now, bool drained);

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

  // Drops the kernel counted at the socket (receiving thread only): its count as last read,
  // and all of them since start (socket_overflows() is those for a full buffer).
  std::uint32_t socket_drops_seen_ = 0;
  std::uint64_t socket_drops_ = 0;
  mutable Mutex receive_mutex_;  // receiving thread vs status()
  Reassembler reassembly_ GUARDED_BY(receive_mutex_);
  HoldBack held_ GUARDED_BY(receive_mutex_);
  PeerTable peers_ GUARDED_BY(receive_mutex_);
  RepairBudget repair_budget_;
  Clock::time_point next_timers_{};
  Clock::time_point next_backlog_sample_{};
  std::uint32_t last_backlog_sample_ = 0;  // bytes queued when it last looked
  Clock::time_point last_read_pause_{};    // when wait_while_congested() last waited
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
  // What the receiving thread asks of every message before it imports it (or, for a large
  // one, puts it together): the interest last announced; null (everything) from a new local
  // subscription until the sending thread has announced it, so nothing wanted is skipped.
  std::shared_ptr<const WhatTheGroupWants> wanted_here_ GUARDED_BY(interest_mutex_);
  std::uint64_t local_additions_ GUARDED_BY(interest_mutex_) = 0;
  // The receiving thread's copy of wanted_here_, taken after each receive: a datagram read
  // after a subscription was added is judged by what includes it.
  std::shared_ptr<const WhatTheGroupWants> wanted_now_;

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

}  // namespace psycho::multicast
