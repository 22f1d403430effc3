// Server addresses for the client library and the CLI.
//
// Accepted forms: `tcp://host:port`, `ws://host:port/path`, bare `host:port` (TCP), with the
// port optional (4242 for tcp, 4243 for ws), IPv6 literals in brackets (`tcp://[::1]:4242`)
// and optional credentials (`tcp://user:pass@host:port`) that the client sends in CONNECT.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace psycho::client {

enum class Scheme : std::uint8_t { tcp, ws };

inline constexpr std::uint16_t default_tcp_port = 4242;
inline constexpr std::uint16_t default_ws_port = 4243;

struct Url {
  Scheme scheme = Scheme::tcp;
  std::string host;  // without brackets, e.g. "::1"
  std::uint16_t port = default_tcp_port;
  std::string path = "/";  // ws only; always starts with '/'
  std::string user;
  std::string pass;

  // host:port as a resolver and an HTTP Host header want it (IPv6 back in brackets).
  std::string authority() const;
  // The canonical text, e.g. "ws://[::1]:4243/" (credentials left out: it is printed).
  std::string to_string() const;
};

Result<Url> parse_url(std::string_view text);

}  // namespace psycho::client
