// A UDP socket joined to the multicast group: plain POSIX, IPv4 or IPv6. One socket serves
// both directions; every gateway on the host binds the group's port (SO_REUSEADDR), so each
// receives its own copy of every datagram. NACKs therefore go to the group as well: a
// unicast reply to a source address would reach only one of the processes sharing it.
//
// send() may be called from two threads at once (datagrams are atomic); receive() from one.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/multicast/multicast_config.hpp"
#include "core/result.hpp"

namespace psycho::multicast {

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
  bool send(std::string_view datagram) const noexcept;
  // Waits up to `timeout_ms` (0: not at all) for a datagram; returns its size, 0 when none
  // came, -1 on error. The sender's address goes to `from`. A datagram larger than
  // `buffer` is cut: *truncated is set and the caller drops it.
  long receive(char* buffer, std::size_t size, int timeout_ms, bool* truncated,
               sockaddr_storage* from);
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
