// Incremental parser for the Psycho wire protocol (and the NATS client dialect).
//
// Bytes arrive in arbitrary pieces: TCP reads and WebSocket frames never line up with ops.
// feed() walks an explicit state machine over each piece; an op that lies entirely within
// one piece is handed out as views into that piece (zero copy). Only an op split across
// pieces is copied, into a scratch buffer bounded by the limits: it never holds more than
// max_control_line + max_payload bytes, whatever the peer sends.
//
// Limits are enforced before anything is buffered: an over-long control line is rejected as
// soon as more than max_control_line bytes (not counting a final CR) have been seen without a
// line end, and a PUB whose size field exceeds max_payload is rejected when its control line
// ends, before any of its body is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "protocol/limits.hpp"
#include "protocol/op.hpp"

namespace psycho::protocol {

class Parser {
 public:
  explicit Parser(Limits limits, Role role = Role::server, Dialect dialect = Dialect::psycho);

  // Parses `data`, calling handler.on_op for each complete op. Returns the first error
  // (a protocol::Error); no op after it is delivered, and every later feed returns the same
  // error (the caller is expected to close the connection). If on_op returns false, feed
  // returns {} at once and the rest of `data` is left unread.
  std::error_code feed(std::string_view data, OpHandler& handler);

  const Limits& limits() const noexcept { return limits_; }
  // How many bytes of the last feed() were parsed; less than its size only when on_op
  // stopped it (the rest can be fed again later).
  std::size_t consumed() const noexcept { return consumed_; }

  // Bytes currently held in the scratch buffer (for tests of the memory bound).
  std::size_t buffered() const noexcept { return scratch_.size(); }

 private:
  // Where the stream is between two bytes. Each piece fed may end in any of them.
  enum class State : std::uint8_t {
    line,      // reading a control line; a part of it may already be held in scratch_
    line_cr,   // a held line ended in CR at the end of a piece: it is the line end if LF follows
    body,      // collecting a split body into scratch_, behind its control line
    body_end,  // the body is complete; LF or CR must follow
    body_lf,   // CR seen after the body; LF must follow
    failed,    // an error was returned; every later feed returns it again
  };
  struct Args;

  std::error_code read_line(std::string_view data, std::size_t& i, OpHandler& handler);
  std::error_code on_line(std::string_view line, std::string_view data, std::size_t& i,
                          OpHandler& handler);
  std::error_code start_body(std::string_view line, std::string_view data, std::size_t& i,
                             OpHandler& handler);
  void read_body(std::string_view data, std::size_t& i);
  void deliver(OpHandler& handler);
  void deliver_kept(OpHandler& handler);
  static Args split(std::string_view s) noexcept;
  std::error_code decode(std::string_view line);
  std::error_code decode_pub(const Args& a, OpKind kind);
  std::error_code decode_msg(const Args& a, OpKind kind);
  std::error_code decode_sub(const Args& a, OpKind kind);
  std::error_code decode_sizes(const Args& a, std::size_t sizes);
  void keep_line(std::string_view line);
  void set_body(std::string_view body);

  Limits limits_;
  Role role_;
  Dialect dialect_;
  State state_ = State::line;
  bool stop_ = false;         // the handler asked to stop
  std::size_t consumed_ = 0;  // bytes of the last feed() parsed
  std::error_code error_;     // the error that put the parser in State::failed
  // A split control line, then (for ops with a body) the body behind it. Cleared after each
  // op but never shrunk: its capacity is bounded by the limits and reused by the next op.
  std::string scratch_;
  Op op_;  // the op being assembled
  std::size_t header_size_ = 0;
  std::size_t body_size_ = 0;  // headers + payload
  std::size_t line_size_ = 0;  // control line length at the front of scratch_
};

}  // namespace psycho::protocol
