#include "adapters/nats/nats_adapter.hpp"

#include "adapters/nats/headers.hpp"
#include "adapters/nats/nats_adapter_impl.hpp"
#include "core/log.hpp"

namespace psycho::nats {

namespace {

// --- nats.c callbacks -------------------------------------------------------------------

void on_connected(natsConnection* nc, void* closure) {
  static_cast<NatsAdapter*>(closure)->learn_server_limits(nc);
  static_cast<NatsAdapter*>(closure)->connection_up();
  log::info("nats: connected", {});
}

void on_disconnected(natsConnection*, void* closure) {
  static_cast<NatsAdapter*>(closure)->disconnected();
}

void on_reconnected(natsConnection* nc, void* closure) {
  auto* adapter = static_cast<NatsAdapter*>(closure);
  adapter->learn_server_limits(nc);
  adapter->count_reconnect();
  adapter->connection_up();
  log::info("nats: reconnected", {});
}

void on_closed(natsConnection*, void* closure) {
  static_cast<NatsAdapter*>(closure)->connection_closed();
}

void on_error(natsConnection* nc, natsSubscription*, natsStatus err, void* closure) {
  if (err == NATS_CONNECTION_AUTH_FAILED) {
    const char* text = nullptr;
    natsConnection_GetLastError(nc, &text);
    static_cast<NatsAdapter*>(closure)->remember_error(
        err, std::string(natsStatus_GetText(err)) +
                 (text != nullptr && *text != '\0' ? std::string(" (") + text + ")" : ""));
  }
  // Slow subscriptions are counted from natsSubscription_GetDropped; this is for the log,
  // at most one line a second (all callbacks run on one library thread).
  static Clock::time_point next_line{};
  static std::uint64_t suppressed = 0;
  if (const auto now = Clock::now(); now >= next_line) {
    log::warn("nats: asynchronous error",
              {{"error", natsStatus_GetText(err)}, {"similar_lines_suppressed", suppressed}});
    next_line = now + 1s;
    suppressed = 0;
  } else {
    ++suppressed;
  }
}

}  // namespace

// --- life cycle ---------------------------------------------------------------------------

Status NatsAdapter::start(AdapterHost& host) {
  host_ = &host;
  // Plain NATS publications get an identity of this gateway's making, which the router
  // knows for its own (it needs no duplicate check the first time, and is a loop after).
  import_node_ = import_node_id(host.node_id());
  // Without a second path out of this gateway, what it exports reaches every other gateway
  // once, through NATS, and the bus rules keep it from coming back: the trace would be dead
  // weight (docs/nats.md, "Loops").
  trace_headers_ =
      config_.trace_headers == TraceHeaders::on ||
      (config_.trace_headers == TraceHeaders::automatic && host.runs_other_adapters(*this));

  ConnectionCallbacks callbacks{&on_connected, &on_disconnected, &on_reconnected,
                                &on_closed,    &on_error,        this};
  auto options = make_options(config_, callbacks);
  if (!options) return fail(options.error());
  options_ = std::move(options.value());
  // One delivery thread for every subscription keeps messages in the order NATS sent them.
  nats_SetMessageDeliveryPoolSize(1);
  if (auto st = connect(); !st) return st;
  for (const auto& [id, pattern] : table_.start().subscribe) subscribe(id, pattern);
  publisher_ = std::thread([this] { run_publisher(); });
  return Ok{};
}

std::size_t NatsAdapter::max_payload() const {
  const bool exports = !filter()->export_patterns().empty() || config_.jetstream.enabled();
  const std::size_t server = server_max_payload_.load(std::memory_order_relaxed);
  if (!exports || server == 0) return 0;
  // The server counts the header block too, the part the bridge adds included.
  const std::size_t added = added_header_bytes(trace_headers_, config_.jetstream.enabled());
  return server > added ? server - added : 1;
}

void NatsAdapter::learn_server_limits(natsConnection* connection) {
  const std::int64_t limit = natsConnection_GetMaxPayload(connection);
  if (limit <= 0) return;
  const auto before = server_max_payload_.exchange(static_cast<std::size_t>(limit));
  if (before != static_cast<std::size_t>(limit) && host_ != nullptr) host_->limits_changed();
}

Status NatsAdapter::connect() {
  // Everything a callback may change is set before nats.c can call back: under load its
  // callback thread may report this connection closed (or connected) before
  // natsConnection_Connect returns, and a store after the call would undo that.
  set_state(State::connecting);
  {
    MutexLock lock(closed_mutex_);
    closed_ = false;
  }
  // /readyz says why until the first connection (docs/nats.md, Faults); nats.c's own "Not
  // Yet Connected" says nothing, and a more specific reason replaces this one. No URL: it
  // may carry credentials.
  remember_error(NATS_NO_SERVER, "no server reachable yet (" +
                                     std::to_string(config_.servers.size()) + " configured)");
  natsConnection* connection = nullptr;
  const natsStatus s = natsConnection_Connect(&connection, options_.get());
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) return fail("nats: " + describe("connect", s));
  {
    MutexLock lock(closed_mutex_);
    connection_ = connection;
    if (s == NATS_OK) last_error_.clear();
  }
  if (s == NATS_OK) {
    learn_server_limits(connection_);
    connected_unless_closed();
    std::array<char, 256> url{};
    natsConnection_GetConnectedUrl(connection_, url.data(), url.size());
    log::info("nats: connected", {{"url", url.data()}});
  } else {
    log::warn("nats: not reachable yet; retrying in the background",
              {{"servers", config_.servers.front()}});
  }
  return jetstream_.start(connection_);
}

// nats.c closes a connection for good after repeated authorization failures, or once
// `max_attempts` is used up. With attempts unlimited the gateway keeps trying on its own:
// one synchronous attempt per `reconnect.wait` (which also yields the server's exact reason,
// e.g. "Authorization Violation", for /readyz), then everything held is subscribed again.
void NatsAdapter::reopen() {
  next_reopen_ = Clock::now() + config_.reconnect.wait;
  if (connection_ != nullptr) {
    // The closed callback has run; the subscriptions' last callbacks may still come.
    retire_subscriptions();
    jetstream_.reset();
    MutexLock lock(closed_mutex_);
    natsConnection_Destroy(connection_);
    connection_ = nullptr;
  }
  {
    // A failed attempt calls nothing back; a successful one may be closed by the server
    // before natsConnection_Connect returns (see connect()).
    MutexLock lock(closed_mutex_);
    closed_ = false;
    set_state(State::connecting);
  }
  natsOptions_SetRetryOnFailedConnect(options_.get(), false, nullptr, nullptr);
  natsConnection* connection = nullptr;
  const natsStatus s = natsConnection_Connect(&connection, options_.get());
  natsOptions_SetRetryOnFailedConnect(options_.get(), true, &on_connected, this);
  if (s != NATS_OK) {
    set_state(State::connecting);
    const std::string why = describe("connect", s);
    const bool first = remember_error(s, why);
    if (first || Clock::now() >= next_reopen_log_) {
      log::warn("nats: cannot connect; trying again", {{"error", why}});
      next_reopen_log_ = Clock::now() + 1min;
    }
    return;
  }
  {
    MutexLock lock(closed_mutex_);
    connection_ = connection;
    last_error_.clear();
  }
  learn_server_limits(connection);
  connected_unless_closed();
  log::info("nats: connected again", {});
  if (auto st = jetstream_.start(connection_); !st) log::warn(st.error(), {});
  for (const auto& [id, pattern] : table_.live()) subscribe(id, pattern);
}

void NatsAdapter::stop(std::chrono::milliseconds drain) {
  if (stopped_) return;
  stopped_ = true;
  if (host_ == nullptr) return;  // never started
  stopping_.store(true);
  const auto deadline = Clock::now() + drain;
  queue_.close();  // the publisher sends what is queued, then returns
  if (publisher_.joinable()) publisher_.join();
  const auto left = [&] {
    return std::max(1ms,
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  };
  jetstream_.finish(left());
  queues_.stop(left());
  if (connection_ != nullptr) {
    if (const int buffered = natsConnection_Buffered(connection_);
        buffered > 0 && state_ != State::connected) {
      log::warn("nats: closing while disconnected; buffered publishes are lost",
                {{"bytes", buffered}});
    }
    // Drain: stop the subscriptions, deliver what they hold, flush publishes, close.
    if (natsConnection_DrainTimeout(connection_, left().count()) != NATS_OK) {
      natsConnection_Close(connection_);
    }
    MutexLock lock(closed_mutex_);
    const auto closed_by = Clock::now() + left() + 1s;
    while (!closed_ && lock.wait_until(closed_cv_, closed_by) == std::cv_status::no_timeout) {
    }
    const bool closed = closed_;
    lock.unlock();
    if (closed) {
      retire_subscriptions();
      // The last callbacks follow the close within moments, drained or not.
      if (const std::size_t leaked = retired_.finish(Clock::now() + std::max(left(), 1000ms));
          leaked > 0) {
        log::warn("nats: subscriptions not finished in time; their closures are leaked",
                  {{"subscriptions", leaked}});
      }
      MutexLock guard(closed_mutex_);  // status() reads connection_ under it
      natsConnection_Destroy(connection_);
      connection_ = nullptr;
    } else {
      // nats.c may still call us: leaking the connection and the closures it may call is
      // safer than freeing them under it.
      log::warn("nats: connection did not close in time", {});
      for (auto& [id, fs] : subscriptions_) static_cast<void>(fs.release());
      subscriptions_.clear();
      static_cast<void>(retired_.finish(Clock::now()));
    }
  }
  set_state(State::closed);
}

void NatsAdapter::connection_up() {
  {
    MutexLock lock(closed_mutex_);
    last_error_.clear();  // a reason from before this connection would mislead later
  }
  set_state(State::connected);
}

bool NatsAdapter::remember_error(natsStatus status, std::string why) {
  MutexLock lock(closed_mutex_);
  const bool first = last_error_.empty();
  if (status != NATS_NO_SERVER || first) last_error_ = std::move(why);
  return first;
}

void NatsAdapter::connection_closed() {
  set_state(State::closed);
  {
    MutexLock lock(closed_mutex_);
    closed_ = true;
  }
  closed_cv_.notify_all();
}

void NatsAdapter::connected_unless_closed() {
  // From `connecting` only: a close or disconnect nats.c reported meanwhile stands.
  State expected = State::connecting;
  state_.compare_exchange_strong(expected, State::connected, std::memory_order_acq_rel);
}

void NatsAdapter::housekeeping() {
  next_housekeeping_ = Clock::now() + 250ms;
  if (config_.reconnect.max_attempts < 0 && !stopping_.load() &&
      next_housekeeping_ > next_reopen_) {
    bool closed = false;
    {
      MutexLock lock(closed_mutex_);
      closed = closed_ || connection_ == nullptr;
    }
    if (closed) reopen();
  }
  if (!stopping_.load()) queues_.reopen_if_closed();
  if (queues_.confirm()) host_->exports_changed();
  // Free the closures nats.c has finished with.
  retired_.collect();
  std::uint64_t dropped_now = slow_dropped_retired_;
  for (const auto& [id, fs] : subscriptions_) {
    int64_t d = 0;
    if (natsSubscription_GetDropped(fs->sub, &d) == NATS_OK)
      dropped_now += static_cast<std::uint64_t>(d);
  }
  if (dropped_now > counters_.slow_dropped.load(std::memory_order_relaxed)) {
    last_slow_drop_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  counters_.slow_dropped.store(dropped_now, std::memory_order_relaxed);
}

// --- reload ------------------------------------------------------------------------------

// The subject lists and prefixes change live; anything else needs a restart.
Status NatsAdapter::reconfigure(const config::AdapterSection& section, bool apply) {
  auto next = parse_config(section);
  if (!next) return fail(next.error());
  if (const std::string keys = restart_keys(config_, *next); !keys.empty()) {
    return fail(
        "nats: only subjects, import, export and the prefixes change while running; "
        "these need a restart: " +
        keys);
  }
  if (!apply) return Ok{};
  filter_.store(std::make_shared<const SubjectFilter>(next->subjects));
  host_->exports_changed();  // routes cached with the old export list
  {
    MutexLock lock(interest_mutex_);
    refilter_pending_ = true;
  }
  queue_.poke();
  log::info("nats: subject lists reloaded", {});
  return Ok{};
}

// --- status ------------------------------------------------------------------------------

AdapterStatus NatsAdapter::status() const {
  ReportInputs in{config_,
                  trace_headers_,
                  state_.load(std::memory_order_acquire),
                  "",
                  std::nullopt,
                  counters_,
                  table_.size(),
                  table_.patterns(),
                  queue_.bytes(),
                  jetstream_,
                  queues_.size(),
                  queues_.patterns()};
  {
    MutexLock lock(closed_mutex_);  // connection_ and last_error_
    if (in.state != State::connected) {
      in.last_error = why_not_connected();
    } else if (std::array<char, 256> url{};
               connection_ != nullptr &&
               natsConnection_GetConnectedUrl(connection_, url.data(), url.size()) == NATS_OK) {
      in.connected_url = url.data();
    }
  }
  AdapterStatus st;
  report(in, st);
  const Clock::time_point last_drop{Clock::duration(last_slow_drop_.load())};
  if (last_drop != Clock::time_point{} && Clock::now() - last_drop < kDegradedFor) {
    st.degraded =
        "nats.c dropped messages over its pending limits (pending_messages, "
        "pending_bytes) within the last minute: slow_subscription " +
        std::to_string(Counters::get(counters_.slow_dropped));
  }
  return st;
}

// Under closed_mutex_. nats.c's last error on the connection, unless that is the generic
// "no server" while a more specific reason is remembered.
std::string NatsAdapter::why_not_connected() const {
  const char* last = nullptr;
  const natsStatus s =
      connection_ != nullptr ? natsConnection_GetLastError(connection_, &last) : NATS_OK;
  const bool generic = s == NATS_NO_SERVER && !last_error_.empty();
  if (s != NATS_OK && !generic && last != nullptr && *last != '\0') return last;
  return last_error_;
}

AdapterFactory adapter_factory() {
  return {"nats", create_with<NatsAdapter>(parse_config), command_line_flags()};
}

}  // namespace psycho::nats
