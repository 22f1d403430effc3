// Server's state and its parts, shared by the files that make up the Server: server.cpp
// (start, listeners, shutdown), server_reload.cpp (configuration reloads) and
// server_admin.cpp (what /metrics, /varz and /readyz report). Private to them.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.hpp"
#include "adapters/registry.hpp"
#include "config/config.hpp"
#include "core/router.hpp"
#include "metrics/snapshot.hpp"
#include "net/admin_server.hpp"
#include "net/auth_pool.hpp"
#include "net/listener.hpp"
#include "net/server.hpp"
#include "net/session_context.hpp"
#include "net/transports.hpp"
#include "net/workers.hpp"

namespace psycho::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Server::Impl : AdapterHost {
  config::Config config;
  const AdapterRegistry& registry;
  std::uint64_t node = 0;
  Workers workers;
  Router router;
  SessionContext sessions;
  std::vector<std::unique_ptr<Adapter>> adapters;
  std::unique_ptr<asio::ssl::context> tls, admin_tls;
  std::unique_ptr<AuthPool> auth_pool;
  std::shared_ptr<Listener> tcp, websocket;
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<StdioPipe> stdio;
  asio::io_context control;  // run by the thread in run(): signals and stop requests
  asio::signal_set signals{control, SIGINT, SIGTERM};
  // Reloads (control thread).
  asio::signal_set hangup{control, SIGHUP};
  asio::steady_timer watch_timer{control};
  std::function<Result<config::Config>()> reload_source;
  std::string watch_path;
  std::string watch_stamp;  // inode, size and mtime of the watched file when last seen
  config::Config applied;   // what the last (re)load applied, for the next comparison
  Clock::time_point started = Clock::now();
  std::chrono::system_clock::time_point started_wall = std::chrono::system_clock::now();
  std::atomic<bool> listening{false};

  Impl(config::Config c, const AdapterRegistry& r);

  std::uint64_t node_id() const override { return node; }
  bool inject(MessagePtr message) override { return router.inject(std::move(message)); }
  bool begin_burst() override { return router.begin_burst(); }
  void end_burst() override { router.end_burst(); }
  void declare_interest(const Adapter& adapter, std::string_view pattern, bool added) override {
    router.declare_interest(adapter.origin_id(), pattern, added);
  }
  void exports_changed() override { router.invalidate_routes(); }
  bool congested(WaitFor who) const override { return router.injection_congested(who); }
  // `adapters` is fixed before the first adapter starts.
  std::vector<std::string> onward_patterns(const Adapter& asking) const override {
    std::vector<std::string> out;
    for (const auto& a : adapters) {
      if (a.get() == &asking) continue;
      auto more = a->onward_patterns();
      out.insert(out.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
    }
    return out;
  }

  bool runs_other_adapters(const Adapter& asking) const override {
    return std::any_of(adapters.begin(), adapters.end(),
                       [&](const auto& a) { return a.get() != &asking; });
  }

  void limits_changed() override;

  // server.cpp
  Status start();
  void log_static_files() const;
  void greet_with_payload_limit();
  Status open_listeners();
  Status report_ports();
  Status make_tls_context();
  void shutdown();
  // server_reload.cpp
  void reload();
  void wait_for_hangup();
  void watch_config_file();
  // server_admin.cpp
  AdminResponse admin_route(std::string_view path);
  metrics::Snapshot snapshot();
};

}  // namespace psycho::net
