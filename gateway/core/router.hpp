// The router: the subscription index, local fan-out, adapter export and adapter ingress.
//
// Threads. subscribe/unsubscribe/publish are called on worker threads; inject from any
// thread. The index is read-mostly: a shared_mutex guards the trie and each worker keeps its
// own match cache, invalidated by a generation counter that every index change bumps (the
// nats-server sublist idea), so a hot subject is matched without touching the lock.
//
// Fan-out. Subscribers on the publishing worker get deliver() at once. Subscribers on other
// workers are batched: all messages for worker W produced while the current handler runs go
// to W in one post, scheduled with a single self-post that runs after the handler (so a read
// of 1000 PUBs becomes one cross-thread hand-off per target worker, not 1000).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/answered_requests.hpp"
#include "core/dedup_cache.hpp"
#include "core/message.hpp"
#include "core/mutex.hpp"
#include "core/per_worker.hpp"
#include "core/router_stats.hpp"
#include "core/string_hash.hpp"
#include "core/subject_trie.hpp"
#include "core/subscriber.hpp"
#include "core/worker_pool.hpp"

namespace psycho {

class FabricLink;

// Why a publisher should pause before reading more (flow control): a recipient whose
// outbound queue is filling up, an adapter whose queue to its fabric is, or deliveries from
// its worker to other workers piling up.
struct Backpressure {
  std::shared_ptr<Subscriber> recipient;
  // Adapters live until the workers have stopped, so a session may keep the pointer.
  const FabricLink* adapter = nullptr;
  // The message `adapter` was congested for: it may hold up that message's subject only
  // (FabricLink::flow_for), so the wait asks about the same one.
  MessagePtr held;
  bool backlog = false;
  // Not a reason to pause: nothing took the message at all (no subscriber here, no adapter
  // that exports it), so a request has no responder.
  bool unrouted = false;
  explicit operator bool() const noexcept {
    return recipient != nullptr || adapter != nullptr || backlog;
  }
};

struct RouterOptions {
  std::uint64_t node_id = 0;
  std::size_t dedup_capacity = 1 << 16;
  std::uint8_t max_hops = 8;               // inbound messages that travelled more are dropped
  std::size_t match_cache_entries = 4096;  // per worker; cleared whole when full
  std::size_t inject_backlog = 64 << 20;   // bytes of adapter messages queued to workers
  // Past this many of those bytes (or half the bound, if less), adapters that can read their
  // fabric more slowly. Well below a subscriber's max_pending: what is queued when a
  // recipient turns congested still reaches it, and must fit.
  std::size_t inject_pause = 4 << 20;
  std::size_t worker_backlog = 256 * 1024;  // body bytes in flight from one worker to another
};

class Router {
 public:
  Router(WorkerPool& workers, RouterOptions options);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Start-up only, before any traffic: adapters that receive exports and interest.
  void add_adapter(FabricLink& adapter);

  // Unique ids for sessions and adapters. Thread-safe.
  OriginId next_origin_id() noexcept { return next_origin_.fetch_add(1) + 1; }
  std::uint64_t node_id() const noexcept { return options_.node_id; }
  // A fresh sequence number for a message first routed by this gateway (cheapest on a
  // worker's thread).
  std::uint64_t next_sequence() noexcept;

  // Worker thread. Returns false when the subscriber already holds (pattern, queue).
  bool subscribe(const std::shared_ptr<Subscriber>& subscriber, std::string_view pattern,
                 std::string_view queue);
  bool unsubscribe(const Subscriber& subscriber, std::string_view pattern, std::string_view queue);

  // Worker thread: routes a message to local subscribers and exporting adapters, never
  // back to its origin adapter. Congestion is sampled (every 16th message per worker) and
  // reported so the publisher can pause until it clears.
  Backpressure publish(const MessagePtr& message) { return route(message, false); }
  // Any thread: whether deliveries from `worker` to other workers are still backlogged.
  bool backlogged(int worker) const;
  // Any thread: whether what adapters inject is piling up, so that an adapter that can should
  // read its fabric more slowly (the other half of flow control): the backlog of injected
  // messages is past inject_pause, or a recipient of one was congested and still is (with
  // WaitFor::moving, only if it is moving).
  bool injection_congested(WaitFor who = WaitFor::congested) const;
  // Any thread: the clients' max_pending (at start, and after a reload). What is already on
  // its way to a subscriber when it turns congested (a quarter of max_pending) must still
  // fit below it, so adapters pause once a quarter of it (at most inject_pause) waits for
  // the workers: with the congestion mark, the messages between two samples and the
  // hand-off between workers, that stays inside it.
  void follow_max_pending(std::size_t max_pending) noexcept;

  // Any thread: a message from an adapter. Checks loops and duplicates, then routes it on a
  // worker. Returns false when it was dropped (and counted).
  bool inject(MessagePtr message);
  // Any thread: until end_burst() on the same thread, what it inject()s is queued for its
  // worker without a post, and end_burst() posts once per worker it filled. True when this
  // opened the burst (false: a burst is open on this thread already, this router's or
  // another's, and this call changes nothing).
  bool begin_burst();
  void end_burst();

  // Any thread: the adapter with origin `adapter` reports that its fabric wants `pattern`
  // (added) or no longer does. The other adapters hear of it through on_interest, as if a
  // local client had subscribed; the adapter itself does not. Counted like subscriptions.
  void declare_interest(OriginId adapter, std::string_view pattern, bool added);

  // Any thread: forget every cached route (an adapter's exports changed).
  void invalidate_routes() noexcept { generation_.fetch_add(1, std::memory_order_release); }

  std::size_t subscription_count() const;
  const RouterStats& stats() const noexcept { return stats_; }

 private:
  struct MatchResult;
  struct WorkerState;
  struct Delivery;

  std::shared_ptr<const MatchResult> lookup(WorkerState* ws, std::string_view subject);
  std::shared_ptr<const MatchResult> build_match(std::string_view subject) const;
  void deliver_local(int here, const MessagePtr& message, const MatchResult& result);
  // `injected`: the message came from an adapter (route_injected).
  Backpressure route(const MessagePtr& message, bool injected);
  // Returns, when `check`, a congested member it chose (the one to wait for), or null.
  std::shared_ptr<Subscriber> deliver_groups(int here, const MessagePtr& message,
                                             const std::shared_ptr<const MatchResult>& result,
                                             bool injected, bool check);
  Backpressure deliver_chosen(int here, const MessagePtr& message, const MatchResult& result,
                              bool injected);
  std::uint64_t& random_state(int here, std::uint64_t& fallback);
  // Whether a plain subscriber in `result` keeps up (Subscriber::keeps_up).
  static bool someone_keeps_up(const MatchResult* result);
  // Any thread: what an adapter should know before it injects more (injection_congested);
  // `handing_off` is the worker whose hand-off to other workers was backlogged, or -1;
  // `recipients`: every recipient of the message the pressure was found for, or null.
  void note_inject_pressure(Backpressure pressure, int handing_off,
                            std::shared_ptr<const MatchResult> recipients);
  // `injected`: as for route(), so that a member on another worker reports its congestion
  // to the adapters after the batch (flush_remote).
  void hand_to(int here, const MessagePtr& message, const std::shared_ptr<Subscriber>& member,
               bool injected);
  void queue_remote(int here, int target, Delivery delivery);
  void flush_remote(int here);
  // `from_adapter` is an index into adapters_, or -1 for client subscriptions.
  void route_injected(int worker);
  // `queue` is empty for plain subscriptions and adapter declarations.
  void change_interest(std::string_view pattern, std::string_view queue, int from_adapter,
                       int delta);

  WorkerPool& workers_;
  RouterOptions options_;
  const std::uint64_t import_node_;  // import_node_id(options_.node_id)
  mutable RouterStats stats_;        // counted from const queries too (injection_congested)
  DedupCache dedup_;
  std::vector<FabricLink*> adapters_;
  // Requests a recipient here took that went to a fabric too: not for its "no responders".
  AnsweredRequests answered_here_{4096};

  mutable SharedMutex index_mutex_;
  SubjectTrie index_ GUARDED_BY(index_mutex_);
  std::atomic<std::uint64_t> generation_{1};

  // Serialises interest notifications so adapters see add/remove in order.
  struct Interest {
    int clients = 0;                                  // plain subscriptions
    std::vector<std::pair<std::string, int>> groups;  // queue subscriptions, by group
    std::vector<int> by_adapter;  // declare_interest counts, by index into adapters_
    int plain() const {
      int n = clients;
      for (int c : by_adapter) n += c;
      return n;
    }
    int total() const {
      int n = plain();
      for (const auto& g : groups) n += g.second;
      return n;
    }
  };
  Mutex interest_mutex_;
  std::unordered_map<std::string, Interest, StringHash, std::equal_to<>> interest_
      GUARDED_BY(interest_mutex_);

  PerWorker<WorkerState> worker_state_;
  std::atomic<OriginId> next_origin_{0};
  static constexpr std::uint64_t kOffWorkerSequences = std::uint64_t{1} << 63;
  std::atomic<std::uint64_t> off_worker_sequence_{0};  // next_sequence() off the workers
  std::atomic<std::size_t> inject_backlog_{0};
  std::atomic<std::size_t> inject_pause_;  // options_.inject_pause, or less (follow_max_pending)
  // Adapter messages waiting for their worker; filled from any thread.
  struct InjectQueue {
    Mutex mutex;
    std::vector<MessagePtr> messages GUARDED_BY(mutex);
    std::vector<MessagePtr> draining;  // the worker's swap buffer
    bool scheduled GUARDED_BY(mutex) = false;
  };
  PerWorker<InjectQueue> inject_queues_;
  // The congested recipient of injected messages to wait for (set by the workers that route
  // them; a moving one over a stalled one), and whether there is one: read by adapters
  // through injection_congested().
  mutable Mutex inject_pressure_mutex_;
  mutable Backpressure inject_pressure_ GUARDED_BY(inject_pressure_mutex_);
  // A stalled recipient reported while a moving one was kept: next in line when that one
  // catches up, so that adapters that wait for stalled ones too still do.
  mutable std::shared_ptr<Subscriber> inject_stalled_ GUARDED_BY(inject_pressure_mutex_);
  // All the recipients of the message last reported: whether one of them keeps up decides if
  // a silent recipient is waited for.
  mutable std::shared_ptr<const MatchResult> inject_recipients_ GUARDED_BY(inject_pressure_mutex_);
  // The id of the silent recipient last passed over (each is counted once).
  mutable OriginId inject_passed_over_ GUARDED_BY(inject_pressure_mutex_) = 0;
  // The worker whose hand-off to other workers was backlogged with them, or -1.
  mutable int inject_pressure_worker_ GUARDED_BY(inject_pressure_mutex_) = -1;
  mutable std::atomic<bool> inject_pressured_{false};
};

}  // namespace psycho
