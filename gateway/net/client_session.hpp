// The Psycho protocol spoken to one client, independent of the transport.
//
// A transport (TCP, TLS, WebSocket, stdio) derives from ClientSession and implements three
// hooks: do_read, do_write and do_shutdown. Everything else — parsing, subscriptions,
// routing, the outbound queue, PING/PONG and closing — lives here, so every transport
// behaves the same. All methods run on the session's worker thread; completion handlers
// hold shared_from_this(), so the session lives exactly as long as it has work pending.
//
// Outbound path: deliver() encodes a per-recipient control line into the session's buffer
// and either copies a small body next to it or references the shared Message for a large
// one; one scatter/gather write sends everything queued since the last write. At most one
// write is in flight; what queues behind it is bounded by max_pending, beyond which the
// client is a slow consumer and is closed.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/rate_limiter.hpp"
#include "core/fabric_link.hpp"
#include "core/mutex.hpp"
#include "core/string_hash.hpp"
#include "core/subscriber.hpp"
#include "metrics/counters.hpp"
#include "net/session_context.hpp"
#include "protocol/connect_options.hpp"
#include "protocol/errors.hpp"
#include "protocol/op.hpp"
#include "protocol/parser.hpp"

namespace psycho::net {

class ClientSession : public Subscriber,
                      public protocol::OpHandler,
                      public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(SessionContext& ctx, int worker, boost::asio::io_context& io,
                metrics::Transport transport, std::string remote);
  ~ClientSession() override;

  // Worker thread: sends INFO and starts reading. Transports that need a handshake call it
  // once the handshake is done.
  void start();
  // Worker thread: flush what is queued, then close (server shutdown).
  void drain();
  // Worker thread, before start(): closes the transport unless start() is reached within
  // `timeout`, so a peer that connects and then stalls a TLS handshake or a WebSocket
  // upgrade cannot hold a socket for ever. False (and the transport closed) when the
  // connection is past max_connections: the caller then starts no handshake.
  [[nodiscard]] bool expect_start_within(std::chrono::steady_clock::duration timeout);

  void deliver(const MessagePtr& message) override;
  Congestion congestion() const noexcept override;
  bool keeps_up() const noexcept override;
  bool may_receive(std::string_view subject) const override;

  const std::string& remote() const noexcept { return remote_; }
  // Worker thread: the configuration was reloaded with `authenticator`; take the user's new
  // permissions and limits (or close, if the user is gone).
  void on_reload(const auth::Authenticator& authenticator);
  // Transports with a verified client certificate pass its common name before start(),
  // for `gateway.auth.tls_map`.
  void set_certificate_name(std::string cn) { cert_cn_ = std::move(cn); }

 protected:
  // Transport hooks. do_read must eventually call on_read or on_read_failed; do_write must
  // call on_write_done; do_shutdown closes the transport and may be called more than once.
  virtual void do_read() = 0;
  virtual void do_write(const std::vector<boost::asio::const_buffer>& buffers) = 0;
  virtual void do_shutdown() = 0;
  // The TCP socket under the transport, or -1 (none: stdio; or closed). Its send queue is how
  // a congested session sees its peer read while a write is still in flight (watch_progress).
  virtual int socket_handle() { return -1; }

  void on_read(std::string_view data);
  void on_read_failed(const std::error_code& ec);
  void on_write_done(const std::error_code& ec);
  bool write_in_flight() const noexcept { return write_in_flight_; }

  boost::asio::io_context& io_;

 private:
  // The life cycle, in order. phase_ changes only through enter(), which checks each step
  // against the one table of transitions (client_session.cpp).
  enum class Phase : std::uint8_t {
    handshaking,  // accepted; a TLS handshake or WebSocket upgrade may run; before start()
    greeting,     // INFO sent; waiting for the first op (with auth: for a good CONNECT)
    verifying,    // a password check runs on the auth pool; input is held, not parsed
    open,         // the client is in
    closing,      // flushing the last bytes, within kCloseDeadline; nothing more is read
    closed,       // finish() ran: transport shut, subscriptions removed, slot released
  };
  void enter(Phase next);
  bool closing_or_closed() const noexcept { return phase_ >= Phase::closing; }

  struct Piece {
    const char* data;    // shared body, or nullptr for bytes inside out_bytes_
    std::size_t offset;  // into the byte buffer when data == nullptr
    std::size_t size;
    MessagePtr owner;  // keeps a shared body alive
  };
  struct Outbox {
    std::string bytes;
    std::vector<Piece> pieces;
    std::size_t total = 0;    // bytes in all pieces
    std::size_t covered = 0;  // prefix of `bytes` already described by pieces
    void clear();
  };

  bool on_op(const protocol::Op& op) override;
  bool over_connection_limit() const;
  // A client must send its first operation within gateway.first_op_timeout (or, when
  // authentication is required, a good CONNECT within auth.timeout).
  void arm_first_op_timer();
  void handle_connect(const protocol::Op& op);
  // Authentication (client_session_auth.cpp).
  bool authenticating() const noexcept {
    return ctx_.auth_required && (phase_ == Phase::greeting || phase_ == Phase::verifying);
  }
  void authenticate(protocol::ConnectOptions options);
  void on_authenticated(const auth::Verdict& verdict, protocol::ConnectOptions options);
  void fail_authentication(std::string_view method, std::string_view user, std::string_view why);
  void apply_connect_options(protocol::ConnectOptions&& options);
  // Permissions and limits of the user; each sends the error itself when it says no.
  void set_user(std::shared_ptr<const auth::User> user);
  bool publish_allowed(const protocol::Op& op);
  bool subscribe_allowed(std::string_view pattern);
  std::size_t subscription_limit() const noexcept;
  bool receives(const Message& message);  // the delivery filter (and allow_responses)
  // allow_responses: note the reply subject of a request delivered to the client; use one up.
  void remember_response(const Message& message);
  bool take_response(std::string_view subject);
  void send_permissions_violation(bool publish, std::string_view subject);
  void handle_pub(const protocol::Op& op);
  void answer_no_responders(std::string_view reply);
  static std::string subscription_key(std::string_view pattern, std::string_view queue);
  void handle_sub(const protocol::Op& op);
  void handle_unsub(const protocol::Op& op);

  void send_error(protocol::Error e);
  void reply_ok();
  void commit_bytes();
  void append_shared(const MessagePtr& owner, std::string_view body);
  void request_flush();
  void flush();
  void begin_close();
  void finish();
  void update_congestion();
  void note_progress();                // progress_at_ = now
  void note_taken(std::size_t bytes);  // the peer took bytes from the send queue
  void watch_progress();  // while congested: a peer taking part of a write is progress too
  void read_next();
  void wait_for_congestion();
  bool still_stalled(std::chrono::steady_clock::time_point now);
  // Parses what a pause held back (held_input_), or reads the socket.
  void resume_reading();
  void arm_ping_timer();
  void on_ping_timer();
  void remove_subscriptions();
  metrics::WorkerCounters& counters() { return ctx_.counters[worker()]; }
  const LiveLimits& live() const { return ctx_.live[worker()]; }

  SessionContext& ctx_;
  metrics::Transport transport_;
  std::string remote_;
  const std::shared_ptr<const Greeting> greeting_;  // before parser_, which it sets up
  protocol::Parser parser_;
  boost::asio::steady_timer timer_;           // PING interval, then the close deadline
  boost::asio::steady_timer stall_timer_;     // flow control: a pause before the next read
  boost::asio::steady_timer progress_timer_;  // watch_progress(), while congested
  bool watching_progress_ = false;
  std::size_t last_unsent_ = SIZE_MAX;  // its send queue when last looked at

  // Options from CONNECT.
  bool verbose_ = true;         // +OK after every op (the seed's behaviour)
  bool echo_ = false;           // receive own publications (the seed did not)
  bool headers_ = false;        // understands HMSG; otherwise headers are stripped
  bool no_responders_ = false;  // asked for a 503 status when a request has no responder
  std::string name_;

  // Authentication state.
  boost::asio::steady_timer auth_timer_;  // from start() to the first op (or a good CONNECT)
  std::string cert_cn_;
  // null: no users, or a token/HMAC client. Set only once the user's connection is counted
  // (add_user_connection), so finish() uncounts exactly when it is set.
  std::shared_ptr<const auth::User> user_;
  // user_ as other threads see it (may_receive): set on this worker, read under the mutex.
  mutable Mutex shared_user_mutex_;
  std::shared_ptr<const auth::User> shared_user_ GUARDED_BY(shared_user_mutex_);
  std::string held_input_;  // read but not parsed: behind a CONNECT being verified, or a pause
  auth::RateLimiter rate_;
  struct Response {
    std::string subject;
    std::chrono::steady_clock::time_point expires;
  };
  std::deque<Response> responses_;  // allow_responses: replies this client may still send

  // "pattern queue" (the queue may be empty): a set, so that a client with 65,536
  // subscriptions does not make each SUB a scan of the others.
  std::unordered_set<std::string, StringHash, std::equal_to<>> subscriptions_;
  Outbox out_, writing_;
  std::vector<boost::asio::const_buffer> gather_;
  std::size_t pending_bytes_ = 0;       // queued + in flight
  std::atomic<bool> congested_{false};  // pending_bytes_ above the high-water mark
  std::atomic<bool> leaving_{false};    // closing or closed, for other threads (keeps_up)
  // steady_clock ticks of the last sign of life while congested: the flag turning on, or
  // progress (note_progress). congestion() says moving while it is kMovingWithin old, stalled
  // (silent, if nothing moved since the flag turned on) after that, and stops holding anyone
  // back once it is kStuckAfter old.
  std::atomic<std::int64_t> progress_at_{0};
  // Whether its peer took kTakenToMove from the send queue since it turned congested, or had
  // within kMovedLately before (where the queue cannot be watched: a write completed). When
  // it pauses: stalled if so, silent if not.
  std::atomic<bool> moved_since_congested_{false};
  std::size_t taken_since_congested_ = 0;           // bytes, seen by watch_progress
  std::chrono::steady_clock::time_point moved_at_;  // when its peer was last seen reading
  // Flow control: why reading is paused, if it is (client_session.cpp, "Flow control").
  struct Stall {
    std::weak_ptr<Subscriber> recipient;  // a congested recipient of our PUBs
    const FabricLink* adapter = nullptr;  // an adapter whose queue to its fabric is full
    MessagePtr held;                      // the message it was full for (flow_for)
    std::uint64_t drained = 0;            // the adapter's progress when last seen moving
    bool backlog = false;                 // deliveries from our worker piling up
    bool requested = false;               // set by a PUB: stop parsing, pause
    std::chrono::steady_clock::time_point started, moved;
    bool any() const { return !recipient.expired() || adapter != nullptr || backlog; }
  } stall_;
  int pings_out_ = 0;
  Phase phase_ = Phase::handshaking;
  bool write_in_flight_ = false, flush_posted_ = false;  // the output loop, in any phase
  ConnectionSlot slot_;
};

}  // namespace psycho::net
