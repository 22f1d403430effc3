// What every client session shares: the router, the limits, the pre-rendered INFO line,
// per-worker counters and the per-worker list of live sessions (used at shutdown).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "auth/authenticator.hpp"
#include "config/config.hpp"
#include "core/mutex.hpp"
#include "core/per_worker.hpp"
#include "core/router.hpp"
#include "metrics/counters.hpp"
#include "protocol/limits.hpp"

namespace psycho::net {

class AuthPool;
class ClientSession;

// One client connection counted against max_connections from the moment it is accepted to
// the moment it closes, so that connections still in a TLS handshake or a WebSocket upgrade
// take a slot like any other. The counter is shared: a session freed late (its last handler
// ran after shutdown) may outlive the SessionContext.
class ConnectionSlot {
 public:
  using Counter = std::shared_ptr<std::atomic<std::size_t>>;
  explicit ConnectionSlot(Counter counter)
      : counter_(std::move(counter)), position_(counter_->fetch_add(1) + 1) {}
  ~ConnectionSlot() { release(); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  // How many connections there were, this one included, when it was accepted.
  std::size_t position() const noexcept { return position_; }
  void release() noexcept {
    if (counter_) counter_->fetch_sub(1, std::memory_order_relaxed);
    counter_.reset();
  }

 private:
  Counter counter_;
  std::size_t position_;
};

// The limits a configuration reload may change. Each worker has its own copy, replaced on
// that worker's thread, so sessions read them without any synchronisation.
struct LiveLimits {
  std::size_t max_pending = 0;
  std::size_t max_connections = 0;
  std::size_t max_subscriptions = 0;
  config::RateLimitConfig publish_rate;
  std::chrono::milliseconds ping_interval{0};
  int max_pings_out = 0;
  explicit LiveLimits(const config::GatewayConfig& c)
      : max_pending(c.max_pending),
        max_connections(c.max_connections),
        max_subscriptions(c.max_subscriptions),
        publish_rate(c.publish_rate),
        ping_interval(c.ping_interval),
        max_pings_out(c.max_pings_out) {}
};

// What a new connection is greeted with: the INFO line, and the max_payload it promises,
// which the session's parser then holds the client to. Replaced as a whole when the
// effective max_payload changes (an adapter's fabric accepts less: docs/nats.md), so a
// session never promises one figure and enforces another.
struct Greeting {
  std::size_t max_payload = 0;
  std::string info_line;  // "INFO {...}\n"
};

struct SessionContext {
  Router& router;
  const config::GatewayConfig& config;  // as started; see `live` for what reloads change
  PerWorker<LiveLimits> live;
  std::size_t max_control_line = 0;
  // Any thread; a session takes one when it is created.
  std::shared_ptr<const Greeting> greeting() const;
  void set_greeting(Greeting g);
  // Open connections, handshakes included (see ConnectionSlot).
  ConnectionSlot::Counter active_connections = std::make_shared<std::atomic<std::size_t>>(0);
  std::atomic<std::uint64_t> rejected_connections{0};
  PerWorker<metrics::WorkerCounters> counters;
  // Live sessions; each worker's set is touched only on that worker's thread.
  PerWorker<std::unordered_set<ClientSession*>> sessions;
  // Set once shutdown begins: no new sessions are started.
  std::atomic<bool> draining{false};

  // Authentication. Whether it is required is fixed at start; the Authenticator itself is
  // replaced by a reload (users, permissions, secrets), so it is shared and read under a lock
  // (once per CONNECT, not per message).
  bool auth_required = false;
  AuthPool* auth_pool = nullptr;
  std::shared_ptr<auth::Authenticator> authenticator() const;
  void set_authenticator(std::shared_ptr<auth::Authenticator> a);
  // Connections per user, for the per-user max_connections.
  Mutex user_connections_mutex;
  std::unordered_map<std::string, std::size_t> user_connections GUARDED_BY(user_connections_mutex);
  // Counts a connection for `user`; false (and nothing counted) when at its limit.
  bool add_user_connection(const auth::User& user);
  void remove_user_connection(const auth::User& user);

  SessionContext(Router& r, const config::GatewayConfig& c, int workers);

 private:
  mutable Mutex authenticator_mutex_;
  std::shared_ptr<auth::Authenticator> authenticator_ GUARDED_BY(authenticator_mutex_);
  mutable Mutex greeting_mutex_;
  std::shared_ptr<const Greeting> greeting_ GUARDED_BY(greeting_mutex_);
};

}  // namespace psycho::net
