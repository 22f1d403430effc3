// Connection::Impl: the state shared by the caller's threads and the connection's I/O thread.
// Private to the library (it pulls in Asio); see client.hpp for the threading contract.
//
// Locks: out_mu_ guards the outgoing side (out_, write_scheduled_, pings_sent_, out_closed_),
// in_mu_ the incoming side (state, queue, pongs, errors, pending requests). They are never
// held together. sending_, parser_, read_buf_ and handler_ belong to the I/O thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "clients/client.hpp"
#include "clients/stream.hpp"
#include "clients/url.hpp"
#include "protocol/op.hpp"
#include "protocol/parser.hpp"

namespace psycho::client {

// "_INBOX.<64 random bits in hex>." for request() reply subjects.
std::string random_inbox_prefix();

inline Message to_message(const MessageView& m) {
  return Message{std::string(m.subject), std::string(m.reply), std::string(m.headers),
                 std::string(m.payload)};
}

struct Connection::Impl final : protocol::OpHandler {
  enum class State : std::uint8_t { connecting, open, closed };

  Impl(Url url, Options options);
  ~Impl() override;

  // Caller side (client.cpp).
  Status start();  // opens and waits until the handshake is done or failed
  void shutdown(std::chrono::milliseconds drain_timeout);
  // Appends ops under out_mu_ (waiting for room unless on the I/O thread) and wakes the
  // writer. `encode` receives the outgoing buffer.
  template <class Encode>
  Status send(Encode&& encode);
  void kick_writer_locked();
  bool on_io_thread();
  std::string closed_reason_copy() const;

  // I/O thread (session.cpp).
  void on_open(boost::system::error_code ec);
  void do_read();
  void on_read(boost::system::error_code ec, std::size_t n);
  bool on_op(const protocol::Op& op) override;
  void on_info(std::string_view json);
  void on_pong();
  void on_err(std::string_view text);
  void dispatch(const MessageView& m);
  void deliver_reply(const MessageView& m);
  void start_write();
  void on_write(boost::system::error_code ec);
  void fail_connection(std::string reason);
  std::string connect_json() const;

  Url url_;
  Options options_;
  std::string inbox_prefix_;  // "_INBOX.<random>." fixed at construction, read by both sides

  boost::asio::io_context ioc_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<detail::Stream> stream_;  // after ioc_: sockets die before their context
  std::thread thread_;
  std::atomic<bool> stopped_{false};

  // I/O thread only.
  protocol::Parser parser_;
  std::vector<char> read_buf_;
  std::string sending_;  // the batch being written; swapped with out_, capacity reused
  MessageHandler handler_;
  bool got_info_ = false;

  // Outgoing, under out_mu_.
  std::mutex out_mu_;
  std::condition_variable out_cv_;
  std::string out_;
  bool write_scheduled_ = false;  // a start_write is posted or a write is in flight
  bool out_closed_ = false;
  std::uint64_t pings_sent_ = 0;

  // NATS dialect subscription ids, under sub_mu_.
  std::mutex sub_mu_;
  std::unordered_map<std::string, std::uint64_t> sids_;
  std::uint64_t next_sid_ = 0;
  std::once_flag inbox_once_;
  std::atomic<std::uint64_t> next_request_{0};

  // Incoming, under in_mu_.
  mutable std::mutex in_mu_;
  std::condition_variable in_cv_;
  State state_ = State::connecting;
  std::string info_;
  std::string last_error_;
  std::string closed_reason_;
  std::uint64_t pongs_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t dropped_ = 0;
  std::deque<Message> queue_;
  std::unordered_map<std::string, std::optional<Message>> requests_;
};

template <class Encode>
Status Connection::Impl::send(Encode&& encode) {
  std::unique_lock lock(out_mu_);
  // Backpressure: a publisher that outruns the socket waits here instead of growing the
  // buffer. The I/O thread itself never waits (it is the one that drains the buffer).
  if (out_.size() >= options_.max_pending_out && !out_closed_ && !on_io_thread()) {
    out_cv_.wait(lock, [&] { return out_.size() < options_.max_pending_out || out_closed_; });
  }
  if (out_closed_) {
    lock.unlock();
    return fail("connection closed: " + closed_reason_copy());
  }
  encode(out_);
  kick_writer_locked();
  return Ok{};
}

}  // namespace psycho::client
