#include "core/host_port.hpp"

namespace psycho {

namespace {

Result<std::uint16_t> parse_port(std::string_view text, bool allow_zero) {
  if (text.empty()) return fail("empty port after ':'");
  const std::uint32_t min = allow_zero ? 0 : 1;
  const auto invalid = [&] {
    return fail("invalid port '" + std::string(text) + "' (expected " + std::to_string(min) +
                "..65535)");
  };
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return invalid();
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return invalid();  // at once: no number of digits can overflow
  }
  if (value < min) return invalid();
  return static_cast<std::uint16_t>(value);
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text, const HostPortRules& rules) {
  std::string_view host;
  std::optional<std::string_view> port;  // the text after the ':' that ends the host
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("unterminated '[' in host");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return fail("unexpected text after ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      return fail("IPv6 addresses must be in brackets, e.g. [::1]:4242");
    }
    host = text.substr(0, colon);
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
  }
  if (host.empty()) return fail("missing host");
  if (host.find_first_of(" \t[]/") != std::string_view::npos) {
    return fail("invalid character in host '" + std::string(host) + "'");
  }
  HostPort out{std::string(host), 0};
  if (port) {
    auto p = parse_port(*port, rules.allow_port_zero);
    if (!p) return fail(p.error());
    out.port = *p;
  } else if (rules.default_port) {
    out.port = *rules.default_port;
  } else {
    return fail("missing port (expected host:port)");
  }
  return out;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string out;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  return out + ':' + std::to_string(port);
}

}  // namespace psycho
