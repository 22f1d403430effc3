// ClientSession: authentication, permissions and per-user limits (docs/security.md).
#include <boost/asio/post.hpp>

#include <algorithm>

#include "core/log.hpp"
#include "net/auth_pool.hpp"
#include "net/client_session.hpp"
#include "protocol/encoder.hpp"

namespace psycho::net {

namespace {
// allow_responses: how many reply subjects of received requests a client may hold at once;
// the oldest is forgotten first.
constexpr std::size_t kRememberedReplies = 256;
}  // namespace

void ClientSession::arm_first_op_timer() {
  if (authenticating()) {
    auth_timer_.expires_after(ctx_.authenticator()->timeout());
    auth_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || !self->authenticating()) return;  // in, or closing
      self->fail_authentication("none", self->name_, "no valid CONNECT within the auth timeout");
    });
    return;
  }
  // Without this, a client that connects and says nothing holds its slot until the PINGs
  // find it stale: several ping intervals. The stdio client is the one trusted pipe of a
  // parent process and holds no network slot: it may stay quiet as long as it likes.
  if (transport_ == metrics::Transport::stdio) return;
  auth_timer_.expires_after(ctx_.config.first_op_timeout);
  auth_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->phase_ != Phase::greeting) return;  // heard an op, or closing
    log::info("closing client: no operation within first_op_timeout",
              {{"cid", self->id()}, {"remote", self->remote_}});
    self->send_error(protocol::Error::stale_connection);
  });
}

void ClientSession::authenticate(protocol::ConnectOptions options) {
  std::shared_ptr<auth::Authenticator> authenticator = ctx_.authenticator();
  if (!authenticator->is_slow(options, cert_cn_)) {
    const auth::Verdict verdict = authenticator->verify(options, cert_cn_);
    on_authenticated(verdict, std::move(options));
    return;
  }
  // bcrypt takes a quarter of a second on purpose: not on this worker, which serves other
  // clients. Parsing stops until the verdict is back (on_op returns false while verifying).
  enter(Phase::verifying);
  auto self = shared_from_this();
  const bool queued = ctx_.auth_pool->submit([self, authenticator, options]() mutable {
    auth::Verdict verdict = authenticator->verify(options, self->cert_cn_);
    boost::asio::post(self->io_,
                      [self, verdict = std::move(verdict), options = std::move(options)]() mutable {
                        self->on_authenticated(verdict, std::move(options));
                      });
  });
  if (!queued) {
    enter(Phase::greeting);
    fail_authentication("password", options.user, "too many logins in progress");
  }
}

void ClientSession::on_authenticated(const auth::Verdict& verdict,
                                     protocol::ConnectOptions options) {
  const bool resumed = phase_ == Phase::verifying;
  if (closing_or_closed()) return;
  if (resumed) enter(Phase::greeting);
  const std::string_view method = auth::method_name(verdict.method);
  if (!verdict.ok) {
    fail_authentication(method, options.user, verdict.reason);
    return;
  }
  if (verdict.user != nullptr && !ctx_.add_user_connection(*verdict.user)) {
    log::warn("connection refused", {{"cid", id()},
                                     {"remote", remote_},
                                     {"user", verdict.user->name},
                                     {"reason", "the user's max_connections"}});
    send_error(protocol::Error::max_connections);
    return;
  }
  set_user(verdict.user);
  enter(Phase::open);
  auth_timer_.cancel();
  if (user_ != nullptr && user_->publish_rate.enabled())
    rate_ = auth::RateLimiter(user_->publish_rate);
  log::debug("client authenticated",
             {{"cid", id()}, {"user", user_ != nullptr ? user_->name : ""}, {"method", method}});
  apply_connect_options(std::move(options));
  reply_ok();
  if (!resumed) return;
  read_next();  // parses what arrived behind the CONNECT first, then reads on
}

void ClientSession::fail_authentication(std::string_view method, std::string_view user,
                                        std::string_view why) {
  counters().auth_failures.add();
  // The reason never holds a secret; neither does anything else logged here.
  log::warn(
      "authentication failed",
      {{"cid", id()}, {"remote", remote_}, {"method", method}, {"user", user}, {"reason", why}});
  send_error(protocol::Error::authorization_violation);
}

bool ClientSession::publish_allowed(const protocol::Op& op) {
  const std::size_t size = op.headers.size() + op.payload.size();
  if (user_ != nullptr) {
    if (user_->max_payload != 0 && size > user_->max_payload) {
      send_error(protocol::Error::payload_too_large);
      return false;
    }
    if (!user_->permissions.may_publish(op.subject) && !take_response(op.subject)) {
      send_permissions_violation(true, op.subject);
      return false;
    }
  }
  if (!rate_.allow(size)) {
    send_error(protocol::Error::rate_limited);
    return false;
  }
  return true;
}

bool ClientSession::subscribe_allowed(std::string_view pattern) {
  if (user_ == nullptr || user_->permissions.may_subscribe(pattern)) return true;
  send_permissions_violation(false, pattern);
  return false;
}

std::size_t ClientSession::subscription_limit() const noexcept {
  if (user_ != nullptr && user_->max_subscriptions != 0) return user_->max_subscriptions;
  return live().max_subscriptions;
}

void ClientSession::set_user(std::shared_ptr<const auth::User> user) {
  user_ = std::move(user);
  MutexLock lock(shared_user_mutex_);
  shared_user_ = user_;
}

bool ClientSession::may_receive(std::string_view subject) const {
  std::shared_ptr<const auth::User> user;
  {
    MutexLock lock(shared_user_mutex_);
    user = shared_user_;
  }
  return user == nullptr || !user->permissions.filters_delivery() ||
         user->permissions.may_receive(subject);
}

bool ClientSession::receives(const Message& m) {
  const auth::Permissions& p = user_->permissions;
  if (p.filters_delivery() && !p.may_receive(m.subject())) return false;
  if (p.allow_responses() && !m.reply().empty()) remember_response(m);
  return true;
}

void ClientSession::remember_response(const Message& m) {
  // Only a request someone else sent earns the right to answer it: a client that could
  // answer its own messages (echo, or a second connection of the same user) could name any
  // subject as the reply and then publish there.
  if (m.origin() == id() || m.publisher() == user_->principal) return;
  if (responses_.size() >= kRememberedReplies) responses_.pop_front();
  responses_.push_back({std::string(m.reply()),
                        std::chrono::steady_clock::now() + user_->permissions.response_expiry()});
}

bool ClientSession::take_response(std::string_view subject) {
  if (!user_->permissions.allow_responses()) return false;
  const auto now = std::chrono::steady_clock::now();
  // Entries live equally long unless a reload changed response_expiry, so the expired ones
  // are mostly at the front; the search below checks each entry's own deadline anyway.
  while (!responses_.empty() && responses_.front().expires <= now) responses_.pop_front();
  auto it = std::find_if(responses_.begin(), responses_.end(), [&](const Response& r) {
    return r.subject == subject && r.expires > now;
  });
  if (it == responses_.end()) return false;
  responses_.erase(it);  // once
  return true;
}

void ClientSession::on_reload(const auth::Authenticator& authenticator) {
  if (closing_or_closed() || user_ == nullptr) return;
  std::shared_ptr<const auth::User> fresh = authenticator.find_user(user_->name);
  if (fresh == nullptr) {
    log::info("closing client: its user was removed", {{"cid", id()}, {"user", user_->name}});
    send_error(protocol::Error::authorization_violation);
    return;
  }
  set_user(std::move(fresh));
  if (user_->publish_rate.enabled()) rate_ = auth::RateLimiter(user_->publish_rate);
}

void ClientSession::send_permissions_violation(bool publish, std::string_view subject) {
  counters()
      .protocol_errors[static_cast<std::size_t>(protocol::Error::permissions_violation)]
      .add();
  log::debug("permissions violation", {{"cid", id()},
                                       {"user", user_ != nullptr ? user_->name : ""},
                                       {"direction", publish ? "publish" : "subscribe"},
                                       {"subject", subject}});
  protocol::append_permissions_violation(out_.bytes, publish, subject);
  commit_bytes();
}

}  // namespace psycho::net
