// One link the stream transport dialled: connects, runs the initiator's side of the
// handshake, and writes what is queued for its address in gather writes. Private to the
// transport (stream_core.hpp).
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/poldercast/stream_core.hpp"
#include "core/host_port.hpp"

namespace psycho::poldercast::detail {

// Connects, then writes every frame queued while the previous write was in flight in one
// gather write: a 4-byte prefix per frame, and the shared payload itself. It also keeps a
// read pending, only to hear at once when the peer closes or resets.
class Outbound : public std::enable_shared_from_this<Outbound> {
 public:
  // A backed-up link that moves nothing for this fraction of stall_timeout (1 s of the
  // default 5 s) stops holding up the publishers; one still after all of it is cut. Long
  // enough that a live peer on a busy machine (stalls of 100-250 ms are measured on the
  // CI VM) is not taken for a stopped one.
  static constexpr int kStuckFraction = 5;

  Outbound(StreamCore& core, std::string address);
  void start(const HostPort& target);

  // False when the queue is full.
  bool enqueue(const SharedBytes& message, std::uint64_t peer);

  const std::string& address() const { return address_; }
  std::size_t queued_bytes() const { return queued_bytes_; }
  std::uint64_t peer() const { return link_ && link_->ready() ? link_->peer() : 0; }
  bool backed_up() const { return backed_up_; }
  // Whether this link holds up those who wait for links to catch up: backed up, and moving
  // (not stuck).
  bool holds_up() const { return backed_up_ && !stuck_; }

  void detach();

 private:
  struct Frame {
    std::array<char, kHeader> prefix;
    SharedBytes payload;
    std::uint64_t peer;  // the node it is for (0: whoever is there)
  };

  // Past the high mark: from now on the stall deadline applies too.
  void back_up();

  // A byte moved: the link is active, and no longer stuck.
  void moved();

  // Down to half the high mark: a gap wide enough that the flag does not flap with every write.
  void catch_up();

  // Whether the peer took bytes since the last look, though no write of ours completed: the
  // kernel wakes a blocked writer only once much of its send buffer is free again, which
  // for a slow reader can take longer than kStuckFraction of stall_timeout. What the kernel
  // still holds for the peer (SIOCOUTQ: unsent and unacknowledged) shrinks as it reads.
  bool peer_took_bytes();

  // When on_timer() looks next: deadline(), and for a stuck link at least every
  // kStuckFraction of stall_timeout too, so that a slow reader stops counting as stuck.
  Clock::time_point wake_at() const;

  // For a backed-up link: its last byte moved or when it backed up, whichever is later.
  Clock::time_point still_since() const;

  // For a backed-up link that holds up: still_since() plus a kStuckFraction of stall_timeout,
  // when it stops holding up. max otherwise.
  Clock::time_point stuck_deadline() const;

  // For a backed-up link: still_since() plus stall_timeout, when it is cut. max otherwise.
  Clock::time_point stall_deadline() const;

  // The earlier of the idle and the stall deadlines; max when neither applies. Before the
  // link opens: the earlier of the connect (or handshake) and the stall deadlines.
  Clock::time_point deadline() const;
  void on_connect(const ErrorCode& ec);

  // --- the initiator's handshake: message 1 out, message 2 in, message 3 goes first in the
  // first write of data (do_write). A link is made by send(), so a message is always queued
  // by then.
  void start_handshake();
  void read_handshake();
  void on_handshake_read(const ErrorCode& ec, std::size_t n);
  static std::string framed(const std::string& message);

  // Connected (and, with security, authenticated): data may flow.
  void on_open();
  void do_write();

  // Puts writing_ into buffers_ for a plaintext link: small frames copied into gathered_,
  // large payloads as they are.
  void gather_all();

  // Seals writing_ into gathered_ (one buffer: message 3 first, once). A frame for another node
  // than the one this link proved to be is not sent: counted, and reported once per node.
  void seal_all();

  // Later, not from inside send(): the node must not be re-entered while it sends.
  void report_wrong_peer(std::uint64_t peer);

  // async_write's completion condition, asked after every partial write. A large write
  // to a slow reader may take longer than the idle timeout; while it keeps moving the
  // link is busy, not idle. A write that stops moving still fails after one idle period.
  // `this` is safe here: the write's completion handler holds a reference.
  std::size_t write_progress(const ErrorCode& ec, std::size_t written, std::size_t& done);
  void on_write(const ErrorCode& ec, std::size_t n);

  // The peer never writes on this connection: whatever completes this read (EOF, a reset,
  // stray bytes) ends it. Only losing queued frames is worth reporting.
  void watch_peer();

  // Before connecting it is the connect deadline, afterwards the idle check. A wait that
  // completes after the expiry moved on is stale: the newer wait is still pending.
  void arm_timer(Clock::time_point at);
  void on_timer();

  // `stalled`: cut for stall_timeout, which counts what it loses apart.
  void fail(bool report, bool stalled = false);

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
  std::string gathered_;  // writing_, prefixes included: sealed, or the small frames copied
  std::vector<std::uint64_t> refused_peers_;  // reported as not this link's node
  bool backed_up_ = false;
  bool stuck_ = false;                 // backed up and still for stall_timeout / kStuckFraction
  std::optional<int> held_by_kernel_;  // SIOCOUTQ at the last look, while backed up
  Clock::time_point backed_up_at_;
  Clock::time_point open_by_ = Clock::time_point::max();  // connect, then handshake deadline
  Clock::time_point last_active_;
  std::array<char, 1> probe_{};
};

}  // namespace psycho::poldercast::detail
