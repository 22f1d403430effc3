#include "fake_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace psycho::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool wait_readable(int fd, Clock::time_point deadline) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

}  // namespace

FakeServer::FakeServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, sa, sizeof addr) != 0 || ::listen(listen_fd_, 8) != 0 ||
      ::getsockname(listen_fd_, sa, &len) != 0) {
    throw std::runtime_error("fake server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
}

FakeServer::~FakeServer() {
  close_client();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool FakeServer::accept(std::chrono::milliseconds timeout) {
  close_client();
  if (!wait_readable(listen_fd_, Clock::now() + timeout)) return false;
  fd_ = ::accept(listen_fd_, nullptr, nullptr);
  if (fd_ < 0) return false;
  // Tests send several small pieces in a row; Nagle would hold each back for a delayed ACK.
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

std::string FakeServer::handshake(std::string_view info) {
  if (!accept()) return "";
  send(info);
  std::string connect = expect("\n");
  if (!connect.starts_with("CONNECT ") || expect("PING\n").empty()) return "";
  send("PONG\n");
  connect.pop_back();
  return connect;
}

void FakeServer::send(std::string_view bytes) {
  while (!bytes.empty() && fd_ >= 0) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool FakeServer::read_some(Clock::time_point deadline) {
  if (fd_ < 0 || eof_ || !wait_readable(fd_, deadline)) return false;
  char buf[65536];
  const auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string FakeServer::expect(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const auto pos = buffer_.find(needle); pos != std::string::npos) {
      std::string out = buffer_.substr(0, pos + needle.size());
      buffer_.erase(0, pos + needle.size());
      return out;
    }
    if (!read_some(deadline)) return "";
  }
}

std::string FakeServer::read_exactly(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (buffer_.size() < n) {
    if (!read_some(deadline)) return "";
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

bool FakeServer::client_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!eof_) {
    buffer_.clear();
    if (!read_some(deadline) && !eof_) return false;
  }
  return true;
}

void FakeServer::close_client() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  eof_ = false;
  buffer_.clear();
}

}  // namespace psycho::testing
