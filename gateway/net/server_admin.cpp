// What the admin endpoint serves: the snapshot behind /metrics and /varz, and /readyz.
#include "metrics/snapshot.hpp"
#include "net/server_impl.hpp"
#include "net/version.hpp"

namespace psycho::net {

metrics::Snapshot Server::Impl::snapshot() {
  metrics::Snapshot s;
  s.version = kVersion;
  s.server_name = config.gateway.name;
  s.uptime_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  s.start_time_seconds = std::chrono::duration<double>(started_wall.time_since_epoch()).count();
  sessions.counters.for_each([&s](int, const metrics::WorkerCounters& c) { s.add(c); });
  s.subscriptions = router.subscription_count();
  s.connections_rejected = sessions.rejected_connections.load();
  s.connection_slots = sessions.active_connections->load();
  const RouterStats& r = router.stats();
  s.routed = r.routed.load();
  s.injected = r.injected.load();
  s.no_interest = r.no_interest.load();
  s.queue_fallback = r.queue_fallback.load();
  s.queue_gateway_picks = r.queue_gateway_picks.load();
  s.silent_passed_over = r.silent_passed_over.load();
  for (std::size_t k = 0; k < kRouterDropReasons; ++k) s.router_dropped[k] = r.dropped[k].load();
  for (const auto& a : adapters) {
    AdapterStatus st = a->status();
    s.adapters.push_back({std::string(a->name()), st.ready, std::move(st.state),
                          std::move(st.traffic), std::move(st.samples), std::move(st.histograms),
                          std::move(st.varz_json)});
  }
  return s;
}

AdminResponse Server::Impl::admin_route(std::string_view path) {
  if (path == "/metrics") {
    return {200, "text/plain; version=0.0.4; charset=utf-8",
            metrics::render_prometheus(snapshot())};
  }
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/varz") return {200, "application/json", metrics::render_varz(snapshot()) + "\n"};
  if (path == "/readyz") {
    std::string not_ready, degraded;
    if (!listening) not_ready += "listeners not open\n";
    for (const auto& a : adapters) {
      const AdapterStatus st = a->status();
      if (!st.ready) not_ready += std::string(a->name()) + ": " + st.state + "\n";
      if (!st.degraded.empty()) degraded += std::string(a->name()) + ": " + st.degraded + "\n";
    }
    if (not_ready.empty()) return {200, "text/plain; charset=utf-8", "ready\n" + degraded};
    return {503, "text/plain; charset=utf-8", not_ready + degraded};
  }
  return {404, "text/plain; charset=utf-8", "not found; try /metrics /healthz /readyz /varz\n"};
}

}  // namespace psycho::net
