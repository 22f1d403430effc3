#include "clients/url.hpp"

#include <charconv>

namespace psycho::client {
namespace {

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535) {
    return fail("invalid port '" + std::string(text) + "'");
  }
  return static_cast<std::uint16_t>(value);
}

// Splits "host[:port]" or "[v6][:port]" into its parts; the port keeps its default if absent.
Status parse_host_port(std::string_view text, Url& url) {
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return fail("unterminated '[' in host");
    url.host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail("unexpected text after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return fail("empty port");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      return fail("IPv6 addresses must be in brackets, e.g. [::1]:4242");
    }
    url.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return fail("empty port");
    }
  }
  if (url.host.empty()) return fail("missing host");
  if (!port_text.empty()) {
    auto port = parse_port(port_text);
    if (!port) return fail(port.error());
    url.port = *port;
  }
  return Ok{};
}

void parse_userinfo(std::string_view info, Url& url) {
  const auto colon = info.find(':');
  url.user = std::string(info.substr(0, colon));
  if (colon != std::string_view::npos) url.pass = std::string(info.substr(colon + 1));
}

}  // namespace

std::string Url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::to_string() const {
  if (scheme == Scheme::tcp) return "tcp://" + authority();
  return "ws://" + authority() + path;
}

Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest = text;
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    const auto scheme = rest.substr(0, sep);
    if (scheme == "tcp" || scheme == "nats") {
      url.scheme = Scheme::tcp;
    } else if (scheme == "ws") {
      url.scheme = Scheme::ws;
      url.port = default_ws_port;
    } else {
      return fail("unsupported scheme '" + std::string(scheme) + "' (use tcp:// or ws://)");
    }
    rest = rest.substr(sep + 3);
  }
  std::string_view authority = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (url.scheme != Scheme::ws) return fail("a path is only allowed in ws:// URLs");
    authority = rest.substr(0, slash);
    url.path = std::string(rest.substr(slash));
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    parse_userinfo(authority.substr(0, at), url);
    authority = authority.substr(at + 1);
  }
  if (auto st = parse_host_port(authority, url); !st) {
    return fail("invalid URL '" + std::string(text) + "': " + st.error());
  }
  return url;
}

}  // namespace psycho::client
