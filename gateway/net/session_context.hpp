// What every client session shares: the router, the limits, the pre-rendered INFO line,
// per-worker counters and the per-worker list of live sessions (used at shutdown).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "auth/authenticator.hpp"
#include "config/config.hpp"
#include "core/router.hpp"
#include "metrics/counters.hpp"
#include "protocol/limits.hpp"

namespace psycho::net {

class AuthPool;
class ClientSession;

struct SessionContext {
  Router& router;
  const config::GatewayConfig& config;
  protocol::Limits limits;
  std::string info_line;  // "INFO {...}\n", rendered once at start-up
  std::atomic<std::size_t> active_connections{0};
  std::atomic<std::uint64_t> rejected_connections{0};
  std::vector<std::unique_ptr<metrics::WorkerCounters>> counters;  // by worker
  // Live sessions by worker; each set is touched only on its worker's thread.
  std::vector<std::unordered_set<ClientSession*>> sessions;
  // Set once shutdown begins: no new sessions are started.
  std::atomic<bool> draining{false};

  // Authentication; both null when `gateway.auth` requires none.
  auth::Authenticator* authenticator = nullptr;
  AuthPool* auth_pool = nullptr;
  // Connections per user, for the per-user max_connections.
  std::mutex user_connections_mutex;
  std::unordered_map<std::string, std::size_t> user_connections;
  // Counts a connection for `user`; false (and nothing counted) when at its limit.
  bool add_user_connection(const auth::User& user);
  void remove_user_connection(const auth::User& user);

  SessionContext(Router& r, const config::GatewayConfig& c, int workers);
};

}  // namespace psycho::net
