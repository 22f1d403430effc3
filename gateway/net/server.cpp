// The Server's life: start (adapters, TLS, listeners, workers), run, graceful shutdown.
#include "net/server.hpp"

#include <boost/asio/post.hpp>

#include <random>
#include <thread>

#include "core/log.hpp"
#include "metrics/json.hpp"
#include "net/client_session.hpp"
#include "net/ports_file.hpp"
#include "net/server_impl.hpp"
#include "net/static_files.hpp"
#include "net/version.hpp"

namespace psycho::net {

std::string render_info_json(const config::GatewayConfig& config, std::uint64_t node_id,
                             std::uint16_t port, std::size_t max_payload) {
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(node_id));
  metrics::JsonWriter j;
  j.begin_object();
  j.field("server_id", std::string_view(id));
  j.field("server_name", config.name);
  j.field("version", std::string_view(kVersion));
  j.field("proto", 1);
  j.field("type", "gateway");
  j.field("host", config.listen.host);
  j.field("port", static_cast<int>(port));
  j.field("max_payload", static_cast<std::uint64_t>(max_payload));
  j.field("headers", true);
  j.field("auth_required", config.auth.required());
  j.field("tls_required", config.tls.enabled());
  j.end_object();
  return j.take();
}

namespace {
std::uint64_t random_node_id() {
  std::random_device rd;
  const std::uint64_t id = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return id == 0 ? 1 : id;
}

int worker_count(const config::GatewayConfig& c) {
  if (c.workers > 0) return c.workers;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
}  // namespace

Server::Impl::Impl(config::Config c, const AdapterRegistry& r)
    : config(std::move(c)),
      registry(r),
      node(random_node_id()),
      workers(worker_count(config.gateway)),
      router(workers, RouterOptions{node}),
      sessions(router, config.gateway, workers.size()) {
  router.follow_max_pending(config.gateway.max_pending);
}

namespace {

// A server-side TLS context from `gateway.tls` or `gateway.admin_tls`; `what` names it in
// errors.
Result<std::unique_ptr<asio::ssl::context>> make_server_tls(const config::TlsConfig& t,
                                                            std::string_view what) {
  auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  const std::string name(what);
  boost::system::error_code ec;
  tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (!ec) tls->use_certificate_chain_file(t.cert_file, ec);
  if (ec) return fail(name + ": cannot load certificate '" + t.cert_file + "': " + ec.message());
  tls->use_private_key_file(t.key_file, asio::ssl::context::pem, ec);
  if (ec) return fail(name + ": cannot load key '" + t.key_file + "': " + ec.message());
  if (!t.ca_file.empty()) {
    tls->load_verify_file(t.ca_file, ec);
    if (ec) return fail(name + ": cannot load CA '" + t.ca_file + "': " + ec.message());
    tls->set_verify_mode(asio::ssl::verify_peer |
                         (t.verify_clients ? asio::ssl::verify_fail_if_no_peer_cert : 0));
  }
  return tls;
}

}  // namespace

Status Server::Impl::make_tls_context() {
  if (config.gateway.tls.enabled()) {
    auto made = make_server_tls(config.gateway.tls, "tls");
    if (!made) return fail(made.error());
    tls = std::move(made.value());
  }
  if (config.gateway.admin_tls.enabled()) {
    auto made = make_server_tls(config.gateway.admin_tls, "admin_tls");
    if (!made) return fail(made.error());
    admin_tls = std::move(made.value());
  }
  return Ok{};
}

Status Server::Impl::open_listeners() {
  const auto& g = config.gateway;
  if (g.listen.enabled()) {
    tcp = std::make_shared<Listener>(workers, "listen", [this](int w, asio::ip::tcp::socket s) {
      start_tcp_session(sessions, w, std::move(s), tls.get());
    });
    if (auto st = tcp->open(g.listen); !st) return st;
  }
  if (g.websocket.enabled()) {
    WebSocketEndpoint endpoint{g.websocket_path, nullptr};
    if (!g.websocket_static.empty()) {
      auto files = StaticFiles::open(g.websocket_static);
      if (!files) return fail(files.error());
      endpoint.files = std::make_shared<const StaticFiles>(std::move(files.value()));
    }
    websocket = std::make_shared<Listener>(
        workers, "websocket", [this, endpoint](int w, asio::ip::tcp::socket s) {
          start_websocket_session(sessions, w, std::move(s), tls.get(), endpoint);
        });
    if (auto st = websocket->open(g.websocket); !st) return st;
  }
  if (g.admin.enabled()) {
    admin = std::make_unique<AdminServer>(
        workers, [this](std::string_view p) { return admin_route(p); }, admin_tls.get(),
        g.handshake_timeout);
    if (auto st = admin->open(g.admin); !st) return st;
  }
  return Ok{};
}

Status Server::Impl::start() {
  if (config.gateway.auth.required()) {
    auto a = auth::Authenticator::create(config.gateway.auth);
    if (!a) return fail(a.error());
    auth_pool = std::make_unique<AuthPool>();
    sessions.auth_required = true;
    sessions.auth_pool = auth_pool.get();
    sessions.set_authenticator(std::move(a.value()));
  }
  auto built = registry.create_all(config.adapters);
  if (!built) return fail(built.error());
  adapters = std::move(built.value());
  if (auto st = make_tls_context(); !st) return st;
  if (auto st = open_listeners(); !st) return st;
  greet_with_payload_limit();  // before the adapters: the first start can call back
  // Every adapter is known to the router before the first starts: a started adapter's
  // threads may inject at once, and the router reads its list of adapters then.
  for (auto& a : adapters) {
    a->set_origin_id(router.next_origin_id());
    router.add_adapter(*a);
  }
  for (auto& a : adapters) {
    // The message names the adapter already (adapter.hpp).
    if (auto st = a->start(*this); !st) return st;
  }
  greet_with_payload_limit();
  if (auto st = report_ports(); !st) return st;
  workers.start();
  if (tcp) tcp->start();
  if (websocket) websocket->start();
  // Before the admin listener answers: /readyz must never see the client listeners as
  // closed once it can be asked (it did, for a moment, with the flag set after it).
  listening = true;
  if (admin) admin->start();
  if (config.stdio) {
    asio::post(workers.context(0), [this] {
      stdio = start_stdio_session(sessions, 0, workers.context(0),
                                  [this] { asio::post(control, [this] { control.stop(); }); });
    });
  }
  log::info(
      "gateway started",
      {{"name", config.gateway.name},
       {"workers", workers.size()},
       {"listen", tcp ? config.gateway.listen.host + ":" + std::to_string(tcp->port()) : ""},
       {"websocket",
        websocket ? config.gateway.websocket.host + ":" + std::to_string(websocket->port()) : ""},
       {"admin", admin ? config.gateway.admin.host + ":" + std::to_string(admin->port()) : ""}});
  log_static_files();
  return Ok{};
}

// Where a person opens the pages: scripts/run's demo prints this line's URL for the apps.
void Server::Impl::log_static_files() const {
  const auto& g = config.gateway;
  if (!websocket || g.websocket_static.empty()) return;
  const std::string host = g.websocket.host.find(':') == std::string::npos
                               ? g.websocket.host
                               : "[" + g.websocket.host + "]";
  log::info("serving static files", {{"url", std::string(tls ? "https" : "http") + "://" + host +
                                                 ":" + std::to_string(websocket->port()) + "/"},
                                     {"dir", g.websocket_static}});
}

// The gateway promises (INFO) and enforces no larger a body than every adapter that exports
// anything accepts: a NATS server's max_payload is often smaller than the gateway's, and a
// publication that cannot cross must be refused at once, with the standard error, rather
// than dropped later where the client cannot see it.
void Server::Impl::greet_with_payload_limit() {
  std::size_t limit = config.gateway.max_payload;
  for (const auto& a : adapters) {
    if (const std::size_t l = a->max_payload(); l != 0 && l < limit) limit = l;
  }
  const auto current = sessions.greeting();
  if (current && current->max_payload == limit) return;
  if (limit < config.gateway.max_payload) {
    log::info("max_payload lowered to what an adapter accepts",
              {{"configured", config.gateway.max_payload}, {"max_payload", limit}});
  }
  // INFO names the port really bound, which differs from the configured one when that is 0.
  const std::uint16_t port = tcp ? tcp->port() : config.gateway.listen.port;
  sessions.set_greeting(
      {limit, "INFO " + render_info_json(config.gateway, node, port, limit) + "\n"});
}

void Server::Impl::limits_changed() {
  asio::post(control, [this] { greet_with_payload_limit(); });
}

// Every listener, the adapters' included, is open by now: connections that arrive before the
// workers start wait in the accept backlog.
Status Server::Impl::report_ports() {
  if (config.ports_file.empty()) return Ok{};
  std::vector<NamedPort> ports{{"listen", tcp ? tcp->port() : std::uint16_t{0}},
                               {"websocket", websocket ? websocket->port() : std::uint16_t{0}},
                               {"admin", admin ? admin->port() : std::uint16_t{0}}};
  for (const auto& a : adapters) {
    ports.push_back({std::string(a->name()), a->listening_port()});
    for (const auto& more : a->more_listening_ports()) ports.push_back({more.name, more.port});
  }
  return write_ports_file(config.ports_file, ports);
}

void Server::Impl::shutdown() {
  log::info("shutting down", {{"connections", sessions.active_connections->load()}});
  listening = false;
  // Gone with the listeners: a file left behind means the gateway did not stop cleanly.
  remove_ports_file(config.ports_file);
  sessions.draining = true;
  if (tcp) tcp->close();
  if (websocket) websocket->close();
  // Ask every worker to flush and close its sessions, then wait for them, within a bound.
  for (int w = 0; w < workers.size(); ++w) {
    workers.post(w, [this, w] {
      auto live = sessions.sessions[w];  // drain() edits the set
      for (ClientSession* s : live) s->drain();
    });
  }
  // Wait for the sessions that started: a connection still in its handshake has nothing
  // queued to flush, and closes with its worker.
  auto started_sessions = [this] {
    return sessions.counters.sum([](const metrics::WorkerCounters& c) {
      std::uint64_t open = 0;
      for (std::size_t t = 0; t < c.connections_opened.size(); ++t) {
        const std::uint64_t closed = c.connections_closed[t].get();  // first: opened >= it
        open += c.connections_opened[t].get() - closed;
      }
      return open;
    });
  };
  const auto deadline = Clock::now() + config.gateway.shutdown_timeout;
  while (started_sessions() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& a : adapters) a->stop(config.gateway.shutdown_timeout);
  if (admin) admin->close();
  workers.stop();
  stdio.reset();
  log::info("gateway stopped", {});
}

Server::Server(config::Config config, const AdapterRegistry& registry)
    : impl_(std::make_unique<Impl>(std::move(config), registry)) {}

Server::~Server() = default;

Status Server::start() { return impl_->start(); }

void Server::request_stop() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->control.stop(); });
}

void Server::set_reload_source(std::function<Result<config::Config>()> load, std::string watch_path,
                               std::string stamp) {
  impl_->reload_source = std::move(load);
  impl_->watch_path = std::move(watch_path);
  impl_->watch_stamp = std::move(stamp);
}

void Server::request_reload() {
  asio::post(impl_->control, [impl = impl_.get()] { impl->reload(); });
}

int Server::run() {
  impl_->applied = impl_->config;
  impl_->wait_for_hangup();
  if (!impl_->watch_path.empty()) impl_->watch_config_file();
  impl_->signals.async_wait([impl = impl_.get()](const boost::system::error_code& ec, int sig) {
    if (!ec) log::info("signal received", {{"signal", sig}});
    impl->control.stop();
  });
  auto guard = asio::make_work_guard(impl_->control);
  impl_->control.run();
  impl_->hangup.cancel();
  impl_->watch_timer.cancel();
  impl_->shutdown();
  return 0;
}

BoundPorts Server::ports() const {
  return {impl_->tcp ? impl_->tcp->port() : std::uint16_t{0},
          impl_->websocket ? impl_->websocket->port() : std::uint16_t{0},
          impl_->admin ? impl_->admin->port() : std::uint16_t{0}};
}

}  // namespace psycho::net
