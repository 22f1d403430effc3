// The I/O-thread half of Connection::Impl: handshake, read loop, op dispatch, batched writes.
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/error.hpp>

#include "clients/connection_impl.hpp"
#include "protocol/encoder.hpp"

namespace psycho::client {
namespace {

constexpr std::size_t read_buffer_size = 128 * 1024;

protocol::Dialect to_protocol(Dialect d) {
  return d == Dialect::nats ? protocol::Dialect::nats : protocol::Dialect::psycho;
}

protocol::Limits client_limits() {
  // The server decides what it sends; these only bound the parser's scratch buffer. They are
  // generous because nats-server may be configured with payloads up to 64 MiB.
  protocol::Limits limits;
  limits.max_control_line = 64 * 1024;
  limits.max_payload = 64 * 1024 * 1024;
  return limits;
}

}  // namespace

using Impl = Connection::Impl;

Impl::Impl(Url url, Options options)
    : url_(std::move(url)),
      options_(std::move(options)),
      inbox_prefix_(random_inbox_prefix()),
      work_(ioc_.get_executor()),
      stream_(detail::make_stream(ioc_, url_.scheme)),
      parser_(client_limits(), protocol::Role::client, to_protocol(options_.dialect)),
      read_buf_(read_buffer_size) {}

void Impl::on_open(boost::system::error_code ec) {
  if (ec) return fail_connection("cannot connect to " + url_.to_string() + ": " + ec.message());
  do_read();
}

void Impl::do_read() {
  stream_->async_read_some(boost::asio::buffer(read_buf_),
                           [this](boost::system::error_code ec, std::size_t n) { on_read(ec, n); });
}

void Impl::on_read(boost::system::error_code ec, std::size_t n) {
  if (ec) {
    const bool eof = ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
                     ec == boost::beast::websocket::error::closed;
    return fail_connection(eof ? "connection closed by server" : "read failed: " + ec.message());
  }
  if (auto perr = parser_.feed(std::string_view(read_buf_.data(), n), *this)) {
    return fail_connection("protocol error from server: " + perr.message());
  }
  {
    std::lock_guard lock(in_mu_);
    if (state_ == State::closed) return;  // failed while parsing (e.g. -ERR in handshake)
  }
  do_read();
}

bool Impl::on_op(const protocol::Op& op) {
  using protocol::OpKind;
  switch (op.kind) {
    case OpKind::msg:
    case OpKind::hmsg:
      dispatch(MessageView{op.subject, op.reply, op.headers, op.payload});
      break;
    case OpKind::ping:
      // Answering on the I/O thread never waits for buffer room, so this cannot deadlock.
      (void)send([](std::string& out) { protocol::append_pong(out); });
      break;
    case OpKind::pong:
      on_pong();
      break;
    case OpKind::info:
      on_info(op.args);
      break;
    case OpKind::err:
      on_err(op.args);
      break;
    default:  // +OK in verbose mode: nothing to do
      break;
  }
  return true;
}

void Impl::on_info(std::string_view json) {
  {
    std::lock_guard lock(in_mu_);
    info_ = std::string(json);
  }
  if (got_info_) return;  // a later INFO (cluster update) needs no handshake
  got_info_ = true;
  // CONNECT then PING: the PONG proves the server accepted CONNECT (it answers -ERR
  // otherwise), which is when start() reports success.
  const std::string json_text = connect_json();
  (void)send([&](std::string& out) {
    protocol::append_connect(out, json_text);
    protocol::append_ping(out);
    ++pings_sent_;
  });
}

void Impl::on_pong() {
  std::lock_guard lock(in_mu_);
  ++pongs_;
  if (state_ == State::connecting) state_ = State::open;
  in_cv_.notify_all();
}

void Impl::on_err(std::string_view text) {
  bool handshake = false;
  {
    std::lock_guard lock(in_mu_);
    last_error_ = std::string(text);
    ++errors_;
    handshake = state_ == State::connecting;
    in_cv_.notify_all();
  }
  if (handshake) fail_connection("server refused the connection: " + std::string(text));
}

void Impl::dispatch(const MessageView& m) {
  if (m.subject.starts_with(inbox_prefix_)) return deliver_reply(m);
  if (handler_) return handler_(m);
  std::lock_guard lock(in_mu_);
  if (queue_.size() >= options_.max_queued_messages) {
    ++dropped_;
    return;
  }
  queue_.push_back(to_message(m));
  in_cv_.notify_all();
}

void Impl::deliver_reply(const MessageView& m) {
  const std::string token(m.subject.substr(inbox_prefix_.size()));
  std::lock_guard lock(in_mu_);
  auto it = requests_.find(token);
  if (it == requests_.end() || it->second) return;  // late or duplicate answer: ignored
  it->second = to_message(m);
  in_cv_.notify_all();
}

void Impl::kick_writer_locked() {
  if (write_scheduled_) return;  // the writer will pick up what was appended
  write_scheduled_ = true;
  boost::asio::post(ioc_, [this] { start_write(); });
}

void Impl::start_write() {
  {
    std::lock_guard lock(out_mu_);
    if (out_.empty() || out_closed_) {
      write_scheduled_ = false;
      out_cv_.notify_all();  // drain() waiters
      return;
    }
    sending_.swap(out_);
    out_cv_.notify_all();  // publishers blocked on a full buffer
  }
  stream_->async_write(boost::asio::buffer(sending_),
                       [this](boost::system::error_code ec, std::size_t) { on_write(ec); });
}

void Impl::on_write(boost::system::error_code ec) {
  if (ec) return fail_connection("write failed: " + ec.message());
  sending_.clear();
  start_write();
}

void Impl::fail_connection(std::string reason) {
  {
    std::lock_guard lock(out_mu_);
    out_closed_ = true;
    write_scheduled_ = false;
    out_cv_.notify_all();
  }
  {
    std::lock_guard lock(in_mu_);
    if (state_ != State::closed) {
      state_ = State::closed;
      closed_reason_ = std::move(reason);
    }
    in_cv_.notify_all();
  }
  stream_->close();
}

}  // namespace psycho::client
