#include "clients/url.hpp"

#include <gtest/gtest.h>

namespace psycho::client {
namespace {

TEST(Url, TcpWithPort) {
  auto url = parse_url("tcp://example.org:5000");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->scheme, Scheme::tcp);
  EXPECT_EQ(url->host, "example.org");
  EXPECT_EQ(url->port, 5000);
  EXPECT_EQ(url->to_string(), "tcp://example.org:5000");
}

TEST(Url, TcpDefaultPort) {
  auto url = parse_url("tcp://127.0.0.1");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->port, default_tcp_port);
}

TEST(Url, BareHostPortIsTcp) {
  auto url = parse_url("localhost:4300");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->scheme, Scheme::tcp);
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 4300);
}

TEST(Url, BareHostDefaultsToTcpPort) {
  auto url = parse_url("localhost");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->port, default_tcp_port);
}

TEST(Url, NatsSchemeIsTcp) {
  auto url = parse_url("nats://127.0.0.1:4222");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->scheme, Scheme::tcp);
  EXPECT_EQ(url->port, 4222);
}

TEST(Url, WebSocketDefaults) {
  auto url = parse_url("ws://127.0.0.1");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->scheme, Scheme::ws);
  EXPECT_EQ(url->port, default_ws_port);
  EXPECT_EQ(url->path, "/");
  EXPECT_EQ(url->to_string(), "ws://127.0.0.1:4243/");
}

TEST(Url, WebSocketPath) {
  auto url = parse_url("ws://h:8080/psycho/v1?x=1");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->host, "h");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->path, "/psycho/v1?x=1");
  EXPECT_EQ(url->authority(), "h:8080");
}

TEST(Url, Ipv6InBrackets) {
  auto url = parse_url("tcp://[::1]:4300");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 4300);
  EXPECT_EQ(url->authority(), "[::1]:4300");
}

TEST(Url, Ipv6DefaultPortAndWs) {
  auto url = parse_url("ws://[fe80::1]/x");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->host, "fe80::1");
  EXPECT_EQ(url->port, default_ws_port);
  EXPECT_EQ(url->path, "/x");
  EXPECT_EQ(url->to_string(), "ws://[fe80::1]:4243/x");
}

TEST(Url, Credentials) {
  auto url = parse_url("tcp://alice:s3cr:et@host:1");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->user, "alice");
  EXPECT_EQ(url->pass, "s3cr:et");
  EXPECT_EQ(url->host, "host");
  EXPECT_EQ(url->to_string(), "tcp://host:1");  // never printed
}

TEST(Url, RejectsUnknownScheme) { EXPECT_FALSE(parse_url("http://h:1")); }
TEST(Url, RejectsUnbracketedIpv6) { EXPECT_FALSE(parse_url("::1:4242")); }
TEST(Url, RejectsUnterminatedBracket) { EXPECT_FALSE(parse_url("tcp://[::1:4242")); }
TEST(Url, RejectsJunkAfterBracket) { EXPECT_FALSE(parse_url("tcp://[::1]x")); }
TEST(Url, RejectsEmptyHost) { EXPECT_FALSE(parse_url("tcp://:4242")); }
TEST(Url, RejectsEmptyPort) { EXPECT_FALSE(parse_url("tcp://h:")); }
TEST(Url, RejectsPortZero) { EXPECT_FALSE(parse_url("h:0")); }
TEST(Url, RejectsPortTooLarge) { EXPECT_FALSE(parse_url("h:65536")); }
TEST(Url, RejectsNonNumericPort) { EXPECT_FALSE(parse_url("h:42x")); }
TEST(Url, RejectsPathOnTcp) { EXPECT_FALSE(parse_url("tcp://h:1/path")); }
TEST(Url, RejectsEmpty) { EXPECT_FALSE(parse_url("")); }

}  // namespace
}  // namespace psycho::client
