// The NATS adapter's queue subscriptions (docs/nats.md, "Queue groups"): one NATS queue
// subscription per (fabric pattern, group) that local queue groups want, reference-counted,
// so that nats-server chooses one member among every gateway and every NATS client of the
// group.
//
// They live on a second connection of their own. The main connection has NoEcho, and
// nats-server skips a NoEcho publisher's own queue subscriptions when it chooses a member:
// there, a message this gateway published could never be chosen for its own members (and
// with no other member would be lost). This connection never publishes, so nats-server may
// choose it for anything; Message::queue keeps its copies apart from the plain ones.
//
// A subscription counts for chooses() once the server has confirmed it (a flush): before
// that the router keeps picking members itself, as without NATS.
//
// Threads: change, refilter, confirm, reopen_if_closed and stop on the adapter's publisher
// thread; chooses, covers, connected, size and patterns on any thread; the message
// callback on nats.c's delivery thread.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/nats/nats_config.hpp"
#include "adapters/nats/retired_closures.hpp"
#include "adapters/subject_filter.hpp"
#include "core/mutex.hpp"

namespace psycho::nats {

class QueueSubscriptions {
 public:
  // Called on nats.c's delivery thread with a message nats-server chose this gateway for,
  // and the local group it is for. Must not keep `msg`.
  using Receive =
      std::function<void(std::string_view local_queue, natsSubscription* sub, natsMsg* msg)>;

  QueueSubscriptions(const NatsConfig& config, Receive receive);
  ~QueueSubscriptions();
  QueueSubscriptions(const QueueSubscriptions&) = delete;
  QueueSubscriptions& operator=(const QueueSubscriptions&) = delete;

  // The first member of local group `queue` on `local_pattern` appeared (added), or the
  // last one left. Opens the connection with the first.
  void change(const SubjectFilter& filter, std::string_view local_pattern, std::string_view queue,
              bool added);
  // The subject lists changed: the same local groups through `filter`, new ones first.
  void refilter(const SubjectFilter& filter);
  // Asks the server to confirm subscriptions not confirmed yet; true when some were, so that
  // the router should build its routes again.
  bool confirm();
  // nats.c closes a connection for good after repeated authorization failures: open a new
  // one and subscribe everything again.
  void reopen_if_closed();
  void stop(std::chrono::milliseconds drain);

  // Whether a confirmed subscription of local group `queue` brings in `fabric_subject`.
  bool chooses(std::string_view fabric_subject, std::string_view queue) const;
  // Whether a confirmed subscription of any group brings in `fabric_subject`.
  bool covers(std::string_view fabric_subject) const;
  bool connected() const noexcept { return connected_.load(std::memory_order_acquire); }
  std::size_t size() const;
  // "pattern group", with " (unconfirmed)" until the server has confirmed it: for /varz.
  std::vector<std::string> patterns() const;

  // nats.c callbacks.
  void set_connected(bool up) { connected_.store(up, std::memory_order_release); }
  void closed();

 private:
  // The closure of one NATS subscription; it outlives the subscription until nats.c says
  // the last callback has returned (retired_closures.hpp). One per NATS subscription: a
  // subscription made again after a reopen gets a new one.
  struct Subscription {
    QueueSubscriptions* owner = nullptr;
    std::string pattern, fabric_queue, local_queue;
    int refs = 0;
    bool live = false;  // confirmed by the server
    natsSubscription* sub = nullptr;
    bool complete = false;  // RetiredClosures' own
  };
  using FabricKey = std::pair<std::string, std::string>;  // fabric pattern, fabric queue
  using LocalKey = std::pair<std::string, std::string>;   // local pattern, local queue

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  static void on_complete(void* closure);
  void acquire(const SubjectFilter& filter, const LocalKey& local, std::vector<FabricKey>& out);
  void release(const FabricKey& key);
  void subscribe(Subscription& s);
  // Retires the closure of every subscription made on the closed connection; with
  // `successors`, a new closure takes each one's place, for subscribing again.
  void retire_all(bool successors) REQUIRES(mutex_);
  bool open();

  const NatsConfig& config_;
  const Receive receive_;
  natsConnection* connection_ = nullptr;
  std::atomic<bool> connected_{false};
  std::map<LocalKey, std::vector<FabricKey>> local_;
  mutable SharedMutex mutex_;  // subscriptions_ against the readers on other threads
  std::map<FabricKey, std::unique_ptr<Subscription>> subscriptions_ GUARDED_BY(mutex_);
  RetiredClosures<Subscription> retired_;
  Mutex closed_mutex_;
  std::condition_variable closed_cv_;
  bool closed_ GUARDED_BY(closed_mutex_) = false;
};

}  // namespace psycho::nats
