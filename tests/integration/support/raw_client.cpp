#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace psycho::testing {

using Clock = std::chrono::steady_clock;

RawClient::RawClient(int port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      return;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // server still starting
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawClient::send(const std::string& bytes) {
  std::size_t done = 0;
  while (fd_ >= 0 && done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

bool RawClient::read_some(Clock::time_point deadline) {
  if (fd_ < 0 || eof_) return false;
  // A deadline already passed still gets one non-blocking look at the socket.
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) <= 0) return false;
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::string RawClient::expect(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto pos = buffer_.find(needle);
    if (pos != std::string::npos) {
      std::string got = buffer_.substr(0, pos + needle.size());
      buffer_.erase(0, pos + needle.size());
      return got;
    }
    if (!read_some(deadline)) return "";
  }
}

std::string RawClient::line(std::chrono::milliseconds timeout) { return expect("\n", timeout); }

bool RawClient::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!eof_ && Clock::now() < deadline) read_some(deadline);
  return eof_;
}

void RawClient::drain_for(std::chrono::milliseconds window) {
  const auto deadline = Clock::now() + window;
  while (Clock::now() < deadline && read_some(deadline)) {
  }
}

void RawClient::shrink_receive_buffer() {
  int size = 4096;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

}  // namespace psycho::testing
