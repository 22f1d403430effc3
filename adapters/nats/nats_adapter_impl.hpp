// The NATS adapter's class, shared by the files that implement it: its life cycle
// (nats_adapter.cpp), the way out to NATS (outbound.cpp), the way in (inbound.cpp) and the
// NATS subscriptions that follow local interest (interest.cpp). Private to adapters/nats/.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapters/import.hpp"
#include "adapters/interest_table.hpp"
#include "adapters/nats/connection_options.hpp"
#include "adapters/nats/jetstream.hpp"
#include "adapters/nats/queue_subscriptions.hpp"
#include "adapters/nats/report.hpp"
#include "adapters/nats/retired_closures.hpp"
#include "adapters/outbound_queue.hpp"
#include "adapters/shared_snapshot.hpp"
#include "core/mutex.hpp"

namespace psycho::nats {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class NatsAdapter;

// The closure of one NATS subscription. It outlives the subscription until nats.c says the
// last callback has returned (retired_closures.hpp).
struct FabricSubscription {
  NatsAdapter* adapter = nullptr;
  InterestTable::SubscriptionId id = 0;
  natsSubscription* sub = nullptr;
  bool complete = false;  // RetiredClosures' own
};

class NatsAdapter final : public Adapter {
 public:
  explicit NatsAdapter(NatsConfig config)
      : config_(std::move(config)),
        bus_(bus_id(config_.bus)),
        filter_(std::make_shared<const SubjectFilter>(config_.subjects)),
        queue_(config_.queue),
        table_(filter_.load()),
        queues_(config_, [this](std::string_view local_queue, natsSubscription* sub,
                                natsMsg* msg) { receive_chosen(local_queue, sub, msg); }),
        jetstream_(config_.jetstream) {}

  ~NatsAdapter() override { stop(0ms); }

  std::string_view name() const override { return "nats"; }
  Status start(AdapterHost& host) override;
  void stop(std::chrono::milliseconds drain) override;

  bool exports(std::string_view subject) const override {
    return filter()->exports(subject) || jetstream_.wants(subject);
  }
  FlowState flow() const noexcept override { return queue_.flow(); }
  // Every exported message is published: nats-server knows who wants it.
  std::vector<std::string> onward_patterns() const override {
    auto patterns = filter()->export_patterns();
    patterns.insert(patterns.end(), config_.jetstream.exports.begin(),
                    config_.jetstream.exports.end());
    return patterns;
  }
  void send(const MessagePtr& message) override;
  void on_interest(std::string_view pattern, bool added) override;
  bool bridges_queue_groups() const noexcept override { return true; }
  void on_queue_interest(std::string_view pattern, std::string_view queue, bool added) override;
  GroupChoice group_choice(std::string_view subject, std::string_view queue) const override;
  bool carries(const Message& message) const noexcept override {
    return message.trace().bus != bus_ && queues_.connected() &&
           state_.load(std::memory_order_acquire) == State::connected;
  }
  bool receives_directly(const Message& message) const override;
  AdapterStatus status() const override;
  Status reconfigure(const config::AdapterSection& section, bool apply) override;

  // nats.c callbacks (library threads).
  void receive(InterestTable::SubscriptionId id, natsSubscription* sub, natsMsg* msg);
  // A message nats-server chose this gateway for, for local group `local_queue`.
  void receive_chosen(std::string_view local_queue, natsSubscription* sub, natsMsg* msg);
  void import(natsSubscription* sub, natsMsg* msg, std::string_view local_queue);
  void pace_import(natsSubscription* sub);
  // How much of its pending limits nats.c holds for `sub`: under half, up to three quarters,
  // or more (or it cannot tell).
  enum class NatsHolds : std::uint8_t { little, some, most };
  NatsHolds nats_holds(natsSubscription* sub) const;
  void set_state(State s) { state_.store(s, std::memory_order_release); }
  // nats.c's callbacks: a connection is up (first, or again); the last error is forgotten.
  void connection_up();
  void disconnected() {
    if (stopping_.load()) return;  // closing on purpose
    set_state(State::reconnecting);
    log::warn("nats: disconnected; reconnecting", {});
  }
  void connection_closed();
  // A subscription's on-complete callback.
  void subscription_complete(FabricSubscription& fs) { retired_.completed(fs); }
  // After our own successful connect: a close or disconnect nats.c has reported stands.
  void connected_unless_closed();
  // Keeps `why` as the reason /readyz shows while not connected. nats.c's generic
  // "No server available for connection" never replaces a specific reason (e.g. an
  // "Authorization Violation" the server sent), which is the one a user can act on.
  // Returns whether it is the first reason since the last connection.
  bool remember_error(natsStatus status, std::string why);
  void count_reconnect() { Counters::add(counters_.reconnects, 1); }
  // A connection to a server is up: what it accepts bounds what the gateway promises.
  void learn_server_limits(natsConnection* connection);
  std::size_t max_payload() const override;

 private:
  void run_publisher();
  void publish(const Message& message);
  natsStatus publish_with_headers(const Message& message, bool to_jetstream);
  void apply_interest();
  void subscribe(InterestTable::SubscriptionId id, const std::string& pattern);
  void unsubscribe(InterestTable::SubscriptionId id);
  // Every subscription, after its connection closed: the handles go, the closures wait.
  void retire_subscriptions();
  void housekeeping();
  std::string why_not_connected() const REQUIRES(closed_mutex_);
  Status connect();
  void reopen();

  // The subject lists, replaced by a reload; read by workers (exports), the publisher and
  // nats.c's delivery thread. Those two read them for every message through a Reader of
  // their own (publisher_filter_, import_filter_).
  std::shared_ptr<const SubjectFilter> filter() const { return filter_.load(); }

  std::atomic<std::size_t> server_max_payload_{0};  // 0 until connected
  const NatsConfig config_;
  const std::uint32_t bus_;
  SharedSnapshot<SubjectFilter> filter_;
  SharedSnapshot<SubjectFilter>::Reader publisher_filter_;  // the publisher thread's
  SharedSnapshot<SubjectFilter>::Reader import_filter_;     // nats.c's delivery thread's
  bool refilter_pending_ GUARDED_BY(interest_mutex_) = false;
  AdapterHost* host_ = nullptr;
  std::uint64_t import_node_ = 0;  // identity given to plain NATS publications
  // Whether exports carry Psycho-Trace: config_.trace_headers, `auto` resolved at start.
  bool trace_headers_ = true;
  std::atomic<std::uint64_t> import_seq_{0};
  // pace_import()'s state; only nats.c's delivery thread (a pool of one) touches it.
  bool import_stall_expired_ = false;

  OptionsPtr options_;
  natsConnection* connection_ = nullptr;
  OutboundQueue queue_;
  std::thread publisher_;
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};

  // Interest: the router's changes are coalesced here and applied by the publisher thread,
  // the only thread that calls into nats.c for subscriptions.
  Mutex interest_mutex_;
  std::map<std::string, int, std::less<>> pending_interest_ GUARDED_BY(interest_mutex_);
  // (pattern, group) -> +1 / -1, likewise.
  std::map<std::pair<std::string, std::string>, int> pending_queue_interest_
      GUARDED_BY(interest_mutex_);
  InterestTable table_;
  QueueSubscriptions queues_;
  std::map<InterestTable::SubscriptionId, std::unique_ptr<FabricSubscription>> subscriptions_;
  RetiredClosures<FabricSubscription> retired_;
  std::uint64_t slow_dropped_retired_ = 0;
  // When housekeeping last saw slow_subscription grow (steady clock ticks; 0: never), for
  // /readyz, which names the loss for kDegradedFor after it.
  std::atomic<Clock::rep> last_slow_drop_{0};
  static constexpr auto kDegradedFor = std::chrono::minutes(1);
  Clock::time_point next_housekeeping_{};
  Clock::time_point next_reopen_{}, next_reopen_log_{};
  // The most specific reason connecting fails.
  std::string last_error_ GUARDED_BY(closed_mutex_);

  JetStreamExporter jetstream_;

  // Reused by the publisher thread so that a publish allocates nothing of ours.
  std::string subject_buffer_, reply_buffer_, body_buffer_;

  std::atomic<State> state_{State::connecting};
  // Also held by the publisher thread, the only one to replace connection_, while it does,
  // and by status() while it reads connection_.
  mutable Mutex closed_mutex_;
  std::condition_variable closed_cv_;
  bool closed_ GUARDED_BY(closed_mutex_) = false;

  Counters counters_;
  // Nothing to check: the adapter builds the header block itself, and subjects come as the
  // NATS server delivers them. What enters is marked with this NATS system's bus.
  const Importer<Drop> import_{counters_, {.not_imported = Drop::not_imported, .bus = bus_}};
};

// nats.c callbacks for a subscription's messages and its end (interest.cpp).
void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
void on_subscription_complete(void* closure);

}  // namespace psycho::nats
