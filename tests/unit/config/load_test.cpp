#include "config/load.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "config/command_line.hpp"
#include "config/section.hpp"

namespace psycho::config {
namespace {

const std::vector<std::string> kAdapters = {"nats", "multicast"};

Result<Config> parse(const std::string& yaml) { return parse_config(yaml, "gw.yaml", kAdapters); }

std::string error_of(const std::string& yaml) {
  auto r = parse(yaml);
  return r ? "<no error>" : r.error();
}

TEST(ConfigLoad, EmptyOrCommentOnlyMeansDefaults) {
  for (const char* text : {"", "# nothing here\n", "\n\n"}) {
    auto c = parse(text);
    ASSERT_TRUE(c) << c.error();
    EXPECT_EQ(c->gateway.listen.to_string(), "127.0.0.1:4242");
    EXPECT_EQ(c->gateway.websocket.to_string(), "127.0.0.1:4243");
    EXPECT_EQ(c->gateway.admin.to_string(), "127.0.0.1:9242");
    EXPECT_EQ(c->gateway.max_payload, 1024u * 1024u);
    EXPECT_EQ(c->gateway.max_pending, 8u * 1024u * 1024u);
    EXPECT_EQ(c->log.level, LogLevel::info);
  }
}

TEST(ConfigLoad, ReadsEveryGatewayAndLogKey) {
  auto c = parse(R"(
gateway:
  name: edge-1
  listen: 0.0.0.0:5000
  websocket: "[::1]:5001"
  websocket_path: /psycho
  admin: ""
  max_payload: 2MiB
  max_control_line: 1KiB
  max_pending: 16MB
  max_connections: 100
  max_subscriptions: 10
  ping_interval: 1m30s
  max_pings_out: 3
  workers: 4
  shutdown_timeout: 250ms
  handshake_timeout: 2s
  tls:
    cert_file: /c.pem
    key_file: /k.pem
    ca_file: /ca.pem
    verify_clients: true
log:
  level: debug
  format: json
)");
  ASSERT_TRUE(c) << c.error();
  const auto& g = c->gateway;
  EXPECT_EQ(g.name, "edge-1");
  EXPECT_EQ(g.listen.to_string(), "0.0.0.0:5000");
  EXPECT_EQ(g.websocket.to_string(), "[::1]:5001");
  EXPECT_EQ(g.websocket_path, "/psycho");
  EXPECT_FALSE(g.admin.enabled());
  EXPECT_EQ(g.max_payload, 2u << 20);
  EXPECT_EQ(g.max_control_line, 1024u);
  EXPECT_EQ(g.max_pending, 16'000'000u);
  EXPECT_EQ(g.max_connections, 100u);
  EXPECT_EQ(g.max_subscriptions, 10u);
  EXPECT_EQ(g.ping_interval, std::chrono::seconds(90));
  EXPECT_EQ(g.max_pings_out, 3);
  EXPECT_EQ(g.workers, 4);
  EXPECT_EQ(g.shutdown_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(g.handshake_timeout, std::chrono::seconds(2));
  EXPECT_TRUE(g.tls.enabled());
  EXPECT_TRUE(g.tls.verify_clients);
  EXPECT_EQ(c->log.level, LogLevel::debug);
  EXPECT_EQ(c->log.format, LogFormat::json);
}

TEST(ConfigLoad, AdapterSectionsArePassedThroughInOrder) {
  auto c = parse("multicast:\n  group: 239.1.1.1:5000\nnats:\n  servers: [nats://a:4222]\n");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->adapters.size(), 2u);
  EXPECT_EQ(c->adapters[0].name, "multicast");
  EXPECT_EQ(c->adapters[1].name, "nats");
  EXPECT_EQ(c->adapters[1].file, "gw.yaml");
  EXPECT_TRUE(c->adapters[1].node["servers"].IsSequence());
}

TEST(ConfigLoad, EnvironmentExpansion) {
  ::setenv("PSYCHO_TEST_PORT", "6000", 1);
  ::unsetenv("PSYCHO_TEST_UNSET");
  auto c = parse("gateway:\n  listen: 127.0.0.1:${PSYCHO_TEST_PORT}\n"
                 "  name: ${PSYCHO_TEST_UNSET:-fallback}-$$x\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.listen.port, 6000);
  EXPECT_EQ(c->gateway.name, "fallback-$x");
  EXPECT_EQ(error_of("gateway:\n  name: ${PSYCHO_TEST_UNSET}\n"),
            "gw.yaml:2:9: environment variable 'PSYCHO_TEST_UNSET' is not set (use "
            "${PSYCHO_TEST_UNSET:-default} for a fallback)");
}

struct BadCase {
  const char* yaml;
  const char* error;
};

TEST(ConfigLoad, EveryErrorNamesFileLineAndColumn) {
  const BadCase cases[] = {
      {"gateway:\n  listne: 1.2.3.4:5\n",
       "gw.yaml:2:3: unknown key 'listne' in 'gateway' (did you mean 'listen'?)"},
      {"gatway:\n  name: x\n", "gw.yaml:1:1: unknown section 'gatway' (known: gateway, log, "
                                "nats, multicast)"},
      {"gateway:\n  tls:\n    cert: x\n", "gw.yaml:3:5: unknown key 'cert' in 'gateway.tls'"},
      {"log:\n  colour: red\n", "gw.yaml:2:3: unknown key 'colour' in 'log'"},
      {"gateway:\n  max_payload: lots\n",
       "gw.yaml:2:16: 'gateway.max_payload' must be a size like 1048576, 64KiB or 8MB, not "
       "'lots'"},
      {"gateway:\n  max_payload: 100MiB\n",
       "gw.yaml:2:16: 'gateway.max_payload' must be between 1 and 67108864 bytes"},
      {"gateway:\n  ping_interval: soon\n",
       "gw.yaml:2:18: 'gateway.ping_interval' must be a duration like 250ms, 30s, 2m or 1h, "
       "not 'soon'"},
      {"gateway:\n  workers: -1\n",
       "gw.yaml:2:12: 'gateway.workers' must be a whole number from 0 to 256, not '-1'"},
      {"gateway:\n  listen: localhost\n",
       "gw.yaml:2:11: 'gateway.listen' must be host:port, [ipv6]:port or \"\" (disabled), not "
       "'localhost'"},
      {"gateway:\n  listen: 1.2.3.4:70000\n",
       "gw.yaml:2:11: 'gateway.listen' must be host:port, [ipv6]:port or \"\" (disabled), not "
       "'1.2.3.4:70000'"},
      {"gateway:\n  name: [a, b]\n", "gw.yaml:2:9: 'gateway.name' must be a single value"},
      {"gateway: 5\n", "gw.yaml:1:10: 'gateway' must be a mapping"},
      {"gateway:\n  tls:\n    cert_file: /c\n",
       "gw.yaml:3:16: 'gateway.tls' needs both cert_file and key_file"},
      {"log:\n  level: loud\n",
       "gw.yaml:2:10: 'log.level' must be trace, debug, info, warn, error or off"},
      {"gateway:\n  websocket_path: ws\n",
       "gw.yaml:2:19: 'gateway.websocket_path' must start with '/'"},
      {"gateway:\n  name: [unclosed\n", "gw.yaml:3:1: end of sequence flow not found"},
      {"- a\n- b\n", "gw.yaml:1:1: the configuration must be a mapping"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.yaml), c.error) << c.yaml;
}

TEST(ConfigLoad, AllErrorsAreReportedAtOnce) {
  const std::string e = error_of("gateway:\n  workers: x\n  max_pings_out: 0\nlog:\n  a: 1\n");
  EXPECT_NE(e.find("gw.yaml:2:12"), std::string::npos) << e;
  EXPECT_NE(e.find("gw.yaml:3:18"), std::string::npos) << e;
  EXPECT_NE(e.find("gw.yaml:5:3"), std::string::npos) << e;
}

TEST(ConfigLoad, MissingFileIsAClearError) {
  auto c = load_config_file("/nonexistent/psycho.yaml", kAdapters);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), "/nonexistent/psycho.yaml: cannot read the configuration file");
}

TEST(ConfigValues, SizesDurationsEndpoints) {
  std::size_t n = 0;
  EXPECT_TRUE(parse_size("512", n) && n == 512);
  EXPECT_TRUE(parse_size("64KiB", n) && n == 65536);
  EXPECT_TRUE(parse_size("8MB", n) && n == 8'000'000);
  EXPECT_TRUE(parse_size("1GiB", n) && n == 1u << 30);
  for (const char* bad : {"", "-1", "1.5MB", "MB", "1 MB", "1mb", "99999999999999999999"}) {
    EXPECT_FALSE(parse_size(bad, n)) << bad;
  }
  std::chrono::milliseconds d{};
  EXPECT_TRUE(parse_duration("250ms", d) && d.count() == 250);
  EXPECT_TRUE(parse_duration("30", d) && d.count() == 30'000);
  EXPECT_TRUE(parse_duration("1m30s", d) && d.count() == 90'000);
  EXPECT_TRUE(parse_duration("1h", d) && d.count() == 3'600'000);
  for (const char* bad : {"", "s", "5x", "-5s", "1.5s", "5 s"}) {
    EXPECT_FALSE(parse_duration(bad, d)) << bad;
  }
  Endpoint e;
  EXPECT_TRUE(parse_endpoint("[::1]:0", e) && e.host == "::1" && e.port == 0);
  EXPECT_TRUE(parse_endpoint("", e) && !e.enabled());
  for (const char* bad : {"::1:5", "host", ":5", "h:", "h:x", "[::1]5"}) {
    EXPECT_FALSE(parse_endpoint(bad, e)) << bad;
  }
}

TEST(ConfigSection, AdaptersUseItForTheirOwnSections) {
  YAML::Node node = YAML::Load("servers: [a, b]\nreconnect_wait: 2s\ntls:\n  ca_file: x\nbogus: 1\n");
  Section s(node, "gw.yaml", "nats");
  std::vector<std::string> servers;
  std::chrono::milliseconds wait{};
  std::string ca;
  s.get("servers", servers);
  s.get_duration("reconnect_wait", wait);
  Section tls = s.child("tls");
  tls.get("ca_file", ca);
  s.adopt(tls);
  auto st = s.finish();
  EXPECT_EQ(servers, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(wait.count(), 2000);
  EXPECT_EQ(ca, "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "gw.yaml:5:1: unknown key 'bogus' in 'nats'");
}


TEST(CommandLine, FlagsOverrideTheFile) {
  const std::string path = "/tmp/psycho-config-test.yaml";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("gateway:\n  name: from-file\n  listen: 127.0.0.1:1000\n", f);
  std::fclose(f);
  const char* argv[] = {"psycho-gateway", "--config", path.c_str(), "--listen=127.0.0.1:2000",
                        "--admin", "", "--name", "from-flag"};
  auto cl = parse_command_line(8, argv);
  ASSERT_TRUE(cl) << cl.error();
  auto c = resolve_config(*cl, kAdapters);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.listen.port, 2000);
  EXPECT_EQ(c->gateway.name, "from-flag");
  EXPECT_FALSE(c->gateway.admin.enabled());
  EXPECT_TRUE(c->gateway.websocket.enabled());
  std::remove(path.c_str());
}

TEST(CommandLine, StdioTurnsDefaultListenersOff) {
  const char* argv[] = {"psycho-gateway", "--stdio", "--admin", "127.0.0.1:9999"};
  auto cl = parse_command_line(4, argv);
  ASSERT_TRUE(cl);
  auto c = resolve_config(*cl, kAdapters);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->stdio);
  EXPECT_FALSE(c->gateway.listen.enabled());
  EXPECT_FALSE(c->gateway.websocket.enabled());
  EXPECT_EQ(c->gateway.admin.port, 9999);
}

TEST(CommandLine, RejectsUnknownFlagsAndMissingValues) {
  const char* unknown[] = {"psycho-gateway", "--lisen", "x"};
  EXPECT_EQ(parse_command_line(3, unknown).error(), "unknown option '--lisen'");
  const char* missing[] = {"psycho-gateway", "--config"};
  EXPECT_EQ(parse_command_line(2, missing).error(), "option '--config' needs a value");
  const char* bad_endpoint[] = {"psycho-gateway", "--listen", "nowhere"};
  auto cl = parse_command_line(3, bad_endpoint);
  ASSERT_TRUE(cl);
  EXPECT_FALSE(resolve_config(*cl, kAdapters));
  const char* adapter[] = {"psycho-gateway", "--nats", "nats://127.0.0.1:4222"};
  auto with_adapter = parse_command_line(3, adapter, {"nats"});
  ASSERT_TRUE(with_adapter);
  ASSERT_EQ(with_adapter->adapter_flags.size(), 1u);
  EXPECT_EQ(with_adapter->adapter_flags[0].second, "nats://127.0.0.1:4222");
}

}  // namespace
}  // namespace psycho::config
