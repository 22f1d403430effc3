// The caller-side half of Connection: connect, publish, subscribe, flush, receive, request.
#include "clients/client.hpp"

#include <cstdio>
#include <future>
#include <random>

#include <boost/asio/post.hpp>

#include "clients/connection_impl.hpp"
#include "protocol/encoder.hpp"

namespace psycho::client {
namespace {

constexpr std::string_view client_version = "0.1.0";

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
      out += esc;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out += ",\"";
  out += key;
  out += "\":";
  append_json_string(out, value);
}

}  // namespace

std::string random_inbox_prefix() {
  std::random_device rd;
  const std::uint64_t r = (std::uint64_t{rd()} << 32) ^ rd();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
  return std::string("_INBOX.") + hex + ".";
}

using Impl = Connection::Impl;
using namespace std::chrono_literals;

std::string Impl::connect_json() const {
  const auto flag = [](bool b) { return b ? "true" : "false"; };
  std::string json = "{\"verbose\":";
  json += flag(options_.verbose);
  json += ",\"echo\":";
  json += flag(options_.echo);
  json += ",\"headers\":true";
  if (options_.dialect == Dialect::nats) {
    json += ",\"pedantic\":false,\"lang\":\"cpp\",\"version\":\"";
    json += client_version;
    json += "\",\"protocol\":1,\"no_responders\":false";
  }
  append_field(json, "name", options_.name);
  append_field(json, "user", options_.user.empty() ? url_.user : options_.user);
  append_field(json, "pass", options_.pass.empty() ? url_.pass : options_.pass);
  append_field(json, "auth_token", options_.auth_token);
  json += '}';
  return json;
}

Impl::~Impl() { shutdown(0ms); }

bool Impl::on_io_thread() { return ioc_.get_executor().running_in_this_thread(); }

std::string Impl::closed_reason_copy() const {
  std::lock_guard lock(in_mu_);
  return closed_reason_;
}

Status Impl::start() {
  thread_ = std::thread([this] {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        // A throwing message handler ends the connection; the context keeps running so
        // that callers waiting on posted work are still answered.
        fail_connection(std::string("message handler threw: ") + e.what());
      }
    }
  });
  boost::asio::post(ioc_, [this] {
    stream_->async_open(url_, [this](boost::system::error_code ec) { on_open(ec); });
  });
  std::unique_lock lock(in_mu_);
  const bool done =
      in_cv_.wait_for(lock, options_.connect_timeout, [&] { return state_ != State::connecting; });
  if (!done) return fail("timed out connecting to " + url_.to_string());
  if (state_ != State::open) return fail(closed_reason_);
  return Ok{};
}

void Impl::shutdown(std::chrono::milliseconds drain_timeout) {
  if (stopped_.exchange(true)) return;
  {
    // Let the writer send what publish() buffered, so that `pub` followed by exit delivers.
    std::unique_lock lock(out_mu_);
    out_cv_.wait_for(lock, drain_timeout, [&] { return !write_scheduled_ || out_closed_; });
    out_closed_ = true;
    out_cv_.notify_all();
  }
  // Stopping the context (rather than waiting for cancelled handlers) cannot hang; handlers
  // that never ran are destroyed with the context and only capture `this`.
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
  stream_->close();
  std::lock_guard lock(in_mu_);
  if (state_ != State::closed) {
    state_ = State::closed;
    closed_reason_ = "closed by client";
  }
  in_cv_.notify_all();
}

Result<std::unique_ptr<Connection>> Connection::connect(std::string_view url_text,
                                                        Options options) {
  auto url = parse_url(url_text);
  if (!url) return fail(url.error());
  auto impl = std::make_unique<Impl>(std::move(*url), std::move(options));
  if (auto st = impl->start(); !st) return fail(st.error());
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Connection::~Connection() { close(); }

void Connection::close() {
  // From a handler the I/O thread cannot join itself: close the socket and let the
  // destructor (on another thread) finish the job.
  if (impl_->on_io_thread()) return impl_->fail_connection("closed by client");
  impl_->shutdown(2s);
}

Status Connection::publish(std::string_view subject, std::string_view payload,
                           std::string_view reply, std::string_view headers) {
  const bool nats = impl_->options_.dialect == Dialect::nats;
  return impl_->send([&](std::string& out) {
    if (headers.empty()) {
      protocol::append_pub(out, subject, reply, payload);
    } else {
      protocol::append_hpub(out, subject, reply, headers, payload);
    }
    // nats-server insists on CRLF after a payload (control lines may end in a bare LF);
    // the shared encoders end every line in LF, which Psycho prefers.
    if (nats) {
      out.back() = '\r';
      out.push_back('\n');
    }
  });
}

Status Connection::subscribe(std::string_view subject, std::string_view queue) {
  if (impl_->options_.dialect == Dialect::psycho) {
    return impl_->send([&](std::string& out) { protocol::append_sub(out, subject, queue); });
  }
  std::string sid;
  {
    std::lock_guard lock(impl_->sub_mu_);
    std::string key = std::string(subject) + ' ' + std::string(queue);
    if (impl_->sids_.contains(key)) return Ok{};  // as in Psycho: subscribing twice is a no-op
    const auto n = ++impl_->next_sid_;
    impl_->sids_.emplace(std::move(key), n);
    sid = std::to_string(n);
  }
  return impl_->send([&](std::string& out) { protocol::append_sub(out, subject, queue, sid); });
}

Status Connection::unsubscribe(std::string_view subject, std::string_view queue) {
  if (impl_->options_.dialect == Dialect::psycho) {
    return impl_->send([&](std::string& out) { protocol::append_unsub(out, subject, queue); });
  }
  std::string sid;
  {
    std::lock_guard lock(impl_->sub_mu_);
    auto it = impl_->sids_.find(std::string(subject) + ' ' + std::string(queue));
    if (it == impl_->sids_.end()) return Ok{};
    sid = std::to_string(it->second);
    impl_->sids_.erase(it);
  }
  return impl_->send([&](std::string& out) { protocol::append_unsub(out, sid); });
}

Status Connection::flush(std::chrono::milliseconds timeout) {
  if (impl_->on_io_thread()) return fail("flush() from a message handler would deadlock");
  std::uint64_t target = 0;
  auto st = impl_->send([&](std::string& out) {
    protocol::append_ping(out);
    target = ++impl_->pings_sent_;
  });
  if (!st) return st;
  std::unique_lock lock(impl_->in_mu_);
  const bool done = impl_->in_cv_.wait_for(lock, timeout, [&] {
    return impl_->pongs_ >= target || impl_->state_ == Impl::State::closed;
  });
  if (!done) return fail("flush timed out");
  if (impl_->pongs_ < target) return fail("connection closed: " + impl_->closed_reason_);
  return Ok{};
}

std::optional<Message> Connection::next_message(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->in_mu_);
  impl_->in_cv_.wait_for(lock, timeout, [&] {
    return !impl_->queue_.empty() || impl_->state_ == Impl::State::closed;
  });
  if (impl_->queue_.empty()) return std::nullopt;
  Message m = std::move(impl_->queue_.front());
  impl_->queue_.pop_front();
  return m;
}

void Connection::on_message(MessageHandler handler) {
  // handler_ belongs to the I/O thread, so it is handed over there instead of locking on
  // every message. Once stopped there is no I/O thread left to race with.
  if (impl_->on_io_thread() || impl_->stopped_) {
    impl_->handler_ = std::move(handler);
    return;
  }
  std::promise<void> applied;
  auto done = applied.get_future();
  boost::asio::post(impl_->ioc_, [&] {
    impl_->handler_ = std::move(handler);
    applied.set_value();
  });
  done.wait();
}

Result<Message> Connection::request(std::string_view subject, std::string_view payload,
                                    std::chrono::milliseconds timeout) {
  Status inbox = Ok{};
  std::call_once(impl_->inbox_once_, [&] { inbox = subscribe(impl_->inbox_prefix_ + "*"); });
  if (!inbox) return fail(inbox.error());
  const std::string token = std::to_string(++impl_->next_request_);
  {
    std::lock_guard lock(impl_->in_mu_);
    impl_->requests_.emplace(token, std::nullopt);
  }
  auto st = publish(subject, payload, impl_->inbox_prefix_ + token);
  std::unique_lock lock(impl_->in_mu_);
  auto& slot = impl_->requests_[token];
  if (st) {
    impl_->in_cv_.wait_for(
        lock, timeout, [&] { return slot.has_value() || impl_->state_ == Impl::State::closed; });
  }
  std::optional<Message> answer = std::move(slot);
  impl_->requests_.erase(token);
  if (!st) return fail(st.error());
  if (answer) return std::move(*answer);
  if (impl_->state_ == Impl::State::closed)
    return fail("connection closed: " + impl_->closed_reason_);
  return fail("request timed out");
}

std::string Connection::last_error() const {
  std::lock_guard lock(impl_->in_mu_);
  return impl_->last_error_;
}

std::uint64_t Connection::errors_received() const {
  std::lock_guard lock(impl_->in_mu_);
  return impl_->errors_;
}

std::uint64_t Connection::dropped() const {
  std::lock_guard lock(impl_->in_mu_);
  return impl_->dropped_;
}

bool Connection::is_open() const {
  std::lock_guard lock(impl_->in_mu_);
  return impl_->state_ == Impl::State::open;
}

std::string Connection::closed_reason() const { return impl_->closed_reason_copy(); }

std::string Connection::server_info() const {
  std::lock_guard lock(impl_->in_mu_);
  return impl_->info_;
}

}  // namespace psycho::client
