// A one-connection fake Psycho server for client tests: a loopback listener on port 0 that the
// test thread drives by hand (send exact bytes, expect exact bytes), always with a deadline.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace psycho::testing {

using namespace std::chrono_literals;

class FakeServer {
 public:
  FakeServer();  // listens on 127.0.0.1:0
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const noexcept { return port_; }
  std::string url() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  // Accepts the next client (closing the previous one). False on timeout.
  bool accept(std::chrono::milliseconds timeout = 5s);
  // The client side of Connection::connect: accept, INFO, read CONNECT + PING, answer PONG.
  // Returns the CONNECT line (without the line end), or "" if the client did not send it.
  std::string handshake(std::string_view info = "INFO {\"server_id\":\"fake\",\"proto\":1}\n");

  void send(std::string_view bytes);
  // Reads until `needle` arrived; returns and consumes everything through it, "" on timeout.
  std::string expect(std::string_view needle, std::chrono::milliseconds timeout = 5s);
  // Reads and consumes exactly n bytes; "" on timeout.
  std::string read_exactly(std::size_t n, std::chrono::milliseconds timeout = 5s);
  // True when the client closed its end within the timeout (buffered data is discarded).
  bool client_closed(std::chrono::milliseconds timeout = 5s);
  void close_client();

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int listen_fd_ = -1;
  int fd_ = -1;
  int port_ = 0;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace psycho::testing
