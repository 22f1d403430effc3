// Incremental parser for the Psycho wire protocol (and the NATS client dialect).
//
// Bytes arrive in arbitrary pieces: TCP reads and WebSocket frames never line up with ops.
// feed() walks an explicit state machine over each piece; an op that lies entirely within
// one piece is handed out as views into that piece (zero copy). Only an op split across
// pieces is copied, into a scratch buffer bounded by the limits, so memory per connection
// never exceeds max_control_line + max_payload + a few bytes whatever the peer sends.
//
// Limits are enforced before anything is buffered: an over-long control line is rejected as
// soon as max_control_line bytes have been seen without a line end, and a PUB whose size
// field exceeds max_payload is rejected when its control line ends.
#pragma once

#include <cstddef>
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
  // (a protocol::Error); after an error the parser must not be fed again.
  std::error_code feed(std::string_view data, OpHandler& handler);

  const Limits& limits() const noexcept { return limits_; }

  // Bytes currently held in the scratch buffer (for tests of the memory bound).
  std::size_t buffered() const noexcept { return scratch_.size(); }

 private:
  enum class State { line, body, body_end };
  struct Args;

  std::error_code read_line(std::string_view data, std::size_t& i, OpHandler& handler, bool& go_on);
  std::error_code on_line(std::string_view line, std::string_view data, std::size_t& i,
                          OpHandler& handler, bool& go_on);
  void read_body(std::string_view data, std::size_t& i);
  std::error_code read_body_end(std::string_view data, std::size_t& i, OpHandler& handler,
                                bool& go_on);
  static Args split(std::string_view s) noexcept;
  std::error_code decode(std::string_view line);
  std::error_code decode_pub(const Args& a, OpKind kind);
  std::error_code decode_msg(const Args& a, OpKind kind);
  std::error_code decode_sub(const Args& a, OpKind kind);
  std::error_code decode_sizes(const Args& a, std::size_t sizes);
  void stash_line(std::string_view line);
  void set_body(std::string_view body);
  void reset_scratch();

  Limits limits_;
  Role role_;
  Dialect dialect_;
  int state_ = 0;
  std::string scratch_;  // a split control line, then (for PUB & co.) the body behind it
  Op op_;                // the op being assembled
  bool has_body_ = false;
  bool seen_cr_ = false;
  std::size_t header_size_ = 0;
  std::size_t body_size_ = 0;  // headers + payload
  std::size_t line_size_ = 0;  // control line length at the front of scratch_
};

}  // namespace psycho::protocol
