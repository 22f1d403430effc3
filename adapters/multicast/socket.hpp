// A UDP socket joined to the multicast group: plain POSIX, IPv4 or IPv6. One socket serves
// both directions; every gateway on the host binds the group's port (SO_REUSEADDR), so each
// receives its own copy of every datagram. NACKs therefore go to the group as well: a
// unicast reply to a source address would reach only one of the processes sharing it.
//
// Datagrams go out and come in by the batch (sendmmsg, recvmmsg): loopback and NICs cost
// per datagram and per system call, and a system call per datagram would halve the rate.
// Where the kernel offers UDP segmentation offload, a run of full-sized datagrams (the
// fragments of a large message) goes down the stack as one (UDP_SEGMENT) and, to receivers
// that accept it (UDP_GRO), comes up as one, which the receiving side cuts back into
// datagrams: on loopback the per-datagram cost vanishes, on a network card the card does the
// cutting. Only full-sized ones: a large message costs its receivers little per datagram,
// while a run of small messages, each costing them a delivery, would let the sender outrun
// them by far.
// send() may be called from two threads at once (datagrams are atomic); receive() from one.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/multicast/multicast_config.hpp"
#include "core/result.hpp"

namespace psycho::multicast {

// The most datagrams one segmented send carries, and so the longest run a receiving kernel
// may coalesce (UDP_GRO), or drop as one when the buffer is full.
inline constexpr std::size_t kMaxRun = 64;

// Buffers for one recvmmsg: `count` receptions of up to `buffer_size` bytes each, every one
// a datagram or a run of them coalesced by the kernel (UDP_GRO), listed as datagrams.
class ReceiveBatch {
 public:
  ReceiveBatch(std::size_t count, std::size_t buffer_size);
  // The datagrams the last Socket::receive() brought.
  std::size_t size() const noexcept { return datagrams_.size(); }
  std::string_view datagram(std::size_t i) const noexcept { return datagrams_[i].bytes; }
  // Larger than its buffer, so cut: the caller drops it.
  bool truncated(std::size_t i) const noexcept { return datagrams_[i].truncated; }
  const sockaddr_storage& from(std::size_t i) const noexcept {
    return from_[datagrams_[i].reception];
  }
  // The datagrams the kernel had dropped at this socket for a full buffer, since it opened,
  // when it queued datagram `i` (wraps at 2^32; 0 until the first drop).
  std::uint32_t socket_drops(std::size_t i) const noexcept { return datagrams_[i].socket_drops; }

 private:
  friend class Socket;
  struct Datagram {
    std::string_view bytes;
    std::size_t reception;
    bool truncated;
    std::uint32_t socket_drops;
  };
  void split(std::size_t receptions);

  std::size_t buffer_size_;
  std::vector<char> storage_;
  std::vector<sockaddr_storage> from_;
  std::vector<struct iovec> iov_;
  std::vector<struct mmsghdr> headers_;
  std::vector<char> control_;
  std::vector<Datagram> datagrams_;
  std::uint32_t socket_drops_ = 0;  // as the newest datagram said: the kernel says it only
                                    // once there are any
};

class Socket {
 public:
  // Creates, configures, binds and joins. Errors say which step failed and why.
  static Result<Socket> open(const MulticastConfig& config);

  Socket() = default;
  Socket(Socket&& o) noexcept;
  Socket& operator=(Socket&& o) noexcept;
  ~Socket();

  // Sends one datagram to the group. False when the kernel refused it (counted by the
  // caller); blocks while the socket's send buffer is full.
  bool send(std::string_view datagram) const noexcept { return send(&datagram, 1) == 1; }
  // Sends `count` datagrams in order, as few system calls as the kernel takes them in.
  // Returns how many were sent; the kernel refused the others (counted by the caller).
  std::size_t send(const std::string_view* datagrams, std::size_t count) const noexcept;
  // Waits up to `timeout_ms` (0: not at all) for datagrams and takes as many as `batch`
  // holds of those waiting. Returns false on a socket error; an empty batch when none came.
  bool receive(ReceiveBatch& batch, int timeout_ms);
  // Asks the kernel to drop the datagrams whose common header names `sender` before they are
  // copied to us: with multicast loopback on, a gateway's own datagrams come back to it, and
  // reading them cost it as much as reading a peer's. Returns false where the kernel refused
  // the filter; receive() then brings them, and the caller drops them itself.
  bool ignore_sender(std::uint64_t sender);
  // How many of the socket's drops (ReceiveBatch::socket_drops) are our own datagrams the
  // filter turned away rather than a full buffer: the kernel counts both alike, one for each
  // run sent (a segmented run comes back, and goes, as one).
  std::uint64_t own_dropped() const noexcept {
    return filters_own_ ? runs_sent_.load(std::memory_order_relaxed) : 0;
  }
  // How much the kernel holds for us, against what it will hold before it drops: bytes as the
  // kernel counts them (with its overhead per datagram). Empty where it does not say.
  struct Queue {
    std::uint32_t queued = 0, capacity = 0;  // as the kernel reports them
  };
  std::optional<Queue> receive_queue() const noexcept;
  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
  // Cleared for good the first time the kernel refuses a segmented send.
  mutable std::atomic<bool> segmentation_{true};
  mutable std::atomic<std::uint64_t> runs_sent_{0};  // what own_dropped() counts
  bool filters_own_ = false;                         // ignore_sender() is in place
  sockaddr_storage group_{};
  socklen_t group_size_ = 0;
  std::size_t max_datagram_ = 0;  // a run of datagrams this size may go as one
};

// "host:port" ("[host]:port" for IPv6).
std::string address_of(const sockaddr_storage& address);

// Where a datagram came from, compact and comparable: a sender id is bound to one
// (docs/multicast.md#trust). One socket speaks one family, so the family is left out.
struct Source {
  std::array<std::uint8_t, 16> host{};  // IPv4: the first four bytes
  std::uint16_t port = 0;
  bool operator==(const Source&) const = default;
  auto operator<=>(const Source&) const = default;
};
Source source_of(const sockaddr_storage& address) noexcept;

}  // namespace psycho::multicast
