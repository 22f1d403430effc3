#include "ports.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

namespace psycho::testing {

namespace {

constexpr const char* kLockDir = "/tmp/psycho-test-ports";
constexpr int kAttempts = 500;

// The lowest ephemeral port; 32768 (the kernel's default) when the file cannot be read.
int ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return in >> low && low > 0 ? low : 32768;
}

// Whether 127.0.0.1:port can be bound now, as `type` (SOCK_STREAM or SOCK_DGRAM). With
// SO_REUSEADDR, as the gateway and nats-server bind: a port in TIME_WAIT is fine for them.
bool binds(int port, int type) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The lock on `port`'s file, or -1 when another process holds it.
int lock_port(int port) {
  const std::string path = std::string(kLockDir) + "/" + std::to_string(port) + ".lock";
  // O_CLOEXEC: a child (a gateway) must not inherit the lock and keep it past the test.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

ReservedPort::ReservedPort() {
  const int high = ephemeral_low() - 1;
  const int low = std::max(1025, high - 10000);
  if (high <= low) throw std::runtime_error("no ports below the ephemeral range to reserve");
  // Shared with other users of the machine, and other test processes of other users.
  if (::mkdir(kLockDir, 01777) == 0) ::chmod(kLockDir, 01777);  // past the umask
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const int candidate = pick(random);
    const int fd = lock_port(candidate);
    if (fd < 0) continue;  // another test process holds it
    if (binds(candidate, SOCK_STREAM) && binds(candidate, SOCK_DGRAM)) {
      port_ = candidate;
      lock_fd_ = fd;
      return;
    }
    ::close(fd);  // something outside the tests uses it
  }
  throw std::runtime_error("no port below the ephemeral range could be reserved in " +
                           std::to_string(kAttempts) + " attempts");
}

ReservedPort::~ReservedPort() {
  // The lock file stays: removing it could let two processes lock two different files of
  // one name (one opened before the unlink, one after).
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

RefusingPort::RefusingPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int error = errno;
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error(std::string("cannot bind a port to refuse: ") + std::strerror(error));
  }
  port_ = ntohs(addr.sin_port);
}

RefusingPort::~RefusingPort() { ::close(fd_); }

int reported_port(const std::string& json, const std::string& key) {
  const std::string quoted = "\"" + key + "\":";
  auto at = json.find(quoted);
  if (at == std::string::npos) return 0;
  at += quoted.size();
  if (at < json.size() && json[at] == '[') {
    // The first URL: its port follows the last ':' before the closing quote.
    const auto open = json.find('"', at);
    const auto close = open == std::string::npos ? open : json.find('"', open + 1);
    if (close == std::string::npos) return 0;
    const auto colon = json.rfind(':', close);
    if (colon == std::string::npos || colon < open) return 0;
    at = colon + 1;
  }
  int port = 0;
  const auto [end, ec] = std::from_chars(json.data() + at, json.data() + json.size(), port);
  if (ec != std::errc{} || end == json.data() + json.size()) return 0;  // cut short
  return port > 0 && port <= 65535 ? port : 0;
}

}  // namespace psycho::testing
