// How much a socket has been given and its peer has not taken yet: the kernel's send queue
// (SIOCOUTQ), for a congested session's watch on its reader (ClientSession::unsent_bytes).
#pragma once

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <optional>

namespace psycho::net {

// `socket`: an Asio TCP socket (a stream's lowest layer); nothing when it is closed.
template <class Socket>
std::optional<std::size_t> send_queue_bytes(Socket& socket) {
  int queued = 0;
  if (!socket.is_open() || ::ioctl(socket.native_handle(), SIOCOUTQ, &queued) != 0 || queued < 0) {
    return std::nullopt;
  }
  return static_cast<std::size_t>(queued);
}

}  // namespace psycho::net
