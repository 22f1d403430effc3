// "host:port" as every address in the gateway is written: in the configuration (listeners,
// PolderCast seeds), on the PolderCast overlay (a node's advertised address) and in the
// client's URLs. One parser, so that an address accepted in one place is accepted in all.
//
// The host is a name, an IPv4 address or an IPv6 address in brackets ("[::1]:4242"; the
// brackets are needed because the port follows a colon). It may not be empty or hold a
// space, a tab, a '/' or a bracket. The port is decimal digits, 1..65535, or 0 where the
// caller allows it. Pure string handling, no resolver: a name is not looked up here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace psycho {

struct HostPort {
  std::string host;  // without brackets, e.g. "::1"
  std::uint16_t port = 0;
};

struct HostPortRules {
  // When set, a bare "host" (or "[v6]") is accepted and gets this port; otherwise the port
  // is required.
  std::optional<std::uint16_t> default_port;
  // Port 0, "any free port": for a listener, never for an address to dial.
  bool allow_port_zero = false;

  // An address to listen on: port 0 asks for any free port.
  static HostPortRules listener() { return {std::nullopt, true}; }
  // An address to dial whose port may be left out: it is then `port`.
  static HostPortRules port_optional(std::uint16_t port) { return {port, false}; }
};

// The address in `text`, or what is wrong with it ("missing port", "invalid port 'x'
// (expected 1..65535)", ...), without the text itself: the caller says where it came from.
Result<HostPort> parse_host_port(std::string_view text, const HostPortRules& rules = {});

// "host:port", with an IPv6 host (one that holds a ':') back in brackets: what
// parse_host_port() reads back, and what a resolver or an HTTP Host header wants.
std::string format_host_port(std::string_view host, std::uint16_t port);

}  // namespace psycho
