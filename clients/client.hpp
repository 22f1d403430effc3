// A small blocking-style client for the Psycho protocol (and, for `psycho bench`, for
// nats-server's dialect of it).
//
// Threads: each Connection owns one I/O thread that reads, parses, answers server PINGs and
// writes. The public methods may be called from any thread. publish() only appends to an
// outgoing buffer under a mutex; the I/O thread sends whatever has accumulated in one write,
// so a fast publisher costs no syscall and no allocation per message. When more than
// Options::max_pending_out bytes wait, publish() blocks until the I/O thread catches up
// (except when called from a message handler, which runs on the I/O thread itself).
//
// Receiving: by default messages go to a bounded queue read with next_message(); when it is
// full, new messages are dropped and counted (dropped()). With on_message() the handler is
// called on the I/O thread instead, with views valid only during the call; nothing is
// buffered, so a slow handler slows the socket (and the server sees a slow consumer).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace psycho::client {

enum class Dialect : std::uint8_t {
  psycho,  // the Psycho protocol: no subscription ids
  nats,    // nats-server's client protocol: SUB carries a sid, MSG echoes it
};

struct Options {
  std::string name;
  bool verbose = false;  // ask for +OK after every op (they are read and ignored)
  bool echo = false;     // receive this connection's own publications
  Dialect dialect = Dialect::psycho;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(5);
  // Credentials for CONNECT; the URL's user:pass@ fills them when they are empty here.
  std::string user;
  std::string pass;
  std::string auth_token;
  std::size_t max_queued_messages = 65536;        // next_message() queue bound
  std::size_t max_pending_out = 4 * 1024 * 1024;  // publish() blocks above this
};

struct Message {
  std::string subject;
  std::string reply;
  std::string headers;  // the raw NATS/1.0 header block of an HMSG, else empty
  std::string payload;
};

// What a handler sees: views into the read buffer, valid only during the call.
struct MessageView {
  std::string_view subject;
  std::string_view reply;
  std::string_view headers;
  std::string_view payload;
};

using MessageHandler = std::function<void(const MessageView&)>;

class Connection {
 public:
  // Connects, waits for INFO, sends CONNECT and a PING, and returns once the server answered
  // the PING (so a CONNECT the server rejects, e.g. for credentials, fails here).
  static Result<std::unique_ptr<Connection>> connect(std::string_view url, Options options = {});

  // Sends what publish() buffered (waiting at most ~2 s), then closes and joins the I/O
  // thread. Must not run on the I/O thread (i.e. not inside a message handler).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Empty headers: PUB; otherwise HPUB with `headers` as the full NATS/1.0 header block.
  Status publish(std::string_view subject, std::string_view payload, std::string_view reply = {},
                 std::string_view headers = {});
  // Psycho: the subject (plus queue) is the subscription. NATS: a sid is assigned and kept.
  Status subscribe(std::string_view subject, std::string_view queue = {});
  Status unsubscribe(std::string_view subject, std::string_view queue = {});

  // Sends PING and waits for the PONG: everything sent before was processed by the server.
  Status flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Queue mode: the next message, or nullopt on timeout or once closed and drained.
  std::optional<Message> next_message(std::chrono::milliseconds timeout);

  // Callback mode from now on (messages already queued stay for next_message()). The handler
  // runs on the I/O thread; it may publish(), but must not flush(), request() or block.
  void on_message(MessageHandler handler);

  // Publishes with a unique inbox reply subject and waits for the first answer.
  // Works in both modes: inbox replies never reach the handler or the queue.
  Result<Message> request(std::string_view subject, std::string_view payload,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Text of the most recent -ERR from the server, empty if none.
  std::string last_error() const;
  std::uint64_t errors_received() const;
  // Messages dropped because the next_message() queue was full.
  std::uint64_t dropped() const;
  // False once the connection failed or was closed; closed_reason() says why.
  bool is_open() const;
  std::string closed_reason() const;
  // The JSON of the server's INFO.
  std::string server_info() const;

  // Stops after draining like the destructor; further calls fail. From a message handler it
  // only closes the socket (the I/O thread cannot join itself).
  void close();

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace psycho::client
