#include "adapters/poldercast/stream_transport.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "adapters/poldercast/frame_buffer.hpp"
#include "adapters/poldercast/link_listener.hpp"
#include "adapters/wire_bytes.hpp"
#include "core/host_port.hpp"

namespace psycho::poldercast {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

namespace {

constexpr std::size_t kHeader = FrameBuffer::kHeader;
// Per write system call; the same as asio's own transfer_all().
constexpr std::size_t kMaxWriteChunk = 64 * 1024;
// An inbound link waits while the gateway is behind on what links deliver: checked this
// often, for at most kMaxReadPause before each read (as a local publisher waits for its
// subscribers: a subscriber that never reads is cut off as a slow consumer, not the link).
constexpr auto kReadPauseStep = std::chrono::microseconds(500);
constexpr auto kMaxReadPause = std::chrono::milliseconds(50);

bool enabled(std::chrono::milliseconds timeout) { return timeout.count() > 0; }

}  // namespace

namespace detail {

class Inbound;
class Outbound;

// What the connections share. A connection's pointer to it is cleared when the connection
// is forgotten or the transport closes, and every handler checks it first: that is how no
// callback follows close(), and why handlers may outlive the core.
class StreamCore : public std::enable_shared_from_this<StreamCore> {
 public:
  StreamCore(asio::io_context& io, StreamTransportOptions options, TransportEvents& events,
             LinkEvents* links)
      : io_(io), options_(options), events_(events), links_(links) {}

  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  bool send(const std::string& address, std::uint64_t peer, const SharedBytes& message);
  void close();
  bool closed() const { return closed_; }
  void disconnect(std::uint64_t peer);
  // Whether `peer` is cut off for flooding (forgetting bans that ran out).
  bool banned(std::uint64_t peer) {
    auto it = banned_.find(peer);
    if (it == banned_.end()) return false;
    if (Clock::now() < it->second) return true;
    banned_.erase(it);
    return false;
  }
  void refuse(Refusal reason) { ++counters_.refused[static_cast<std::size_t>(reason)]; }
  // The frame limit on a link: before its handshake, a handshake message's.
  std::size_t first_frame_limit() const {
    return options_.security ? kMaxHandshakeMessage : options_.max_frame;
  }
  void forget(Outbound& c);
  void forget(Inbound& c);

  asio::io_context& io_;
  StreamTransportOptions options_;  // security is set once, before any connection
  TransportEvents& events_;
  LinkEvents* const links_;  // may be null
  StreamTransportCounters counters_;
  std::size_t backed_up_links_ = 0;  // outbound links whose backed_up() is true
  std::unordered_map<std::string, std::shared_ptr<Outbound>> outbound_;
  std::unordered_set<std::shared_ptr<Inbound>> inbound_;
  std::shared_ptr<LinkListener> listener_;  // once listening
  // Nodes cut off for flooding, until when; at most kMaxBanned.
  std::unordered_map<std::uint64_t, Clock::time_point> banned_;

 private:
  void admit(tcp::socket socket, const asio::ip::address& remote);

  bool closed_ = false;
};

// Reads frames and hands each to on_message as a view into its FrameBuffer, whose size
// follows the bytes that arrived. One timer enforces both deadlines: the idle timeout
// (nothing arrived for a while) and the frame timeout (a frame started but is not whole
// yet), so a peer can hold a connection neither by silence nor by trickling a frame.
class Inbound : public std::enable_shared_from_this<Inbound> {
 public:
  Inbound(StreamCore& core, tcp::socket socket, asio::ip::address remote)
      : core_(&core),
        socket_(std::move(socket)),
        remote_(std::move(remote)),
        timer_(core.io_),
        pause_(core.io_),
        frames_(core.first_frame_limit()) {
    if (core.options_.security) link_ = core.options_.security->start(false);
  }

  void start() {
    last_active_ = started_ = Clock::now();
    watch();
    do_read();
  }

  void detach() {
    core_ = nullptr;
    ErrorCode ignored;  // nothing to report about a socket we are dropping
    timer_.cancel();
    pause_.cancel();
    socket_.close(ignored);
  }

  const asio::ip::address& remote() const { return remote_; }
  std::size_t buffer_bytes() const { return frames_.capacity(); }
  // The node this link proved to be (0 before its handshake, or without security).
  std::uint64_t peer() const { return link_ && link_->ready() ? link_->peer() : 0; }

 private:
  void do_read() {
    const auto space = frames_.space();
    socket_.async_read_some(
        asio::buffer(space.data(), space.size()),
        [self = shared_from_this()](const ErrorCode& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const ErrorCode& ec, std::size_t n) {
    if (core_ == nullptr) return;
    if (ec) return core_->forget(*this);  // EOF or reset: the peer is done
    core_->counters_.bytes_received += n;
    frames_.commit(n);
    last_active_ = Clock::now();
    if (!deliver()) return;
    watch();
    if (core_->links_ != nullptr && core_->links_->receiving_congested()) {
      paused_at_ = Clock::now();
      ++core_->counters_.read_pauses;
      return pause();
    }
    do_read();
  }

  // The gateway is behind on what the links deliver: read again once it has caught up, or
  // after kMaxReadPause regardless.
  void pause() {
    pause_.expires_after(kReadPauseStep);
    pause_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      if (ec || self->core_ == nullptr) return;
      if (self->core_->links_->receiving_congested() &&
          Clock::now() - self->paused_at_ < kMaxReadPause) {
        return self->pause();
      }
      self->do_read();
    });
  }

  // Delivers every whole frame buffered. False when the connection is gone (an oversized
  // frame, or the callback closed the transport).
  bool deliver() {
    bool delivered = false;
    std::string_view frame;
    for (;;) {
      const auto next = frames_.next(frame);
      if (next == FrameBuffer::Next::more) break;
      if (next == FrameBuffer::Next::oversized) {
        // Before the handshake ends, anything above a handshake message's size is one.
        if (link_ && !link_->ready()) {
          core_->refuse(Refusal::malformed);
        } else {
          ++core_->counters_.dropped_oversized;
        }
        core_->forget(*this);
        return false;
      }
      delivered = true;
      if (!receive(frame)) return false;
    }
    // What is left started arriving in this read if a frame ended in it, or earlier.
    if (!frames_.partial()) {
      frame_started_.reset();
    } else if (delivered || !frame_started_) {
      frame_started_ = last_active_;
    }
    return true;
  }

  // One frame: a handshake message, or an overlay message (sealed on a secure link). False
  // when the connection is gone.
  bool receive(std::string_view frame) {
    if (link_ && !link_->ready()) return handshake(frame);
    ++core_->counters_.frames_received;
    std::uint64_t sender = 0;
    if (link_) {
      opened_.clear();
      if (!link_->open(frame, opened_)) {
        core_->refuse(Refusal::bad_frame);
        core_->forget(*this);
        return false;
      }
      frame = opened_;
      sender = link_->peer();
    }
    core_->events_.on_message(frame, sender);
    return core_ != nullptr;
  }

  // The responder's side: message 1 gets message 2 back, message 3 finishes.
  bool handshake(std::string_view frame) {
    std::string reply;
    if (const auto r = link_->on_message(frame, reply); r != Refusal::none) {
      core_->refuse(r);
      core_->forget(*this);
      return false;
    }
    if (link_->ready()) {
      if (core_->banned(link_->peer())) {
        core_->refuse(Refusal::banned);
        core_->forget(*this);
        return false;
      }
      ++core_->counters_.handshakes;
      frames_.set_max_frame(core_->options_.max_frame + noise::kTag);
    }
    if (reply.empty()) return true;
    reply_.resize(kHeader);
    store_be(reply.size(), kHeader, reply_.data());
    reply_ += reply;
    // The only write on an inbound link; reply_ stays put until it completes.
    asio::async_write(socket_, asio::buffer(reply_),
                      [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                        if (ec && self->core_ != nullptr) self->core_->forget(*self);
                      });
    return true;
  }

  // The earlier of the deadlines; max when none applies.
  Clock::time_point deadline() const {
    const auto& o = core_->options_;
    auto at = Clock::time_point::max();
    if (link_ && !link_->ready()) at = started_ + o.handshake_timeout;
    if (enabled(o.idle_timeout)) at = std::min(at, last_active_ + o.idle_timeout);
    if (enabled(o.frame_timeout) && frame_started_) {
      at = std::min(at, *frame_started_ + o.frame_timeout);
    }
    return at;
  }

  // Activity only moves the deadlines later, which the pending wait finds when it fires;
  // only an earlier deadline (a frame that starts) re-arms it.
  void watch() {
    const auto at = deadline();
    if (at == Clock::time_point::max() || (waiting_ && timer_.expiry() <= at)) return;
    waiting_ = true;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      // Cancelled, or stale: expires_at() moved on and a newer wait is pending.
      if (ec || self->core_ == nullptr || self->timer_.expiry() > Clock::now()) return;
      self->waiting_ = false;
      self->on_timer();
    });
  }

  void on_timer() {
    const auto now = Clock::now();
    const auto& o = core_->options_;
    if (link_ && !link_->ready() && now >= started_ + o.handshake_timeout) {
      core_->refuse(Refusal::timeout);
      return core_->forget(*this);
    }
    if (enabled(o.frame_timeout) && frame_started_ && now - *frame_started_ >= o.frame_timeout) {
      ++core_->counters_.dropped_frame_timeout;
      return core_->forget(*this);
    }
    if (enabled(o.idle_timeout) && now - last_active_ >= o.idle_timeout) {
      return core_->forget(*this);
    }
    watch();
  }

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

// Connects, then writes every frame queued while the previous write was in flight in one
// gather write: a 4-byte prefix per frame, and the shared payload itself. It also keeps a
// read pending, only to hear at once when the peer closes or resets.
class Outbound : public std::enable_shared_from_this<Outbound> {
 public:
  Outbound(StreamCore& core, std::string address)
      : core_(&core),
        address_(std::move(address)),
        resolver_(core.io_),
        socket_(core.io_),
        timer_(core.io_) {}

  void start(const HostPort& target) {
    // The deadline covers resolving too; the same timer then watches for idleness.
    if (enabled(core_->options_.connect_timeout)) {
      arm_timer(Clock::now() + core_->options_.connect_timeout);
    }
    auto self = shared_from_this();
    ErrorCode ec;
    const auto numeric = asio::ip::make_address(target.host, ec);
    if (!ec) {
      socket_.async_connect(tcp::endpoint(numeric, target.port),
                            [self](const ErrorCode& e) { self->on_connect(e); });
      return;
    }
    resolver_.async_resolve(
        target.host, std::to_string(target.port), tcp::resolver::numeric_service,
        [self](const ErrorCode& e, const tcp::resolver::results_type& results) {
          if (self->core_ == nullptr) return;
          if (e) return self->on_connect(e);
          asio::async_connect(
              self->socket_, results,
              [self](const ErrorCode& e2, const tcp::endpoint&) { self->on_connect(e2); });
        });
  }

  // False when the queue is full.
  bool enqueue(const SharedBytes& message, std::uint64_t peer) {
    const std::size_t size = kHeader + message->size();
    if (queued_bytes_ + size > core_->options_.max_queue_bytes) return false;
    Frame& frame = queued_.emplace_back(Frame{{}, message, peer});
    store_be(message->size(), kHeader, frame.prefix.data());
    queued_bytes_ += size;
    if (!backed_up_ && 2 * queued_bytes_ > core_->options_.max_queue_bytes) back_up();
    do_write();
    return true;
  }

  const std::string& address() const { return address_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  std::uint64_t peer() const { return link_ && link_->ready() ? link_->peer() : 0; }
  bool backed_up() const { return backed_up_; }

  void detach() {
    if (backed_up_) --core_->backed_up_links_;
    backed_up_ = false;
    core_ = nullptr;
    ErrorCode ignored;  // nothing to report about a socket we are dropping
    resolver_.cancel();
    timer_.cancel();
    socket_.close(ignored);
    // writing_ stays: the aborted write still refers to it until its handler runs.
    queued_.clear();
  }

 private:
  struct Frame {
    std::array<char, kHeader> prefix;
    SharedBytes payload;
    std::uint64_t peer;  // the node it is for (0: whoever is there)
  };

  // Past half the queue: from now on the stall deadline applies too.
  void back_up() {
    backed_up_ = true;
    backed_up_at_ = Clock::now();
    ++core_->backed_up_links_;
    if (open_ && deadline() < timer_.expiry()) arm_timer(deadline());
  }

  // Down to a quarter: a gap wide enough that the flag does not flap with every write.
  void catch_up() {
    if (!backed_up_ || 4 * queued_bytes_ > core_->options_.max_queue_bytes) return;
    backed_up_ = false;
    --core_->backed_up_links_;
  }

  // For a backed-up link: its last byte moved or when it backed up, whichever is later, plus
  // stall_timeout. max otherwise.
  Clock::time_point stall_deadline() const {
    const auto stall = core_->options_.stall_timeout;
    if (!backed_up_ || !enabled(stall)) return Clock::time_point::max();
    return std::max(last_active_, backed_up_at_) + stall;
  }

  // The earlier of the idle and the stall deadlines; max when neither applies.
  Clock::time_point deadline() const {
    const auto idle = core_->options_.idle_timeout;
    const auto at = enabled(idle) ? last_active_ + idle : Clock::time_point::max();
    return std::min(at, stall_deadline());
  }

  void on_connect(const ErrorCode& ec) {
    if (core_ == nullptr) return;
    if (ec) {
      ++core_->counters_.connect_failures;
      return fail(true);
    }
    connected_ = true;
    ErrorCode ignored;  // only a latency optimisation
    socket_.set_option(tcp::no_delay(true), ignored);
    if (core_->options_.security) return start_handshake();
    on_open();
  }

  // --- the initiator's handshake: message 1 out, message 2 in, message 3 goes first in the
  // first write of data (do_write). A link is made by send(), so a message is always queued
  // by then.
  void start_handshake() {
    link_ = core_->options_.security->start(true);
    handshake_frames_ = std::make_unique<FrameBuffer>(kMaxHandshakeMessage);
    arm_timer(Clock::now() + core_->options_.handshake_timeout);
    hello_ = framed(link_->first_message());
    asio::async_write(socket_, asio::buffer(hello_),
                      [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                        if (ec && self->core_ != nullptr) self->fail(true);
                      });
    read_handshake();
  }

  void read_handshake() {
    const auto space = handshake_frames_->space();
    socket_.async_read_some(asio::buffer(space.data(), space.size()),
                            [self = shared_from_this()](const ErrorCode& ec, std::size_t n) {
                              self->on_handshake_read(ec, n);
                            });
  }

  void on_handshake_read(const ErrorCode& ec, std::size_t n) {
    if (core_ == nullptr) return;
    if (ec) {  // the responder refused us (or went away)
      core_->refuse(Refusal::closed);
      return fail(true);
    }
    handshake_frames_->commit(n);
    std::string_view frame;
    const auto next = handshake_frames_->next(frame);
    if (next == FrameBuffer::Next::more) return read_handshake();
    std::string reply;
    const Refusal r =
        next == FrameBuffer::Next::oversized ? Refusal::malformed : link_->on_message(frame, reply);
    if (r != Refusal::none) {
      core_->refuse(r);
      return fail(true);
    }
    finish_ = framed(reply);
    handshake_frames_.reset();
    ++core_->counters_.handshakes;
    on_open();
  }

  static std::string framed(const std::string& message) {
    std::string out(kHeader, '\0');
    store_be(message.size(), kHeader, out.data());
    return out + message;
  }

  // Connected (and, with security, authenticated): data may flow.
  void on_open() {
    open_ = true;
    last_active_ = Clock::now();
    if (const auto at = deadline(); at != Clock::time_point::max()) {
      arm_timer(at);
    } else {
      timer_.expires_at(Clock::time_point::max());  // makes a deadline wait stale
    }
    watch_peer();
    do_write();
  }

  void do_write() {
    if (!open_ || !writing_.empty() || queued_.empty()) return;
    // writing_ is left untouched until the write completes: its prefixes are the buffers.
    std::swap(writing_, queued_);
    buffers_.clear();
    writing_cost_ = 0;
    for (const Frame& f : writing_) writing_cost_ += kHeader + f.payload->size();
    if (link_) {
      seal_all();
    } else {
      for (const Frame& f : writing_) {
        buffers_.emplace_back(f.prefix.data(), f.prefix.size());
        buffers_.emplace_back(f.payload->data(), f.payload->size());
      }
    }
    asio::async_write(
        socket_, buffers_,
        [this, done = std::size_t{0}](const ErrorCode& ec, std::size_t n) mutable {
          return write_progress(ec, n, done);
        },
        [self = shared_from_this()](const ErrorCode& ec, std::size_t n) { self->on_write(ec, n); });
  }

  // Seals writing_ into sealed_ (one buffer: message 3 first, once). A frame for another node
  // than the one this link proved to be is not sent: counted, and reported once per node.
  void seal_all() {
    sealed_ = std::move(finish_);
    finish_.clear();
    for (const Frame& f : writing_) {
      if (f.peer != 0 && f.peer != link_->peer()) {
        core_->refuse(Refusal::wrong_peer);
        report_wrong_peer(f.peer);
        continue;
      }
      const std::size_t at = sealed_.size();
      sealed_.resize(at + kHeader);
      link_->seal(*f.payload, sealed_);
      store_be(sealed_.size() - at - kHeader, kHeader, sealed_.data() + at);
    }
    buffers_.emplace_back(sealed_.data(), sealed_.size());
  }

  // Later, not from inside send(): the node must not be re-entered while it sends.
  void report_wrong_peer(std::uint64_t peer) {
    constexpr std::size_t kMaxReported = 64;
    if (refused_peers_.size() >= kMaxReported ||
        std::find(refused_peers_.begin(), refused_peers_.end(), peer) != refused_peers_.end()) {
      return;
    }
    refused_peers_.push_back(peer);
    asio::post(core_->io_, [core = core_->shared_from_this(), address = address_, peer] {
      if (!core->closed()) core->events_.on_unreachable(address, peer);
    });
  }

  // async_write's completion condition, asked after every partial write. A large write
  // to a slow reader may take longer than the idle timeout; while it keeps moving the
  // link is busy, not idle. A write that stops moving still fails after one idle period.
  // `this` is safe here: the write's completion handler holds a reference.
  std::size_t write_progress(const ErrorCode& ec, std::size_t written, std::size_t& done) {
    if (written > done) {
      done = written;
      last_active_ = Clock::now();
    }
    return ec ? 0 : kMaxWriteChunk;
  }

  void on_write(const ErrorCode& ec, std::size_t n) {
    if (core_ == nullptr) return;
    if (ec) return fail(true);
    core_->counters_.frames_sent += writing_.size();
    core_->counters_.bytes_sent += n;
    queued_bytes_ -= writing_cost_;
    writing_.clear();
    sealed_.clear();
    finish_.clear();
    last_active_ = Clock::now();
    catch_up();
    do_write();
    // Last: the owner may send() from it, or close the transport.
    if (core_->links_ != nullptr) core_->links_->on_links_moved();
  }

  // The peer never writes on this connection: whatever completes this read (EOF, a reset,
  // stray bytes) ends it. Only losing queued frames is worth reporting.
  void watch_peer() {
    socket_.async_read_some(asio::buffer(probe_),
                            [self = shared_from_this()](const ErrorCode&, std::size_t) {
                              if (self->core_ == nullptr) return;
                              self->fail(!self->writing_.empty() || !self->queued_.empty());
                            });
  }

  // Before connecting it is the connect deadline, afterwards the idle check. A wait that
  // completes after the expiry moved on is stale: the newer wait is still pending.
  void arm_timer(Clock::time_point at) {
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      if (ec || self->core_ == nullptr || self->timer_.expiry() > Clock::now()) return;
      self->on_timer();
    });
  }

  void on_timer() {
    if (!connected_) {
      ++core_->counters_.connect_failures;
      return fail(true);
    }
    if (!open_) {
      core_->refuse(Refusal::timeout);
      return fail(true);
    }
    const auto now = Clock::now();
    if (now < deadline()) return arm_timer(deadline());
    // Idle, or a write that moved nothing for a whole period (a backed-up link: for
    // stall_timeout): the peer stopped reading, and what is queued behind it would only pile
    // up, and hold up whoever waits for this link.
    fail(!writing_.empty() || !queued_.empty(), now >= stall_deadline());
  }

  // `stalled`: cut for stall_timeout, which counts what it loses apart.
  void fail(bool report, bool stalled = false) {
    StreamCore& core = *core_;
    (stalled ? core.counters_.dropped_stalled : core.counters_.dropped_unreachable) +=
        writing_.size() + queued_.size();
    core.forget(*this);
    // Last: the callback may send() to this address again, or close the transport.
    if (report) core.events_.on_unreachable(address_, 0);
  }

  StreamCore* core_;
  const std::string address_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::vector<Frame> queued_, writing_;
  std::vector<asio::const_buffer> buffers_;
  std::size_t queued_bytes_ = 0;  // in queued_ and writing_, prefixes included
  std::size_t writing_cost_ = 0;  // of writing_ in queued_bytes_
  bool connected_ = false;
  bool open_ = false;  // connected, and authenticated when secure
  std::unique_ptr<SecureLink> link_;
  std::unique_ptr<FrameBuffer> handshake_frames_;  // message 2, while it arrives
  std::string hello_, finish_;                     // handshake messages 1 and 3, framed
  std::string sealed_;                             // writing_, sealed, prefixes included
  std::vector<std::uint64_t> refused_peers_;       // reported as not this link's node
  bool backed_up_ = false;
  Clock::time_point backed_up_at_;
  Clock::time_point last_active_;
  std::array<char, 1> probe_{};
};

Result<std::uint16_t> StreamCore::listen(const std::string& host, std::uint16_t port) {
  if (closed_) return fail("poldercast: cannot listen on '" + host + "': transport closed");
  if (!listener_) {
    listener_ = std::make_shared<LinkListener>(
        io_, "poldercast",
        ListenerBounds{.max_connections = options_.max_connections,
                       .max_per_address = options_.max_connections_per_address},
        [weak = weak_from_this()](tcp::socket socket, const asio::ip::address& remote) {
          if (auto self = weak.lock()) self->admit(std::move(socket), remote);
        });
  }
  return listener_->listen(host, port);
}

void StreamCore::admit(tcp::socket socket, const asio::ip::address& remote) {
  auto c = std::make_shared<Inbound>(*this, std::move(socket), remote);
  inbound_.insert(c);
  c->start();
}

bool StreamCore::send(const std::string& address, std::uint64_t peer, const SharedBytes& message) {
  if (closed_ || message == nullptr || message->empty()) return false;
  if (peer != 0 && !banned_.empty() && banned(peer)) {
    refuse(Refusal::banned);
    return false;
  }
  if (message->size() > options_.max_frame || message->size() > UINT32_MAX) {
    ++counters_.dropped_oversized;
    return false;
  }
  auto it = outbound_.find(address);
  if (it == outbound_.end()) {
    auto target = parse_host_port(address);
    if (!target) {
      ++counters_.dropped_bad_address;
      return false;
    }
    if (outbound_.size() >= options_.max_connections) {
      ++counters_.dropped_no_connection_slot;
      return false;
    }
    it = outbound_.emplace(address, std::make_shared<Outbound>(*this, address)).first;
    it->second->start(*target);
  }
  if (!it->second->enqueue(message, peer)) {
    ++counters_.dropped_queue_full;
    return false;
  }
  return true;
}

void StreamCore::forget(Outbound& c) {
  c.detach();
  // The caller is a handler of `c` that holds a reference: erasing does not destroy it.
  if (auto it = outbound_.find(c.address()); it != outbound_.end() && it->second.get() == &c) {
    outbound_.erase(it);
  }
}

void StreamCore::forget(Inbound& c) {
  c.detach();
  if (inbound_.erase(c.shared_from_this()) == 0) return;  // already forgotten
  listener_->release(c.remote());
}

void StreamCore::disconnect(std::uint64_t peer) {
  constexpr std::size_t kMaxBanned = 1024;
  if (peer == 0 || !options_.security) return;
  if (banned_.size() >= kMaxBanned) {
    std::erase_if(banned_, [now = Clock::now()](const auto& b) { return b.second <= now; });
    if (banned_.size() >= kMaxBanned) banned_.erase(banned_.begin());
  }
  banned_[peer] = Clock::now() + options_.ban_duration;
  std::vector<std::shared_ptr<Inbound>> in;
  for (const auto& c : inbound_) {
    if (c->peer() == peer) in.push_back(c);
  }
  for (const auto& c : in) forget(*c);
  std::vector<std::shared_ptr<Outbound>> out;
  for (const auto& [address, c] : outbound_) {
    if (c->peer() == peer) out.push_back(c);
  }
  for (const auto& c : out) forget(*c);
}

void StreamCore::close() {
  closed_ = true;
  if (listener_) listener_->close();
  for (const auto& entry : outbound_) entry.second->detach();
  for (const auto& c : inbound_) c->detach();
  outbound_.clear();
  inbound_.clear();
}

}  // namespace detail

StreamTransport::StreamTransport(asio::io_context& io, StreamTransportOptions options,
                                 TransportEvents& events, LinkEvents* links)
    : core_(std::make_shared<detail::StreamCore>(io, options, events, links)) {}

StreamTransport::~StreamTransport() { core_->close(); }

Result<std::uint16_t> StreamTransport::listen(const std::string& host, std::uint16_t port) {
  return core_->listen(host, port);
}

bool StreamTransport::send(const std::string& address, std::uint64_t peer,
                           const SharedBytes& message) {
  return core_->send(address, peer, message);
}

std::size_t StreamTransport::backlog(const std::string& address) const {
  auto it = core_->outbound_.find(address);
  return it == core_->outbound_.end() ? 0 : it->second->queued_bytes();
}

bool StreamTransport::backed_up() const { return core_->backed_up_links_ > 0; }

void StreamTransport::disconnect(std::uint64_t peer) { core_->disconnect(peer); }

void StreamTransport::secure(std::shared_ptr<const LinkSecurity> security) {
  core_->options_.security = std::move(security);
}

void StreamTransport::close() { core_->close(); }

StreamTransportCounters StreamTransport::counters() const {
  StreamTransportCounters c = core_->counters_;
  c.connections_in = core_->inbound_.size();
  c.connections_out = core_->outbound_.size();
  if (const auto& listener = core_->listener_) {
    c.dropped_no_connection_slot += listener->counters().refused_no_slot;
    c.refused_per_address = listener->counters().refused_per_address;
  }
  for (const auto& in : core_->inbound_) c.receive_buffer_bytes += in->buffer_bytes();
  return c;
}

}  // namespace psycho::poldercast
