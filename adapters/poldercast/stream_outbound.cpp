#include "adapters/poldercast/stream_outbound.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <utility>

#include "adapters/wire_bytes.hpp"

namespace psycho::poldercast::detail {

namespace {

// Per write system call; the same as asio's own transfer_all().
constexpr std::size_t kMaxWriteChunk = 64 * 1024;
// A plaintext frame's payload smaller than this is copied into one buffer with its
// neighbours: asio hands a system call at most 16 buffers of a sequence, eight frames, and
// for small frames the system calls cost far more than the copy (16 B publications went out
// eight to a sendmsg). A larger payload goes out where it is, as a buffer of its own.
constexpr std::size_t kGatherBelow = 16 * 1024;

}  // namespace

Outbound::Outbound(StreamCore& core, std::string address)
    : core_(&core),
      address_(std::move(address)),
      resolver_(core.io_),
      socket_(core.io_),
      timer_(core.io_) {}

void Outbound::start(const HostPort& target) {
  // The deadline covers resolving too; the same timer then watches for idleness.
  if (enabled(core_->options_.connect_timeout)) {
    open_by_ = Clock::now() + core_->options_.connect_timeout;
    arm_timer(open_by_);
  } else {
    timer_.expires_at(Clock::time_point::max());  // so that back_up() arms an earlier one
  }
  auto self = shared_from_this();
  ErrorCode ec;
  const auto numeric = asio::ip::make_address(target.host, ec);
  if (!ec) {
    socket_.async_connect(tcp::endpoint(numeric, target.port),
                          [self](const ErrorCode& e) { self->on_connect(e); });
    return;
  }
  resolver_.async_resolve(target.host, std::to_string(target.port), tcp::resolver::numeric_service,
                          [self](const ErrorCode& e, const tcp::resolver::results_type& results) {
                            if (self->core_ == nullptr) return;
                            if (e) return self->on_connect(e);
                            asio::async_connect(self->socket_, results,
                                                [self](const ErrorCode& e2, const tcp::endpoint&) {
                                                  self->on_connect(e2);
                                                });
                          });
}

bool Outbound::enqueue(const SharedBytes& message, std::uint64_t peer) {
  const std::size_t size = kHeader + message->size();
  if (queued_bytes_ + size > core_->options_.max_queue_bytes) return false;
  Frame& frame = queued_.emplace_back(Frame{{}, message, peer});
  store_be(message->size(), kHeader, frame.prefix.data());
  queued_bytes_ += size;
  if (!backed_up_ && queued_bytes_ > core_->options_.high_mark()) back_up();
  do_write();
  return true;
}

void Outbound::detach() {
  if (holds_up()) --core_->backed_up_links_;
  backed_up_ = false;
  core_ = nullptr;
  ErrorCode ignored;  // nothing to report about a socket we are dropping
  resolver_.cancel();
  timer_.cancel();
  socket_.close(ignored);
  // writing_ stays: the aborted write still refers to it until its handler runs.
  queued_.clear();
}

void Outbound::back_up() {
  backed_up_ = true;
  stuck_ = false;
  backed_up_at_ = Clock::now();
  held_by_kernel_.reset();
  peer_took_bytes();  // the count the next look compares with
  ++core_->backed_up_links_;
  if (deadline() < timer_.expiry()) arm_timer(deadline());
}

void Outbound::catch_up() {
  if (!backed_up_ || 2 * queued_bytes_ > core_->options_.high_mark()) return;
  if (holds_up()) --core_->backed_up_links_;
  backed_up_ = false;
}

void Outbound::moved() {
  last_active_ = Clock::now();
  if (!stuck_) return;
  stuck_ = false;
  if (backed_up_) ++core_->backed_up_links_;
  // Holding up again: if it goes still again, it is stuck again a fifth of stall_timeout
  // from now, not only when the cut was due.
  if (deadline() < timer_.expiry()) arm_timer(deadline());
}

bool Outbound::peer_took_bytes() {
  int held = 0;
  if (!open_ || ::ioctl(socket_.native_handle(), SIOCOUTQ, &held) != 0) return false;
  // Fewer than at the last look: acknowledged beyond whatever we wrote since, so the peer
  // read. (More is our writes, which moved() counted already.)
  const bool took = held_by_kernel_ && held < *held_by_kernel_;
  held_by_kernel_ = held;
  return took;
}

Clock::time_point Outbound::wake_at() const {
  if (!stuck_) return deadline();
  return std::min(deadline(), Clock::now() + core_->options_.stall_timeout / kStuckFraction);
}

Clock::time_point Outbound::still_since() const { return std::max(last_active_, backed_up_at_); }

Clock::time_point Outbound::stuck_deadline() const {
  const auto stall = core_->options_.stall_timeout;
  if (!holds_up() || !enabled(stall)) return Clock::time_point::max();
  return still_since() + stall / kStuckFraction;
}

Clock::time_point Outbound::stall_deadline() const {
  const auto stall = core_->options_.stall_timeout;
  if (!backed_up_ || !enabled(stall)) return Clock::time_point::max();
  return still_since() + stall;
}

Clock::time_point Outbound::deadline() const {
  const auto stalls = std::min(stuck_deadline(), stall_deadline());
  if (!open_) return std::min(open_by_, stalls);
  const auto idle = core_->options_.idle_timeout;
  const auto at = enabled(idle) ? last_active_ + idle : Clock::time_point::max();
  return std::min(at, stalls);
}

void Outbound::on_connect(const ErrorCode& ec) {
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

void Outbound::start_handshake() {
  link_ = core_->options_.security->start(true);
  handshake_frames_ = std::make_unique<FrameBuffer>(kMaxHandshakeMessage);
  open_by_ = Clock::now() + core_->options_.handshake_timeout;
  arm_timer(deadline());
  hello_ = framed(link_->first_message());
  asio::async_write(socket_, asio::buffer(hello_),
                    [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                      if (ec && self->core_ != nullptr) self->fail(true);
                    });
  read_handshake();
}

void Outbound::read_handshake() {
  const auto space = handshake_frames_->space();
  socket_.async_read_some(asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const ErrorCode& ec, std::size_t n) {
                            self->on_handshake_read(ec, n);
                          });
}

void Outbound::on_handshake_read(const ErrorCode& ec, std::size_t n) {
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

std::string Outbound::framed(const std::string& message) {
  std::string out(kHeader, '\0');
  store_be(message.size(), kHeader, out.data());
  return out + message;
}

void Outbound::on_open() {
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

void Outbound::do_write() {
  if (!open_ || !writing_.empty() || queued_.empty()) return;
  // writing_ is left untouched until the write completes: its prefixes are the buffers.
  std::swap(writing_, queued_);
  buffers_.clear();
  writing_cost_ = 0;
  for (const Frame& f : writing_) writing_cost_ += kHeader + f.payload->size();
  if (link_) {
    seal_all();
  } else {
    gather_all();
  }
  asio::async_write(
      socket_, buffers_,
      [this, done = std::size_t{0}](const ErrorCode& ec, std::size_t n) mutable {
        return write_progress(ec, n, done);
      },
      [self = shared_from_this()](const ErrorCode& ec, std::size_t n) { self->on_write(ec, n); });
}

void Outbound::gather_all() {
  std::size_t copied = 0;
  for (const Frame& f : writing_) {
    copied += kHeader + (f.payload->size() < kGatherBelow ? f.payload->size() : 0);
  }
  gathered_.clear();
  gathered_.reserve(copied);  // so the appends below never move what buffers_ points to
  std::size_t run = 0;        // where the gathered bytes not yet in buffers_ start
  for (const Frame& f : writing_) {
    gathered_.append(f.prefix.data(), f.prefix.size());
    if (f.payload->size() < kGatherBelow) {
      gathered_.append(f.payload->data(), f.payload->size());
      continue;
    }
    buffers_.emplace_back(gathered_.data() + run, gathered_.size() - run);
    buffers_.emplace_back(f.payload->data(), f.payload->size());
    run = gathered_.size();
  }
  if (gathered_.size() > run) buffers_.emplace_back(gathered_.data() + run, gathered_.size() - run);
}

void Outbound::seal_all() {
  gathered_ = std::move(finish_);
  finish_.clear();
  for (const Frame& f : writing_) {
    if (f.peer != 0 && f.peer != link_->peer()) {
      core_->refuse(Refusal::wrong_peer);
      report_wrong_peer(f.peer);
      continue;
    }
    const std::size_t at = gathered_.size();
    gathered_.resize(at + kHeader);
    link_->seal(*f.payload, gathered_);
    store_be(gathered_.size() - at - kHeader, kHeader, gathered_.data() + at);
  }
  buffers_.emplace_back(gathered_.data(), gathered_.size());
}

void Outbound::report_wrong_peer(std::uint64_t peer) {
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

std::size_t Outbound::write_progress(const ErrorCode& ec, std::size_t written, std::size_t& done) {
  if (written > done) {
    done = written;
    moved();
  }
  return ec ? 0 : kMaxWriteChunk;
}

void Outbound::on_write(const ErrorCode& ec, std::size_t n) {
  if (core_ == nullptr) return;
  if (ec) return fail(true);
  core_->counters_.frames_sent += writing_.size();
  core_->counters_.bytes_sent += n;
  queued_bytes_ -= writing_cost_;
  writing_.clear();
  gathered_.clear();
  finish_.clear();
  moved();
  catch_up();
  do_write();
  // Last: the owner may send() from it, or close the transport.
  if (core_->links_ != nullptr) core_->links_->on_links_moved();
}

void Outbound::watch_peer() {
  socket_.async_read_some(asio::buffer(probe_),
                          [self = shared_from_this()](const ErrorCode&, std::size_t) {
                            if (self->core_ == nullptr) return;
                            self->fail(!self->writing_.empty() || !self->queued_.empty());
                          });
}

void Outbound::arm_timer(Clock::time_point at) {
  timer_.expires_at(at);
  timer_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (ec || self->core_ == nullptr || self->timer_.expiry() > Clock::now()) return;
    self->on_timer();
  });
}

void Outbound::on_timer() {
  if (backed_up_ && peer_took_bytes()) moved();
  const auto now = Clock::now();
  if (now >= stuck_deadline() && now < stall_deadline()) {
    // Backed up and still for a while: its peer has stopped reading, not slowed down. Those
    // waiting for links to catch up stop waiting for this one; what comes for it meanwhile
    // fills its last quarter and is dropped there (link_busy) until the cut.
    stuck_ = true;
    --core_->backed_up_links_;
    ++core_->counters_.links_stuck;
    arm_timer(wake_at());
    if (core_->links_ != nullptr) core_->links_->on_links_moved();  // last: it may send()
    return;
  }
  if (now < deadline()) return arm_timer(wake_at());
  if (!open_ && now < stall_deadline()) {
    if (!connected_) {
      ++core_->counters_.connect_failures;
      return fail(true);
    }
    core_->refuse(Refusal::timeout);
    return fail(true);
  }
  // Idle, or a write that moved nothing for a whole period (a backed-up link: for
  // stall_timeout): the peer stopped reading, and what is queued behind it would only pile
  // up, and hold up whoever waits for this link.
  fail(!writing_.empty() || !queued_.empty(), now >= stall_deadline());
}

void Outbound::fail(bool report, bool stalled) {
  StreamCore& core = *core_;
  (stalled ? core.counters_.dropped_stalled : core.counters_.dropped_unreachable) +=
      writing_.size() + queued_.size();
  if (stalled) core.rest(address_);
  core.forget(*this);
  // Last: the callback may send() to this address again, or close the transport.
  if (report) core.events_.on_unreachable(address_, 0);
}

}  // namespace psycho::poldercast::detail
