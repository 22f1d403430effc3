// One parsed protocol operation. All views point into the parser's input or its scratch buffer
// and are valid only during the OpHandler::on_op call that receives them.
#pragma once

#include <cstdint>
#include <string_view>

namespace psycho::protocol {

enum class OpKind : std::uint8_t {
  // client -> server
  connect,
  pub,
  hpub,
  sub,
  unsub,
  // both directions
  ping,
  pong,
  // server -> client
  info,
  msg,
  hmsg,
  ok,
  err,
};

// Which side of the connection the parser sits on, and so which ops it accepts.
enum class Role : std::uint8_t {
  server,  // parses what clients send: CONNECT PUB HPUB SUB UNSUB PING PONG
  client,  // parses what servers send: INFO MSG HMSG +OK -ERR PING PONG
};

// Psycho has no subscription ids. The NATS dialect (used only by `psycho bench` to drive
// nats-server with the same load generator) carries a sid in SUB, MSG and HMSG.
enum class Dialect : std::uint8_t { psycho, nats };

struct Op {
  OpKind kind{};
  std::string_view subject;  // PUB HPUB SUB UNSUB MSG HMSG
  std::string_view reply;    // PUB HPUB MSG HMSG: optional reply subject, empty if absent
  std::string_view queue;    // SUB UNSUB: optional queue group, empty if absent
  std::string_view sid;      // NATS dialect SUB MSG HMSG only
  std::string_view args;     // CONNECT / INFO: the JSON text; -ERR: the text without quotes
  std::string_view headers;  // HPUB HMSG: the header block, "NATS/1.0\r\n...\r\n\r\n"
  std::string_view payload;  // PUB HPUB MSG HMSG: the body after the header block
};

class OpHandler {
 public:
  virtual ~OpHandler() = default;
  // Called once per complete op, on the thread that called Parser::feed.
  // Return false to stop parsing: feed() then returns without reading further input.
  virtual bool on_op(const Op& op) = 0;
};

}  // namespace psycho::protocol
