// The outbound half of ClientSession: encoding deliveries into the outbox, congestion
// tracking for flow control, and the one-write-in-flight loop.
#include <boost/asio/post.hpp>

#include <algorithm>

#include "core/log.hpp"
#include "net/client_session.hpp"
#include "net/send_queue.hpp"
#include "protocol/encoder.hpp"

namespace psycho::net {

namespace {
// Bodies up to this size are copied next to their control line: one memcpy is cheaper than
// a reference count and an extra iovec. Larger bodies are shared, never copied.
constexpr std::size_t kInlineBodyMax = 2048;
// Shrink an outbox buffer that a burst grew beyond this, so idle sessions stay small.
constexpr std::size_t kKeepCapacity = 256 * 1024;
// A consumer that is behind but reading is worth waiting for; one none of whose writes has
// completed for this long has stopped, or nearly (a write is the whole outbox: see
// docs/architecture.md for the slow reader this mistakes for stopped): publishers and adapters go
// on without it, and its queue fills to max_pending (a slow consumer). Waiting longer for it would
// only pile up, upstream, what the other subscribers must then take in a burst.
constexpr std::chrono::milliseconds kStuckAfter{500};
// A congested consumer that completed a write this recently is moving. One that has not, for
// longer, is stalled: still waited for by publishers, but no longer by an adapter whose own
// buffer (nats.c's, for one) is filling meanwhile. What such an adapter held for a stopped
// consumer would otherwise burst into the others once kStuckAfter had passed. Progress is a
// write completing or, between completions, the send queue shrinking (kProgressPoll).
constexpr std::chrono::milliseconds kMovingWithin{50};
// How often a congested session looks at its transport's send queue. A write completes only
// once the kernel took all of it, and the kernel wakes a writer only when much of its send
// buffer (megabytes, autotuned) has drained: a reader taking 2.6 MB/s went 560 ms without a
// completed write, counted as stopped, and was cut by what the NATS adapter then let go.
constexpr std::chrono::milliseconds kProgressPoll{10};
// How much a congested session's peer must have taken from its send queue before it counts
// as having moved since it fell behind (stalled rather than silent, when it pauses). A peer
// that never reads still lets its kernel take a little now and then (measured: 29 KB, once,
// from a 4 MB queue), and one that reads takes this within milliseconds.
constexpr std::size_t kTakenToMove = 256 * 1024;
// A session that falls behind within this long of its peer last being seen reading (taking
// kTakenToMove while it was behind) is a reader that fell behind again, and counts as having
// moved: stalled when it pauses, never silent. A Python reader on two busy cores pauses past
// kMovingWithin now and then, just as it falls behind. (Catching up is no such sign: the
// kernel's send buffer takes megabytes from a session whose peer never reads.)
constexpr std::chrono::seconds kMovedLately{1};
}  // namespace

void ClientSession::Outbox::clear() {
  bytes.clear();
  pieces.clear();
  total = 0;
  covered = 0;
  if (bytes.capacity() > kKeepCapacity) bytes.shrink_to_fit();
}

void ClientSession::commit_bytes() {
  // Encoders write straight into out_.bytes; this turns what they added since the last
  // call into (part of) an inline piece.
  const std::size_t added = out_.bytes.size() - out_.covered;
  if (added == 0) return;
  if (!out_.pieces.empty() && out_.pieces.back().data == nullptr) {
    out_.pieces.back().size += added;
  } else {
    out_.pieces.push_back(Piece{nullptr, out_.covered, added, {}});
  }
  out_.covered = out_.bytes.size();
  out_.total += added;
  pending_bytes_ += added;
  update_congestion();
  request_flush();
}

void ClientSession::append_shared(const MessagePtr& owner, std::string_view body) {
  out_.pieces.push_back(Piece{body.data(), 0, body.size(), owner});
  out_.total += body.size();
  pending_bytes_ += body.size();
}

void ClientSession::deliver(const MessagePtr& m) {
  // Only a started session that is not closing takes deliveries (one compare of one byte
  // each, as the two flags it replaces cost).
  if (phase_ == Phase::handshaking || closing_or_closed()) return;
  if (m->origin() == id() && !echo_) return;
  if (user_ != nullptr && !receives(*m)) return;
  // A "no responders" status is for a requester that asked for one, as nats-server decides;
  // a fabric's reaches every subscriber of the reply subject here. (is_no_responders checks
  // the payload too; testing it here first spares nearly every delivery an out-of-line call.)
  if (!no_responders_ && m->payload().empty() && is_no_responders(*m)) return;
  const bool with_headers = headers_ && !m->headers().empty();
  const std::string_view body = with_headers ? m->body() : m->payload();
  if (pending_bytes_ + body.size() + m->subject().size() + 64 > live().max_pending) {
    counters().slow_consumers.add();
    log::warn("slow consumer",
              {{"cid", id()}, {"remote", remote_}, {"pending_bytes", pending_bytes_}});
    // What has not started to be written is dropped so the -ERR goes out next.
    pending_bytes_ -= out_.total;
    out_.clear();
    send_error(protocol::Error::slow_consumer);
    return;
  }
  if (with_headers) {
    protocol::append_hmsg_head(out_.bytes, m->subject(), m->reply(), m->headers().size(),
                               body.size());
  } else {
    protocol::append_msg_head(out_.bytes, m->subject(), m->reply(), body.size());
  }
  if (body.size() <= kInlineBodyMax) {
    out_.bytes.append(body);
  } else {
    commit_bytes();
    append_shared(m, body);
  }
  protocol::append_line_end(out_.bytes);
  commit_bytes();
  auto& c = counters();
  c.messages_out.add();
  c.bytes_out.add(body.size());
}

Congestion ClientSession::congestion() const noexcept {
  if (!congested_.load(std::memory_order_acquire)) return Congestion::none;
  const auto since =
      std::chrono::steady_clock::duration(progress_at_.load(std::memory_order_relaxed));
  const auto quiet = std::chrono::steady_clock::now().time_since_epoch() - since;
  if (quiet >= kStuckAfter) return Congestion::none;
  if (quiet < kMovingWithin) return Congestion::moving;
  return moved_since_congested_.load(std::memory_order_relaxed) ? Congestion::stalled
                                                                : Congestion::silent;
}

bool ClientSession::keeps_up() const noexcept {
  return !congested_.load(std::memory_order_relaxed) && !leaving_.load(std::memory_order_relaxed);
}

void ClientSession::note_taken(std::size_t bytes) {
  taken_since_congested_ += bytes;
  // A small max_pending clears its congestion (below an eighth) before a reader took more.
  if (taken_since_congested_ >= std::min(kTakenToMove, live().max_pending / 8)) {
    moved_since_congested_.store(true, std::memory_order_relaxed);
    moved_at_ = std::chrono::steady_clock::now();
  }
}

void ClientSession::note_progress() {
  progress_at_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                     std::memory_order_relaxed);
}

void ClientSession::watch_progress() {
  if (watching_progress_) return;
  watching_progress_ = true;
  progress_timer_.expires_after(kProgressPoll);
  progress_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->watching_progress_ = false;
    if (ec || self->closing_or_closed() || !self->congested_.load(std::memory_order_relaxed)) {
      self->last_unsent_ = SIZE_MAX;
      return;
    }
    // The send queue shrinking under a write in flight: the peer is reading.
    const std::size_t unsent = self->write_in_flight_
                                   ? send_queue_bytes(self->socket_handle()).value_or(SIZE_MAX)
                                   : SIZE_MAX;
    if (unsent < self->last_unsent_) {
      self->note_progress();
      if (self->last_unsent_ != SIZE_MAX) self->note_taken(self->last_unsent_ - unsent);
    }
    self->last_unsent_ = unsent;
    self->watch_progress();
  });
}

void ClientSession::update_congestion() {
  // A session on its way out (cut as a slow consumer, say) must hold nobody back: its last
  // write may take as long as kCloseDeadline, and a cut one held a NATS import for up to
  // kStuckAfter after it was cut.
  if (closing_or_closed()) {
    leaving_.store(true, std::memory_order_relaxed);
    congested_.store(false, std::memory_order_relaxed);
    return;
  }
  // Hysteresis: congested above a quarter of max_pending, clear again below an eighth, so
  // the flag (read by other workers) changes rarely.
  const std::size_t high = live().max_pending / 4;
  const bool now = congested_.load(std::memory_order_relaxed);
  if (!now && pending_bytes_ > high) {
    // The wait for it starts now, however long ago it last wrote. One whose peer was seen
    // reading lately is a reader that fell behind again, and counts as having moved.
    note_progress();
    moved_since_congested_.store(std::chrono::steady_clock::now() - moved_at_ < kMovedLately,
                                 std::memory_order_relaxed);
    taken_since_congested_ = 0;
    // Release: a thread that sees the flag sees this stamp too, not an old one that would
    // make a fresh congestion look stalled.
    congested_.store(true, std::memory_order_release);
    watch_progress();
  } else if (now && pending_bytes_ < high / 2) {
    congested_.store(false, std::memory_order_relaxed);
  }
}

void ClientSession::request_flush() {
  if (write_in_flight_ || flush_posted_) return;
  // Posting (rather than writing now) lets everything queued by the current handler —
  // a whole read of PUBs, a whole cross-worker batch — leave in one write.
  flush_posted_ = true;
  boost::asio::post(io_, [self = shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

void ClientSession::flush() {
  if (write_in_flight_ || phase_ == Phase::closed) return;
  if (out_.pieces.empty()) {
    if (phase_ == Phase::closing) finish();
    return;
  }
  std::swap(out_, writing_);
  gather_.clear();
  for (const Piece& p : writing_.pieces) {
    const char* base = p.data != nullptr ? p.data : writing_.bytes.data() + p.offset;
    gather_.emplace_back(base, p.size);
  }
  write_in_flight_ = true;
  do_write(gather_);
}

void ClientSession::on_write_done(const std::error_code& ec) {
  write_in_flight_ = false;
  pending_bytes_ -= writing_.total;
  writing_.clear();
  if (ec) {
    finish();
    return;
  }
  if (congested_.load(std::memory_order_relaxed)) {
    note_progress();
    // A completed write may only mean that the kernel buffered it (a peer that never reads
    // still takes megabytes so); where the send queue can be watched, only its shrinking
    // shows that the peer reads (watch_progress).
    if (socket_handle() < 0) moved_since_congested_.store(true, std::memory_order_relaxed);
  }
  update_congestion();
  flush();
}

}  // namespace psycho::net
