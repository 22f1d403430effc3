#include "clients/url.hpp"

#include "core/host_port.hpp"

namespace psycho::client {
namespace {

void parse_userinfo(std::string_view info, Url& url) {
  const auto colon = info.find(':');
  url.user = std::string(info.substr(0, colon));
  if (colon != std::string_view::npos) url.pass = std::string(info.substr(colon + 1));
}

}  // namespace

std::string Url::authority() const { return format_host_port(host, port); }

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
  auto address = parse_host_port(authority, HostPortRules::port_optional(url.port));
  if (!address) return fail("invalid URL '" + std::string(text) + "': " + address.error());
  url.host = std::move(address->host);
  url.port = address->port;
  return url;
}

}  // namespace psycho::client
