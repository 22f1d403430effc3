// Ports for integration tests without races. Whatever listens binds port 0 and reports the
// port it got (the gateway's --ports-file, nats-server's ports_file_dir); the test reads the
// report. Never pick a "free" port and hand it on: until the child binds it, any process on
// the machine may take it, as an ephemeral port for an outgoing connection among others.
//
// A port that must stay the same across a restart (a gateway known to its overlay peers by
// its address, a nats-server its clients reconnect to) is a ReservedPort instead.
#pragma once

#include <string>

namespace psycho::testing {

// A port below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), so no
// outgoing connection is ever given it, held under an exclusive lock
// (/tmp/psycho-test-ports/<port>.lock) for the object's lifetime, so concurrent test
// processes (ctest -j) never hold the same one. Checked to bind on 127.0.0.1 (TCP and UDP)
// when taken; the test's children then bind it themselves, again and again if need be.
class ReservedPort {
 public:
  ReservedPort();  // throws std::runtime_error when no port can be had
  ~ReservedPort();
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;

  int port() const noexcept { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  int lock_fd_ = -1;
};

// A TCP port on 127.0.0.1 that refuses connections: bound by the test (port 0) and never
// listened on, so a connection gets a reset, and no other process can take the port while
// the object lives. For "a server that is not there".
class RefusingPort {
 public:
  RefusingPort();  // throws std::runtime_error when the socket cannot be bound
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  int port() const noexcept { return port_; }

 private:
  int port_ = 0;
  int fd_ = -1;
};

// The port a JSON ports report gives `key`, written as a number ({"listen":4242}) or as the
// first URL of a list ({"nats":["nats://127.0.0.1:4222"]}); 0 when the key is absent or the
// text is cut short.
int reported_port(const std::string& json, const std::string& key);

}  // namespace psycho::testing
