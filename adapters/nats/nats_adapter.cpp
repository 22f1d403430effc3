#include "adapters/nats/nats_adapter.hpp"

#include <nats/nats.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <thread>

#include "adapters/import.hpp"
#include "adapters/interest_table.hpp"
#include "adapters/nats/connection_options.hpp"
#include "adapters/nats/headers.hpp"
#include "adapters/nats/jetstream.hpp"
#include "adapters/nats/queue_subscriptions.hpp"
#include "adapters/nats/raw_message.hpp"
#include "adapters/nats/report.hpp"
#include "adapters/outbound_queue.hpp"
#include "core/log.hpp"
#include "core/mutex.hpp"

namespace psycho::nats {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// pace_import(): how often a paused delivery thread looks again, and for how long at most;
// as a paused local publisher does (net/client_session.cpp).
constexpr std::chrono::microseconds kImportStallStep{200};
constexpr std::chrono::milliseconds kImportStall{50};

// Batches up to this size are flushed at once (see run_publisher).
constexpr std::size_t kLatencyBatch = 16;

Drop drop_reason(natsStatus s) {
  switch (s) {
    case NATS_INSUFFICIENT_BUFFER:
      return Drop::reconnect_buffer_full;
    case NATS_MAX_PAYLOAD:
      return Drop::too_large;
    case NATS_CONNECTION_CLOSED:
      return Drop::closed;
    default:
      return Drop::publish_error;
  }
}

class NatsAdapter;

// The closure of one NATS subscription. It outlives the subscription until nats.c says the
// last callback has returned (the on-complete callback), because callbacks may still run
// after natsSubscription_Unsubscribe.
struct FabricSubscription {
  NatsAdapter* adapter = nullptr;
  InterestTable::SubscriptionId id = 0;
  natsSubscription* sub = nullptr;
  std::atomic<bool> complete{false};
};

class NatsAdapter final : public Adapter {
 public:
  explicit NatsAdapter(NatsConfig config)
      : config_(std::move(config)),
        bus_(bus_id(config_.bus)),
        filter_(std::make_shared<const SubjectFilter>(config_.subjects)),
        queue_(config_.queue),
        table_(filter_.load()),
        queues_(config_, [this](std::string_view local_queue,
                                natsMsg* msg) { receive_chosen(local_queue, msg); }),
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
  bool chooses_member(std::string_view subject, std::string_view queue) const override;
  bool carries(const Message& message) const noexcept override {
    return message.trace().bus != bus_ && queues_.connected() &&
           state_.load(std::memory_order_acquire) == State::connected;
  }
  bool receives_directly(const Message& message) const override;
  AdapterStatus status() const override;
  Status reconfigure(const config::AdapterSection& section, bool apply) override;

  // nats.c callbacks (library threads).
  void receive(InterestTable::SubscriptionId id, natsMsg* msg);
  // A message nats-server chose this gateway for, for local group `local_queue`.
  void receive_chosen(std::string_view local_queue, natsMsg* msg);
  void import(natsMsg* msg, std::string_view local_queue);
  void pace_import();
  void set_state(State s) { state_.store(s, std::memory_order_release); }
  void disconnected() {
    if (stopping_.load()) return;  // closing on purpose
    set_state(State::reconnecting);
    log::warn("nats: disconnected; reconnecting", {});
  }
  void connection_closed();
  // Keeps `why` as the reason /readyz shows while not connected. nats.c's generic
  // "No server available for connection" never replaces a specific reason (e.g. an
  // "Authorization Violation" the server sent), which is the one a user can act on.
  // Returns whether it is the first reason since the last connection.
  bool remember_error(natsStatus status, std::string why);
  void count_reconnect() { Counters::add(counters_.reconnects, 1); }
  // A connection to a server is up: what it accepts bounds what the gateway promises.
  void learn_server_limits(natsConnection* connection);
  std::size_t max_payload() const override {
    const bool exports = !filter()->export_patterns().empty() || config_.jetstream.enabled();
    return exports ? server_max_payload_.load(std::memory_order_relaxed) : 0;
  }

 private:
  void run_publisher();
  void publish(const Message& message);
  natsStatus publish_with_headers(const Message& message, bool to_jetstream);
  void apply_interest();
  void subscribe(InterestTable::SubscriptionId id, const std::string& pattern);
  void unsubscribe(InterestTable::SubscriptionId id);
  void housekeeping();
  std::string why_not_connected() const REQUIRES(closed_mutex_);
  Status connect();
  void reopen();

  // The subject lists, replaced by a reload; read by workers (exports), the publisher and
  // nats.c's delivery thread.
  std::shared_ptr<const SubjectFilter> filter() const { return filter_.load(); }

  std::atomic<std::size_t> server_max_payload_{0};  // 0 until connected
  const NatsConfig config_;
  const std::uint32_t bus_;
  std::atomic<std::shared_ptr<const SubjectFilter>> filter_;
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
  std::vector<std::unique_ptr<FabricSubscription>> retired_;  // until nats.c is done with them
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

// --- nats.c callbacks -------------------------------------------------------------------

void on_connected(natsConnection* nc, void* closure) {
  static_cast<NatsAdapter*>(closure)->learn_server_limits(nc);
  static_cast<NatsAdapter*>(closure)->set_state(State::connected);
  log::info("nats: connected", {});
}

void on_disconnected(natsConnection*, void* closure) {
  static_cast<NatsAdapter*>(closure)->disconnected();
}

void on_reconnected(natsConnection* nc, void* closure) {
  auto* adapter = static_cast<NatsAdapter*>(closure);
  adapter->learn_server_limits(nc);
  adapter->count_reconnect();
  adapter->set_state(State::connected);
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

void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* fs = static_cast<FabricSubscription*>(closure);
  fs->adapter->receive(fs->id, msg);
  free_message(msg);
}

void on_subscription_complete(void* closure) {
  static_cast<FabricSubscription*>(closure)->complete.store(true, std::memory_order_release);
}

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

void NatsAdapter::learn_server_limits(natsConnection* connection) {
  const std::int64_t limit = natsConnection_GetMaxPayload(connection);
  if (limit <= 0) return;
  const auto before = server_max_payload_.exchange(static_cast<std::size_t>(limit));
  if (before != static_cast<std::size_t>(limit) && host_ != nullptr) host_->limits_changed();
}

Status NatsAdapter::connect() {
  natsConnection* connection = nullptr;
  const natsStatus s = natsConnection_Connect(&connection, options_.get());
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) return fail("nats: " + describe("connect", s));
  {
    MutexLock lock(closed_mutex_);
    connection_ = connection;
    closed_ = false;
  }
  if (s == NATS_OK) {
    learn_server_limits(connection_);
    set_state(State::connected);
    std::array<char, 256> url{};
    natsConnection_GetConnectedUrl(connection_, url.data(), url.size());
    log::info("nats: connected", {{"url", url.data()}});
  } else {
    set_state(State::connecting);
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
    // The closed callback has run: no callback of the old connection can come any more.
    for (auto& [id, fs] : subscriptions_) natsSubscription_Destroy(fs->sub);
    subscriptions_.clear();
    retired_.clear();
    jetstream_.reset();
    MutexLock lock(closed_mutex_);
    natsConnection_Destroy(connection_);
    connection_ = nullptr;
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
    closed_ = false;
    last_error_.clear();
  }
  learn_server_limits(connection);
  set_state(State::connected);
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
      for (auto& [id, fs] : subscriptions_) natsSubscription_Destroy(fs->sub);
      subscriptions_.clear();
      MutexLock guard(closed_mutex_);  // status() reads connection_ under it
      natsConnection_Destroy(connection_);
      connection_ = nullptr;
    } else {
      // nats.c may still call us: leaking the connection is safer than freeing under it.
      log::warn("nats: connection did not close in time", {});
    }
  }
  set_state(State::closed);
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

// --- outbound: gateway -> NATS ----------------------------------------------------------

void NatsAdapter::send(const MessagePtr& message) {
  if (message->trace().bus == bus_) {
    counters_.count(Drop::same_bus);
    return;
  }
  if (!queue_.push(message)) counters_.count(Drop::queue_full);
}

void NatsAdapter::run_publisher() {
  std::vector<MessagePtr> batch;
  while (queue_.take_all(batch, 100ms)) {
    apply_interest();
    for (const auto& m : batch) publish(*m);
    // nats.c's flusher waits up to 1 ms for more data before it writes, which would add a
    // millisecond to every request/reply through the gateway. A small batch means light
    // load, where latency matters: push it out now (a flush is a PING; the data leaves at
    // once, only this thread waits for the PONG). Big batches fill nats.c's buffer, which it
    // then writes by itself.
    if (!batch.empty() && batch.size() <= kLatencyBatch &&
        state_.load(std::memory_order_acquire) == State::connected) {
      natsConnection_FlushTimeout(connection_, 100);
    }
    batch.clear();
    jetstream_.retry_failed();
    if (Clock::now() >= next_housekeeping_) housekeeping();
  }
}

void NatsAdapter::publish(const Message& message) {
  if (connection_ == nullptr) {  // between reopen() attempts
    counters_.count(Drop::closed);
    return;
  }
  filter()->to_fabric(message.subject(), subject_buffer_);
  const bool to_jetstream = jetstream_.enabled() && jetstream_.wants(message.subject());
  natsStatus s;
  if (!trace_headers_ && !to_jetstream && message.headers().empty()) {
    // The fast path: no natsMsg, nats.c writes straight into its buffer.
    const auto payload = message.payload();
    if (message.reply().empty()) {
      s = natsConnection_Publish(connection_, subject_buffer_.c_str(), payload.data(),
                                 static_cast<int>(payload.size()));
    } else {
      reply_buffer_.assign(message.reply());
      s = natsConnection_PublishRequest(connection_, subject_buffer_.c_str(), reply_buffer_.c_str(),
                                        payload.data(), static_cast<int>(payload.size()));
    }
  } else {
    s = publish_with_headers(message, to_jetstream);
  }
  if (s == NATS_OK) {
    counters_.sent(message.body().size());
  } else {
    counters_.count(drop_reason(s));
  }
}

natsStatus NatsAdapter::publish_with_headers(const Message& message, bool to_jetstream) {
  // The client's own header block goes out byte for byte; Psycho-* headers are ours to set,
  // never a client's (raw_message.hpp).
  TraceValues trace;
  format_trace(message.trace(), trace);
  const OutgoingBody body =
      outgoing_body(message.headers(), message.payload(), trace_headers_ ? trace.trace : "",
                    to_jetstream ? trace.msg_id : "", body_buffer_);
  natsMsg* msg = nullptr;
  natsStatus s =
      make_raw_message(&msg, subject_buffer_, message.reply(), body.bytes, body.header_size);
  if (s != NATS_OK) return s;
  if (to_jetstream) return jetstream_.publish(msg);
  s = natsConnection_PublishMsg(connection_, msg);
  free_message(msg);
  return s;
}

// --- inbound: NATS -> gateway -----------------------------------------------------------

void NatsAdapter::receive(InterestTable::SubscriptionId id, natsMsg* msg) {
  const std::string_view fabric_subject = natsMsg_GetSubject(msg);
  if (!table_.owns(id, fabric_subject)) {
    Counters::add(counters_.overlap_copies, 1);  // another subscription has it
    return;
  }
  import(msg, {});
}

// nats-server chose one subscription of the group, so there are no overlapping copies to
// weed out.
void NatsAdapter::receive_chosen(std::string_view local_queue, natsMsg* msg) {
  import(msg, local_queue);
}

// Flow control, the receiving half, as nats-server does it for a fast publisher and a slow
// subscriber: while what the gateway injects piles up at a recipient (or in the router),
// the delivery thread waits, and nats.c holds what keeps arriving (`pending_messages`,
// `pending_bytes`). A wait lasts kImportStall at most; after one that ran out, messages go
// on at full speed until the congestion has cleared once, so a subscriber that does not
// read is cut as a slow consumer (the bridge is never the one that falls behind).
void NatsAdapter::pace_import() {
  if (!host_->congested()) {
    import_stall_expired_ = false;
    return;
  }
  if (import_stall_expired_) return;
  Counters::add(counters_.import_stalls, 1);
  const auto deadline = Clock::now() + kImportStall;
  while (host_->congested()) {
    if (Clock::now() >= deadline) {
      import_stall_expired_ = true;
      Counters::add(counters_.import_stall_timeouts, 1);
      return;
    }
    std::this_thread::sleep_for(kImportStallStep);
  }
}

void NatsAdapter::import(natsMsg* msg, std::string_view local_queue) {
  pace_import();
  const std::string_view fabric_subject = natsMsg_GetSubject(msg);
  // The import lists first: a message that is not imported costs no header rebuild and no
  // sequence number.
  const auto local = import_.local_name(*filter(), fabric_subject);
  if (!local) return;
  // A plain NATS publication gets an identity of this gateway's making; one that another
  // gateway exported carries its own in the trace headers.
  thread_local std::string scratch;
  std::string_view headers;
  const auto carried = take_headers(msg, scratch, headers);
  const Trace trace =
      carried
          ? *carried
          : Trace{import_node_, import_seq_.fetch_add(1, std::memory_order_relaxed) + 1, 0, bus_};
  const char* reply = natsMsg_GetReply(msg);
  const std::string_view payload(natsMsg_GetData(msg),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  import_.inject(*host_, origin_id(), *local,
                 {fabric_subject, reply != nullptr ? reply : "", headers, payload, local_queue},
                 trace);
}

bool NatsAdapter::receives_directly(const Message& message) const {
  if (message.trace().bus != bus_ || state_.load(std::memory_order_acquire) != State::connected ||
      !filter()->imports(message.subject())) {
    return false;
  }
  const std::string fabric_subject = filter()->import_name(message.subject());
  return table_.covers(fabric_subject) || queues_.covers(fabric_subject);
}

bool NatsAdapter::chooses_member(std::string_view subject, std::string_view queue) const {
  const auto f = filter();
  return exports(subject) && f->imports(subject) && queues_.chooses(f->import_name(subject), queue);
}

// --- interest ----------------------------------------------------------------------------

void NatsAdapter::on_interest(std::string_view pattern, bool added) {
  {
    MutexLock lock(interest_mutex_);
    auto it = pending_interest_.find(pattern);
    if (it == pending_interest_.end()) it = pending_interest_.emplace(pattern, 0).first;
    it->second += added ? 1 : -1;
    if (it->second == 0) pending_interest_.erase(it);  // added and removed before we looked
  }
  queue_.poke();
}

void NatsAdapter::on_queue_interest(std::string_view pattern, std::string_view queue, bool added) {
  {
    MutexLock lock(interest_mutex_);
    auto key = std::make_pair(std::string(pattern), std::string(queue));
    auto it = pending_queue_interest_.try_emplace(std::move(key), 0).first;
    it->second += added ? 1 : -1;
    if (it->second == 0) pending_queue_interest_.erase(it);
  }
  queue_.poke();
}

void NatsAdapter::apply_interest() {
  std::map<std::string, int, std::less<>> changes;
  std::map<std::pair<std::string, std::string>, int> queue_changes;
  bool refilter = false;
  {
    MutexLock lock(interest_mutex_);
    changes.swap(pending_interest_);
    queue_changes.swap(pending_queue_interest_);
    refilter = std::exchange(refilter_pending_, false);
  }
  if (refilter) {
    const auto c = table_.refilter(filter());
    for (const auto& [id, fabric] : c.subscribe) subscribe(id, fabric);
    for (const auto id : c.unsubscribe) unsubscribe(id);
    queues_.refilter(*filter());
  }
  for (const auto& [key, delta] : queue_changes) {
    queues_.change(*filter(), key.first, key.second, delta > 0);
  }
  // A group nats-server now chooses for (or no longer does) changes the router's routes.
  if (queues_.confirm() || !queue_changes.empty()) host_->exports_changed();
  for (const auto& [pattern, delta] : changes) {
    const auto c = table_.change(pattern, delta > 0);
    // Subscribe first: during the swap a message may come twice (owns() keeps one) but is
    // never missed.
    for (const auto& [id, fabric] : c.subscribe) subscribe(id, fabric);
    for (const auto id : c.unsubscribe) unsubscribe(id);
  }
}

void NatsAdapter::subscribe(InterestTable::SubscriptionId id, const std::string& pattern) {
  if (connection_ == nullptr) return;  // reopen() subscribes everything live when it connects
  auto fs = std::make_unique<FabricSubscription>();
  fs->adapter = this;
  fs->id = id;
  natsStatus s =
      natsConnection_Subscribe(&fs->sub, connection_, pattern.c_str(), &on_message, fs.get());
  if (s == NATS_OK)
    s = natsSubscription_SetOnCompleteCB(fs->sub, &on_subscription_complete, fs.get());
  if (s == NATS_OK) {
    s = natsSubscription_SetPendingLimits(
        fs->sub, config_.pending_messages,
        static_cast<int>(std::min<std::size_t>(config_.pending_bytes, 2'000'000'000)));
  }
  if (s != NATS_OK) {
    log::warn("nats: subscribe failed", {{"subject", pattern}, {"error", natsStatus_GetText(s)}});
    if (fs->sub != nullptr) natsSubscription_Destroy(fs->sub);
    return;
  }
  subscriptions_.emplace(id, std::move(fs));
}

void NatsAdapter::unsubscribe(InterestTable::SubscriptionId id) {
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return;
  std::unique_ptr<FabricSubscription> fs = std::move(it->second);
  subscriptions_.erase(it);
  int64_t dropped = 0;
  if (natsSubscription_GetDropped(fs->sub, &dropped) == NATS_OK) {
    slow_dropped_retired_ += static_cast<std::uint64_t>(dropped);
  }
  natsSubscription_Unsubscribe(fs->sub);
  natsSubscription_Destroy(fs->sub);
  fs->sub = nullptr;
  retired_.push_back(std::move(fs));
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
  std::erase_if(retired_,
                [](const auto& fs) { return fs->complete.load(std::memory_order_acquire); });
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

}  // namespace

AdapterFactory adapter_factory() {
  return {"nats", create_with<NatsAdapter>(parse_config), command_line_flags()};
}

}  // namespace psycho::nats
