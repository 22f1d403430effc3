// A raw TCP client for wire-level tests: send exact bytes, expect exact bytes, with a
// deadline and never a sleep.
#pragma once

#include <chrono>
#include <string>

namespace psycho::testing {

class RawClient {
 public:
  // Connects to 127.0.0.1:port (retrying until `timeout` while the server starts).
  explicit RawClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const noexcept { return fd_ >= 0; }
  void send(const std::string& bytes);
  // Reads until `needle` has arrived; returns everything received up to and including it
  // (and consumes it), or "" on timeout / close. What follows stays buffered.
  std::string expect(const std::string& needle,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads a line (through "\n").
  std::string line(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True when the server closed the connection within the timeout.
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Everything buffered but not yet consumed.
  const std::string& pending() const noexcept { return buffer_; }
  void discard_pending() noexcept { buffer_.clear(); }
  // Drops the first `n` bytes of what is buffered (what the caller has parsed).
  void consume(std::size_t n) { buffer_.erase(0, n); }
  // Reads whatever arrives within `window` into the buffer.
  void drain_for(std::chrono::milliseconds window);
  // One read (at most 64 KiB) of what has arrived, without waiting.
  bool read_once() { return read_some(std::chrono::steady_clock::now()); }
  // Stops reading: the kernel buffers fill and the server sees a slow consumer.
  void shrink_receive_buffer();

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace psycho::testing
