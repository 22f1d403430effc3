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
  // Implementation detail: see parser.cpp.
  Limits limits_;
  Role role_;
  Dialect dialect_;
  int state_ = 0;
  std::string scratch_;
};

}  // namespace psycho::protocol
