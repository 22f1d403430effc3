#include "adapters/poldercast/stream_inbound.hpp"

#include <algorithm>
#include <boost/asio/write.hpp>
#include <utility>

#include "adapters/wire_bytes.hpp"

namespace psycho::poldercast::detail {

namespace {

// An inbound link waits while the gateway is behind on what links deliver (or a link it
// might relay to is crowded, LinkEvents::receiving_congested): checked this
// often, for at most kMaxReadPause before each read (as a local publisher waits for its
// subscribers: a subscriber that never reads is cut off as a slow consumer, not the link).
constexpr auto kReadPauseStep = std::chrono::microseconds(500);
constexpr auto kMaxReadPause = std::chrono::milliseconds(50);

}  // namespace

Inbound::Inbound(StreamCore& core, tcp::socket socket, asio::ip::address remote)
    : core_(&core),
      socket_(std::move(socket)),
      remote_(std::move(remote)),
      timer_(core.io_),
      pause_(core.io_),
      frames_(core.first_frame_limit()) {
  if (core.options_.security) link_ = core.options_.security->start(false);
}

void Inbound::start() {
  last_active_ = started_ = Clock::now();
  watch();
  do_read();
}

void Inbound::detach() {
  core_ = nullptr;
  ErrorCode ignored;  // nothing to report about a socket we are dropping
  timer_.cancel();
  pause_.cancel();
  socket_.close(ignored);
}

void Inbound::do_read() {
  const auto space = frames_.space();
  socket_.async_read_some(
      asio::buffer(space.data(), space.size()),
      [self = shared_from_this()](const ErrorCode& ec, std::size_t n) { self->on_read(ec, n); });
}

void Inbound::on_read(const ErrorCode& ec, std::size_t n) {
  if (core_ == nullptr) return;
  if (ec) return core_->forget(*this);  // EOF or reset: the peer is done
  core_->counters_.bytes_received += n;
  frames_.commit(n);
  last_active_ = Clock::now();
  if (!deliver()) return;
  watch();
  if (core_->links_ != nullptr && core_->links_->receiving_congested(peer())) {
    paused_at_ = Clock::now();
    ++core_->counters_.read_pauses;
    return pause();
  }
  do_read();
}

void Inbound::pause() {
  pause_.expires_after(kReadPauseStep);
  pause_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
    if (ec || self->core_ == nullptr) return;
    if (self->core_->links_->receiving_congested(self->peer()) &&
        Clock::now() - self->paused_at_ < kMaxReadPause) {
      return self->pause();
    }
    self->do_read();
  });
}

bool Inbound::deliver() {
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

bool Inbound::receive(std::string_view frame) {
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

bool Inbound::handshake(std::string_view frame) {
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

Clock::time_point Inbound::deadline() const {
  const auto& o = core_->options_;
  auto at = Clock::time_point::max();
  if (link_ && !link_->ready()) at = started_ + o.handshake_timeout;
  if (enabled(o.idle_timeout)) at = std::min(at, last_active_ + o.idle_timeout);
  if (enabled(o.frame_timeout) && frame_started_) {
    at = std::min(at, *frame_started_ + o.frame_timeout);
  }
  return at;
}

void Inbound::watch() {
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

void Inbound::on_timer() {
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

}  // namespace psycho::poldercast::detail
