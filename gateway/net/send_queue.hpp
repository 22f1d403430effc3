// How much a socket has been given and its peer has not taken yet: the kernel's send queue
// (SIOCOUTQ), for a congested session's watch on its reader (ClientSession::unsent_bytes).
#pragma once

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <optional>

namespace psycho::net {

// `socket`: a TCP socket's descriptor; nothing when it is not one (-1: none, or closed).
inline std::optional<std::size_t> send_queue_bytes(int socket) {
  int queued = 0;
  if (socket < 0 || ::ioctl(socket, SIOCOUTQ, &queued) != 0 || queued < 0) return std::nullopt;
  return static_cast<std::size_t>(queued);
}

}  // namespace psycho::net
