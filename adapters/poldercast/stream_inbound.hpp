// One accepted link of the stream transport: reads frames, answers the responder's side of
// the handshake, and enforces the link's deadlines. Private to the transport (stream_core.hpp).
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/poldercast/stream_core.hpp"

namespace psycho::poldercast::detail {

// Reads frames and hands each to on_message as a view into its FrameBuffer, whose size
// follows the bytes that arrived. One timer enforces both deadlines: the idle timeout
// (nothing arrived for a while) and the frame timeout (a frame started but is not whole
// yet), so a peer can hold a connection neither by silence nor by trickling a frame.
class Inbound : public std::enable_shared_from_this<Inbound> {
 public:
  Inbound(StreamCore& core, tcp::socket socket, asio::ip::address remote);
  void start();
  void detach();

  const asio::ip::address& remote() const { return remote_; }
  std::size_t buffer_bytes() const { return frames_.capacity(); }
  // The node this link proved to be (0 before its handshake, or without security).
  std::uint64_t peer() const { return link_ && link_->ready() ? link_->peer() : 0; }

 private:
  void do_read();
  void on_read(const ErrorCode& ec, std::size_t n);

  // The gateway is behind on what the links deliver: read again once it has caught up, or
  // after kMaxReadPause regardless.
  void pause();

  // Delivers every whole frame buffered. False when the connection is gone (an oversized
  // frame, or the callback closed the transport).
  bool deliver();

  // One frame: a handshake message, or an overlay message (sealed on a secure link). False
  // when the connection is gone.
  bool receive(std::string_view frame);

  // The responder's side: message 1 gets message 2 back, message 3 finishes.
  bool handshake(std::string_view frame);

  // The earlier of the deadlines; max when none applies.
  Clock::time_point deadline() const;

  // Activity only moves the deadlines later, which the pending wait finds when it fires;
  // only an earlier deadline (a frame that starts) re-arms it.
  void watch();
  void on_timer();

  StreamCore* core_;
  tcp::socket socket_;
  const asio::ip::address remote_;
  asio::steady_timer timer_;
  bool waiting_ = false;      // a wait on timer_ is pending
  asio::steady_timer pause_;  // flow control: a wait before the next read
  Clock::time_point paused_at_;
  FrameBuffer frames_;
  Clock::time_point last_active_, started_;
  std::optional<Clock::time_point> frame_started_;  // first byte of the incomplete frame
  std::unique_ptr<SecureLink> link_;                // null on a plaintext transport
  std::string reply_;                               // the handshake message being written back
  std::string opened_;                              // the last frame, unsealed
};

}  // namespace psycho::poldercast::detail
