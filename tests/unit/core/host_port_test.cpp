#include "core/host_port.hpp"

#include <gtest/gtest.h>

namespace psycho {
namespace {

HostPort parsed(std::string_view text, const HostPortRules& rules = {}) {
  auto r = parse_host_port(text, rules);
  EXPECT_TRUE(r) << text << ": " << r.error();
  return r ? *r : HostPort{"<failed>", 0};
}

std::string error_of(std::string_view text, const HostPortRules& rules = {}) {
  auto r = parse_host_port(text, rules);
  EXPECT_FALSE(r) << text;
  return r ? "<accepted>" : r.error();
}

TEST(HostPort, NameIpv4AndBracketedIpv6) {
  const struct {
    const char* text;
    const char* host;
    std::uint16_t port;
  } good[] = {
      {"localhost:4222", "localhost", 4222},   {"gw-1.example.org:1", "gw-1.example.org", 1},
      {"127.0.0.1:65535", "127.0.0.1", 65535}, {"[::1]:4222", "::1", 4222},
      {"[fe80::1%eth0]:7", "fe80::1%eth0", 7}, {"h:00080", "h", 80},
  };
  for (const auto& g : good) {
    const HostPort a = parsed(g.text);
    EXPECT_EQ(a.host, g.host) << g.text;
    EXPECT_EQ(a.port, g.port) << g.text;
  }
}

TEST(HostPort, PortZeroOnlyWhereAllowed) {
  EXPECT_EQ(error_of("h:0"), "invalid port '0' (expected 1..65535)");
  EXPECT_EQ(parsed("h:0", HostPortRules::listener()).port, 0);
  EXPECT_EQ(parsed("[::]:0", HostPortRules::listener()).host, "::");
}

TEST(HostPort, DefaultPortOnlyWhereGiven) {
  EXPECT_EQ(error_of("localhost"), "missing port (expected host:port)");
  EXPECT_EQ(error_of("[::1]"), "missing port (expected host:port)");
  const HostPort a = parsed("localhost", HostPortRules::port_optional(4242));
  EXPECT_EQ(a.host, "localhost");
  EXPECT_EQ(a.port, 4242);
  const HostPort b = parsed("[::1]", HostPortRules::port_optional(4243));
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.port, 4243);
  EXPECT_EQ(parsed("h:9", HostPortRules::port_optional(4242)).port, 9);  // a given port wins
}

TEST(HostPort, InvalidPorts) {
  EXPECT_EQ(error_of("h:"), "empty port after ':'");
  EXPECT_EQ(error_of("[::1]:"), "empty port after ':'");
  EXPECT_EQ(error_of("h:", HostPortRules::port_optional(1)), "empty port after ':'");
  for (const char* bad : {"h:x", "h:+5", "h:-1", "h:5 ", "h: 5", "h:0x10", "h:65536",
                          "h:99999999999999999999999999"}) {
    const std::string port = std::string(bad).substr(2);
    EXPECT_EQ(error_of(bad), "invalid port '" + port + "' (expected 1..65535)") << bad;
    EXPECT_EQ(error_of(bad, HostPortRules::listener()),
              "invalid port '" + port + "' (expected 0..65535)")
        << bad;
  }
}

TEST(HostPort, InvalidHosts) {
  EXPECT_EQ(error_of(":5"), "missing host");
  EXPECT_EQ(error_of("[]:5"), "missing host");
  EXPECT_EQ(error_of(""), "missing host");
  EXPECT_EQ(error_of("", HostPortRules::port_optional(1)), "missing host");
  EXPECT_EQ(error_of("::1:5"), "IPv6 addresses must be in brackets, e.g. [::1]:4242");
  EXPECT_EQ(error_of("::1", HostPortRules::port_optional(1)),
            "IPv6 addresses must be in brackets, e.g. [::1]:4242");
  EXPECT_EQ(error_of("[::1:5"), "unterminated '[' in host");
  EXPECT_EQ(error_of("[::1]5"), "unexpected text after ']'");
  EXPECT_EQ(error_of("[::1]x:5"), "unexpected text after ']'");
  for (const char* bad : {"a b:5", "a\tb:5", "a/b:5", "a]:5", "[a[b]:5"}) {
    EXPECT_NE(error_of(bad).find("invalid character in host"), std::string::npos) << bad;
  }
}

TEST(HostPort, FormatBracketsIpv6AndRoundTrips) {
  EXPECT_EQ(format_host_port("localhost", 4222), "localhost:4222");
  EXPECT_EQ(format_host_port("127.0.0.1", 0), "127.0.0.1:0");
  EXPECT_EQ(format_host_port("::1", 5), "[::1]:5");
  for (const char* text : {"h:1", "10.0.0.1:65535", "[::]:4242", "[fe80::1]:9"}) {
    const HostPort a = parsed(text);
    EXPECT_EQ(format_host_port(a.host, a.port), text);
  }
}

}  // namespace
}  // namespace psycho
