#include "net/client_session.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cassert>

#include "core/header_block.hpp"
#include "core/log.hpp"
#include "core/subject.hpp"
#include "protocol/connect_options.hpp"
#include "protocol/encoder.hpp"

namespace psycho::net {

namespace {
// How long a closing session may take to flush its last bytes (an -ERR, a drain).
constexpr auto kCloseDeadline = std::chrono::seconds(2);
// Flow control: a paused publisher checks every kStallStep whether what it publishes to is
// still congested. It reads on after kMaxStall however congested a subscriber or its worker's
// hand-off still is, so a consumer that never reads only slows its publishers down until it
// is cut off as a slow consumer. An adapter holds it longer: as long as the adapter's queue
// keeps draining, and up to the adapter's patience when it does not; past the first
// kMaxStall it is checked every kLongStallStep, which is soon enough for a queue of megabytes.
constexpr std::chrono::microseconds kStallStep{200};
constexpr std::chrono::milliseconds kMaxStall{50};
constexpr std::chrono::milliseconds kLongStallStep{1};
}  // namespace

// Every step of the life cycle. A session may close (or its transport fail) in any phase
// once started; a password check either lets the client in or sends it back to greeting,
// from where a refusal closes it.
void ClientSession::enter(Phase next) {
  const auto allowed = [](Phase from, Phase to) {
    switch (to) {
      case Phase::handshaking:
        return false;
      case Phase::greeting:
        return from == Phase::handshaking || from == Phase::verifying;
      case Phase::verifying:
      case Phase::open:
        return from == Phase::greeting;
      case Phase::closing:
        return from == Phase::greeting || from == Phase::verifying || from == Phase::open;
      case Phase::closed:
        return from != Phase::closed;
    }
    return false;
  };
  assert(allowed(phase_, next));
  (void)allowed;
  phase_ = next;
}

ClientSession::ClientSession(SessionContext& ctx, int worker, boost::asio::io_context& io,
                             metrics::Transport transport, std::string remote)
    : Subscriber(ctx.router.next_origin_id(), worker),
      io_(io),
      ctx_(ctx),
      transport_(transport),
      remote_(std::move(remote)),
      greeting_(ctx.greeting()),
      parser_({ctx.max_control_line, greeting_->max_payload}),
      timer_(io),
      stall_timer_(io),
      progress_timer_(io),
      auth_timer_(io),
      rate_(ctx.live[worker].publish_rate),
      slot_(ctx.active_connections) {}

// finish() does the accounting; the destructor must not touch ctx_, which a late-freed
// session (held by a handler until the io_contexts go) may outlive.
ClientSession::~ClientSession() = default;

void ClientSession::start() {
  const auto t = static_cast<std::size_t>(transport_);
  counters().connections_opened[t].add();
  enter(Phase::greeting);
  ctx_.sessions[worker()].insert(this);
  if (over_connection_limit()) {
    ctx_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    out_.bytes.append(greeting_->info_line);  // INFO always comes first
    log::warn("connection refused",
              {{"cid", id()}, {"remote", remote_}, {"reason", "max_connections"}});
    send_error(protocol::Error::max_connections);
    return;
  }
  log::debug("client connected", {{"cid", id()}, {"remote", remote_}});
  out_.bytes.append(greeting_->info_line);
  commit_bytes();
  arm_ping_timer();
  arm_first_op_timer();
  do_read();
}

void ClientSession::drain() { begin_close(); }

bool ClientSession::over_connection_limit() const {
  return slot_.position() > live().max_connections || ctx_.draining.load();
}

bool ClientSession::expect_start_within(std::chrono::steady_clock::duration timeout) {
  if (over_connection_limit()) {
    // No handshake for a connection that would be refused when it completed: it would only
    // hold a socket, and CPU for the TLS keys, on behalf of nobody.
    ctx_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    log::warn("connection refused before its handshake",
              {{"remote", remote_}, {"reason", "max_connections"}});
    do_shutdown();
    return false;
  }
  timer_.expires_after(timeout);
  // A weak reference: the deadline must not keep an abandoned handshake alive. start()
  // re-arms the timer for PINGs, which cancels this wait.
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->phase_ != Phase::handshaking) return;
    log::info("handshake timed out", {{"remote", self->remote_}});
    self->do_shutdown();
  });
  return true;
}

// ---------------------------------------------------------------------------- reading

void ClientSession::on_read(std::string_view data) {
  if (closing_or_closed()) return;
  const std::error_code ec = parser_.feed(data, *this);
  if (ec) {
    send_error(static_cast<protocol::Error>(ec.value()));
    return;
  }
  if (phase_ == Phase::verifying) {
    // A password check is running: keep the rest for when it is done, read nothing more.
    held_input_.assign(data.substr(parser_.consumed()));
    return;
  }
  if (closing_or_closed()) return;
  // A pause takes effect at the publication that asked for it, not a whole read later: what
  // was read behind it waits here, so a queue's headroom need not hold a read per publisher.
  if (stall_.requested) held_input_.assign(data.substr(parser_.consumed()));
  read_next();
}

void ClientSession::resume_reading() {
  if (held_input_.empty()) {
    do_read();
    return;
  }
  const std::string held = std::move(held_input_);
  held_input_.clear();
  on_read(held);
}

void ClientSession::read_next() {
  stall_.requested = false;
  if (!stall_.any()) {
    resume_reading();
    return;
  }
  // Something we publish to cannot keep up: leave our bytes in the socket until it has caught
  // up, so that TCP slows the producer down instead of the consumer being cut off or the
  // adapter dropping.
  stall_.started = stall_.moved = std::chrono::steady_clock::now();
  const auto cause = stall_.adapter != nullptr     ? metrics::PauseCause::adapter
                     : !stall_.recipient.expired() ? metrics::PauseCause::subscriber
                                                   : metrics::PauseCause::worker_backlog;
  counters().publisher_pauses[static_cast<std::size_t>(cause)].add();
  wait_for_congestion();
}

void ClientSession::wait_for_congestion() {
  const bool long_stall = std::chrono::steady_clock::now() - stall_.started >= kMaxStall;
  const std::chrono::microseconds step = long_stall ? kLongStallStep : kStallStep;
  stall_timer_.expires_after(step);
  stall_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closing_or_closed()) return;
    if (self->still_stalled(std::chrono::steady_clock::now())) {
      self->wait_for_congestion();
      return;
    }
    self->stall_ = {};
    self->resume_reading();
  });
}

bool ClientSession::still_stalled(std::chrono::steady_clock::time_point now) {
  if (stall_.adapter != nullptr) {
    const FlowState flow = stall_.adapter->flow_for(*stall_.held);
    if (flow.drained != stall_.drained) {
      stall_.drained = flow.drained;
      stall_.moved = now;
    }
    if (flow.congested && now - stall_.moved < flow.patience) return true;
    stall_.adapter = nullptr;
    stall_.held = {};
  }
  if (now - stall_.started >= kMaxStall) return false;
  auto blocker = stall_.recipient.lock();
  return (blocker && blocker->congested()) || (stall_.backlog && ctx_.router.backlogged(worker()));
}

void ClientSession::on_read_failed(const std::error_code& ec) {
  log::debug("client disconnected", {{"cid", id()}, {"reason", ec.message()}});
  // The peer is gone or broken: nothing left to flush to it.
  finish();
}

bool ClientSession::on_op(const protocol::Op& op) {
  using protocol::OpKind;
  if (phase_ == Phase::greeting && !ctx_.auth_required) enter(Phase::open);  // any op will do
  if (authenticating() && op.kind != OpKind::connect && op.kind != OpKind::ping &&
      op.kind != OpKind::pong) {
    fail_authentication("none", name_, "an operation before CONNECT");
    return false;
  }
  switch (op.kind) {
    case OpKind::pub:
    case OpKind::hpub:
      handle_pub(op);
      break;
    case OpKind::sub:
      handle_sub(op);
      break;
    case OpKind::unsub:
      handle_unsub(op);
      break;
    case OpKind::connect:
      handle_connect(op);
      break;
    case OpKind::ping:
      protocol::append_pong(out_.bytes);
      commit_bytes();
      break;
    case OpKind::pong:
      pings_out_ = 0;
      break;
    default:
      send_error(protocol::Error::unknown_operation);
      break;
  }
  return phase_ != Phase::verifying && !closing_or_closed() && !stall_.requested;
}

void ClientSession::handle_connect(const protocol::Op& op) {
  protocol::ConnectOptions options;
  options.verbose = verbose_;
  options.echo = echo_;
  options.headers = headers_;
  if (protocol::parse_connect_options(op.args, options)) {
    send_error(protocol::Error::invalid_arguments);
    return;
  }
  // Once in, a later CONNECT may change options but not who the client is.
  if (authenticating()) {
    authenticate(std::move(options));
    return;
  }
  apply_connect_options(std::move(options));
  reply_ok();
}

void ClientSession::apply_connect_options(protocol::ConnectOptions&& options) {
  verbose_ = options.verbose;
  echo_ = options.echo;
  headers_ = options.headers;
  no_responders_ = options.headers && options.no_responders;
  name_ = std::move(options.name);
}

void ClientSession::handle_pub(const protocol::Op& op) {
  if (!is_valid_publish_subject(op.subject) ||
      (!op.reply.empty() && !is_valid_publish_subject(op.reply))) {
    send_error(protocol::Error::invalid_publish_subject);
    return;
  }
  if (!is_valid_header_block(op.headers)) {
    send_error(protocol::Error::invalid_arguments);
    return;
  }
  if (!publish_allowed(op)) return;
  auto& c = counters();
  c.messages_in.add();
  c.bytes_in.add(op.headers.size() + op.payload.size());
  reply_ok();  // before routing, so that with echo the +OK precedes the client's own MSG
  Router& router = ctx_.router;
  // Psycho-* headers are the gateways' own: a client's are not passed on (PROTOCOL.md).
  thread_local std::string header_scratch;
  const std::string_view headers = without_gateway_headers(op.headers, header_scratch);
  const Backpressure pressure = router.publish(make_message(
      {op.subject, op.reply, headers, op.payload}, id(),
      Trace{router.node_id(), router.next_sequence(), 0}, user_ != nullptr ? user_->principal : 0));
  if (pressure.recipient) stall_.recipient = pressure.recipient;
  if (pressure.adapter != nullptr && stall_.adapter == nullptr) {
    stall_.adapter = pressure.adapter;
    stall_.held = pressure.held;
    stall_.drained = pressure.adapter->flow().drained;
  }
  stall_.backlog = stall_.backlog || pressure.backlog;
  stall_.requested = stall_.requested || static_cast<bool>(pressure);
  if (pressure.unrouted && !op.reply.empty()) answer_no_responders(op.reply);
}

// A request that nothing took (no subscriber here, no adapter carrying it on: across NATS,
// nats-server answers the same way itself) gets at once what nats-server sends a client
// that asked for it: an empty message on the reply subject, its header block the status
// line alone. Only to the requester, and only if it listens on the reply subject.
void ClientSession::answer_no_responders(std::string_view reply) {
  if (!no_responders_) return;
  const bool listening = std::any_of(
      subscriptions_.begin(), subscriptions_.end(),
      [&](const std::string& key) { return subject_matches(key.substr(0, key.find(' ')), reply); });
  if (!listening) return;
  static constexpr std::string_view kNoResponders = "NATS/1.0 503\r\n\r\n";
  Router& router = ctx_.router;
  deliver(make_message({reply, {}, kNoResponders, {}}, 0,
                       Trace{router.node_id(), router.next_sequence(), 0}, 0));
}

std::string ClientSession::subscription_key(std::string_view pattern, std::string_view queue) {
  // Neither a pattern nor a queue name holds a space.
  std::string key;
  key.reserve(pattern.size() + 1 + queue.size());
  key.append(pattern).append(1, ' ').append(queue);
  return key;
}

void ClientSession::handle_sub(const protocol::Op& op) {
  if (!is_valid_pattern(op.subject) || (!op.queue.empty() && !is_valid_publish_subject(op.queue))) {
    send_error(protocol::Error::invalid_subject);
    return;
  }
  if (!subscribe_allowed(op.subject)) return;
  std::string key = subscription_key(op.subject, op.queue);
  if (!subscriptions_.contains(key)) {
    const std::size_t limit = subscription_limit();
    if (limit != 0 && subscriptions_.size() >= limit) {
      send_error(protocol::Error::max_subscriptions);
      return;
    }
    if (ctx_.router.subscribe(shared_from_this(), op.subject, op.queue)) {
      subscriptions_.insert(std::move(key));
    }
  }
  reply_ok();
}

void ClientSession::handle_unsub(const protocol::Op& op) {
  if (!is_valid_pattern(op.subject)) {
    send_error(protocol::Error::invalid_subject);
    return;
  }
  if (subscriptions_.erase(subscription_key(op.subject, op.queue)) != 0) {
    ctx_.router.unsubscribe(*this, op.subject, op.queue);
  }
  reply_ok();
}

void ClientSession::reply_ok() {
  if (!verbose_) return;
  protocol::append_ok(out_.bytes);
  commit_bytes();
}

void ClientSession::send_error(protocol::Error e) {
  const auto slot = static_cast<std::size_t>(e);
  if (slot < metrics::kProtocolErrorSlots) counters().protocol_errors[slot].add();
  protocol::append_err(out_.bytes, e);
  commit_bytes();
  if (protocol::closes_connection(e)) {
    log::info("closing client",
              {{"cid", id()}, {"remote", remote_}, {"error", protocol::wire_text(e)}});
    begin_close();
  }
}

// ---------------------------------------------------------------------------- closing

void ClientSession::begin_close() {
  if (closing_or_closed()) return;
  enter(Phase::closing);
  update_congestion();  // clears it: nobody waits for a session that is closing
  remove_subscriptions();
  timer_.cancel();
  timer_.expires_after(kCloseDeadline);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->finish();  // the peer did not take our last bytes in time
  });
  if (!write_in_flight_) flush();
}

void ClientSession::finish() {
  if (phase_ == Phase::closed) return;
  const bool started = phase_ != Phase::handshaking;
  enter(Phase::closed);
  remove_subscriptions();
  timer_.cancel();
  stall_timer_.cancel();
  progress_timer_.cancel();
  auth_timer_.cancel();
  if (user_ != nullptr) ctx_.remove_user_connection(*user_);
  set_user(nullptr);
  leaving_.store(true, std::memory_order_relaxed);
  congested_.store(false, std::memory_order_relaxed);  // nobody should wait for us any more
  do_shutdown();
  // The connection is gone now, even if queued deliveries (or a router match cache) still
  // hold a reference to this object for a moment.
  slot_.release();
  pending_bytes_ -= out_.total;
  out_.clear();
  if (started) {
    counters().connections_closed[static_cast<std::size_t>(transport_)].add();
    ctx_.sessions[worker()].erase(this);
  }
}

void ClientSession::remove_subscriptions() {
  for (const std::string& key : subscriptions_) {
    const std::size_t space = key.find(' ');
    ctx_.router.unsubscribe(*this, std::string_view(key).substr(0, space),
                            std::string_view(key).substr(space + 1));
  }
  subscriptions_.clear();
}

// ---------------------------------------------------------------------------- keepalive

void ClientSession::arm_ping_timer() {
  timer_.expires_after(live().ping_interval);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec && !self->closing_or_closed()) self->on_ping_timer();
  });
}

void ClientSession::on_ping_timer() {
  if (pings_out_ >= live().max_pings_out) {
    counters().stale_connections.add();
    send_error(protocol::Error::stale_connection);
    return;
  }
  ++pings_out_;
  protocol::append_ping(out_.bytes);
  commit_bytes();
  arm_ping_timer();
}

}  // namespace psycho::net
