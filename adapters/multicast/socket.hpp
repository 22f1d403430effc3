// A UDP socket joined to the multicast group: plain POSIX, IPv4 or IPv6. One socket serves
// both directions; every gateway on the host binds the group's port (SO_REUSEADDR), so each
// receives its own copy of every datagram. NACKs therefore go to the group as well: a
// unicast reply to a source address would reach only one of the processes sharing it.
//
// Datagrams go out and come in by the batch (sendmmsg, recvmmsg): loopback and NICs cost
// per datagram and per system call, and a system call per datagram would halve the rate.
// send() may be called from two threads at once (datagrams are atomic); receive() from one.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/multicast/multicast_config.hpp"
#include "core/result.hpp"

namespace psycho::multicast {

// Buffers for one recvmmsg: `count` datagrams of up to `buffer_size` bytes each.
class ReceiveBatch {
 public:
  ReceiveBatch(std::size_t count, std::size_t buffer_size);
  // What the last Socket::receive() brought.
  std::size_t size() const noexcept { return received_; }
  std::string_view datagram(std::size_t i) const noexcept;
  // Larger than its buffer, so cut: the caller drops it.
  bool truncated(std::size_t i) const noexcept;
  const sockaddr_storage& from(std::size_t i) const noexcept { return from_[i]; }

 private:
  friend class Socket;
  std::size_t buffer_size_;
  std::vector<char> storage_;
  std::vector<sockaddr_storage> from_;
  std::vector<struct iovec> iov_;
  std::vector<struct mmsghdr> headers_;
  std::size_t received_ = 0;
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
  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
  sockaddr_storage group_{};
  socklen_t group_size_ = 0;
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
