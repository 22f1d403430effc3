// The YAML file: gateway:, log:, adapter sections, and every way it can be wrong.
#include "config/load.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace psycho::config {
namespace {

const std::vector<std::string> kAdapters = {"nats", "multicast"};

Result<Config> parse(const std::string& yaml) { return parse_config(yaml, "gw.yaml", kAdapters); }

std::string error_of(const std::string& yaml) {
  auto r = parse(yaml);
  return r ? "<no error>" : r.error();
}

void expect_defaults(const Config& c) {
  const GatewayConfig d;
  const auto& g = c.gateway;
  EXPECT_EQ(g.name, "psycho-gateway");
  EXPECT_EQ(g.listen.to_string(), "127.0.0.1:4242");
  EXPECT_EQ(g.websocket.to_string(), "127.0.0.1:4243");
  EXPECT_EQ(g.websocket_path, "/");
  EXPECT_EQ(g.websocket_static, "") << "no static files unless asked for";
  EXPECT_EQ(g.admin.to_string(), "127.0.0.1:9242");
  EXPECT_EQ(g.max_payload, 1024u * 1024u);
  EXPECT_EQ(g.max_control_line, 4096u);
  EXPECT_EQ(g.max_pending, 8u * 1024u * 1024u);
  EXPECT_EQ(g.max_connections, d.max_connections);
  EXPECT_EQ(g.max_subscriptions, 65536u);
  EXPECT_EQ(g.ping_interval, std::chrono::minutes(2));
  EXPECT_EQ(g.max_pings_out, 2);
  EXPECT_EQ(g.workers, 0);
  EXPECT_EQ(g.shutdown_timeout, d.shutdown_timeout);
  EXPECT_EQ(g.handshake_timeout, d.handshake_timeout);
  EXPECT_FALSE(g.tls.enabled());
  EXPECT_TRUE(g.tls.key_file.empty() && g.tls.ca_file.empty() && !g.tls.verify_clients);
  EXPECT_EQ(c.log.level, LogLevel::info);
  EXPECT_EQ(c.log.format, LogFormat::text);
  EXPECT_TRUE(c.adapters.empty());
  EXPECT_FALSE(c.stdio);
}

TEST(ConfigLoad, EmptyOrCommentOnlyMeansDefaults) {
  for (const char* text : {"", "# nothing here\n", "\n\n", "---\n", "gateway:\nlog:\n"}) {
    auto c = parse(text);
    ASSERT_TRUE(c) << c.error();
    expect_defaults(*c);
  }
}

TEST(ConfigLoad, TheReferenceConfigSpellsOutTheDefaults) {
  auto c = load_config_file(PSYCHO_SOURCE_DIR "/deploy/psycho-gateway.yaml",
                            {"nats", "multicast", "poldercast"});
  ASSERT_TRUE(c) << c.error();
  expect_defaults(*c);
}

TEST(ConfigLoad, ReadsEveryGatewayAndLogKey) {
  auto c = parse(R"(
gateway:
  name: edge-1
  listen: 0.0.0.0:5000
  websocket: "[::1]:5001"
  websocket_path: /psycho
  websocket_static: apps
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
  EXPECT_EQ(g.websocket_static, "apps");
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
  EXPECT_EQ(g.tls.cert_file, "/c.pem");
  EXPECT_EQ(g.tls.key_file, "/k.pem");
  EXPECT_EQ(g.tls.ca_file, "/ca.pem");
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
  EXPECT_EQ(c->adapters[1].node.Mark().line, 3) << "positions survive for the adapter's errors";
  auto empty = parse("nats:\n");
  ASSERT_TRUE(empty) << empty.error();
  ASSERT_EQ(empty->adapters.size(), 1u) << "present but empty still enables the adapter";
  auto bad = parse("nats:\n  whatever: [1, {x: 2}]\n");
  EXPECT_TRUE(bad) << "adapter sections are not validated here";
}

TEST(ConfigLoad, EnvironmentExpansion) {
  ::setenv("PSYCHO_TEST_PORT", "6000", 1);
  ::setenv("PSYCHO_TEST_SIZE", "2MiB", 1);
  ::unsetenv("PSYCHO_TEST_UNSET");
  auto c = parse(
      "gateway:\n  listen: 127.0.0.1:${PSYCHO_TEST_PORT}\n"
      "  name: ${PSYCHO_TEST_UNSET:-fallback}-$$x\n"
      "  max_payload: ${PSYCHO_TEST_SIZE}\n"
      "  admin: ${PSYCHO_TEST_UNSET:-}\n"
      "log:\n  level: ${PSYCHO_TEST_UNSET:-warn}\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->gateway.listen.port, 6000);
  EXPECT_EQ(c->gateway.name, "fallback-$x");
  EXPECT_EQ(c->gateway.max_payload, 2u << 20);
  EXPECT_FALSE(c->gateway.admin.enabled());
  EXPECT_EQ(c->log.level, LogLevel::warn);
  EXPECT_EQ(error_of("gateway:\n  name: ${PSYCHO_TEST_UNSET}\n"),
            "gw.yaml:2:9: environment variable 'PSYCHO_TEST_UNSET' is not set (use "
            "${PSYCHO_TEST_UNSET:-default} for a fallback)");
  EXPECT_EQ(error_of("gateway:\n  max_payload: ${PSYCHO_TEST_PORT}GiB\n"),
            "gw.yaml:2:16: 'gateway.max_payload' must be between 1 and 67108864 bytes, not "
            "'6000GiB'")
      << "the message shows the expanded value";
}

struct BadCase {
  const char* yaml;
  const char* error;
};

TEST(ConfigLoad, EveryErrorNamesFileLineAndColumn) {
  const BadCase cases[] = {
      // unknown keys, at every level
      {"gateway:\n  listne: 1.2.3.4:5\n",
       "gw.yaml:2:3: unknown key 'listne' in 'gateway' (did you mean 'listen'?)"},
      {"gatway:\n  name: x\n",
       "gw.yaml:1:1: unknown section 'gatway' (did you mean 'gateway'?) (known: gateway, log, "
       "nats, multicast)"},
      {"poldercast: {}\n",
       "gw.yaml:1:1: unknown section 'poldercast' (known: gateway, log, nats, multicast)"},
      {"gateway:\n  tls:\n    cert: x\n", "gw.yaml:3:5: unknown key 'cert' in 'gateway.tls'"},
      {"gateway:\n  tls:\n    key_flie: x\n",
       "gw.yaml:3:5: unknown key 'key_flie' in 'gateway.tls' (did you mean 'key_file'?)"},
      {"log:\n  colour: red\n", "gw.yaml:2:3: unknown key 'colour' in 'log'"},
      {"log:\n  levle: info\n",
       "gw.yaml:2:3: unknown key 'levle' in 'log' (did you mean 'level'?)"},
      // duplicates
      {"gateway:\n  name: a\n  name: b\n", "gw.yaml:3:3: duplicate key 'name' in 'gateway'"},
      {"log: {}\nlog: {}\n", "gw.yaml:2:1: duplicate section 'log'"},
      {"nats: {}\nnats: {}\n", "gw.yaml:2:1: duplicate section 'nats'"},
      // wrong types
      {"gateway: 5\n", "gw.yaml:1:10: 'gateway' must be a mapping"},
      {"gateway: [a]\n", "gw.yaml:1:10: 'gateway' must be a mapping"},
      {"log: text\n", "gw.yaml:1:6: 'log' must be a mapping"},
      {"gateway:\n  tls: on\n", "gw.yaml:2:8: 'gateway.tls' must be a mapping"},
      {"gateway:\n  name: [a, b]\n", "gw.yaml:2:9: 'gateway.name' must be a single value"},
      {"gateway:\n  listen: {host: a}\n", "gw.yaml:2:11: 'gateway.listen' must be a single value"},
      {"gateway:\n  workers:\n", "gw.yaml:2:3: 'gateway.workers' needs a value"},
      {"- a\n- b\n", "gw.yaml:1:1: the configuration must be a mapping"},
      {"just text\n", "gw.yaml:1:1: the configuration must be a mapping"},
      {"[a]: 1\n", "gw.yaml:1:1: section names must be plain"},
      // values
      {"gateway:\n  max_payload: lots\n",
       "gw.yaml:2:16: 'gateway.max_payload' must be a size like 1048576, 64KiB or 8MB, not "
       "'lots'"},
      {"gateway:\n  max_payload: -1\n",
       "gw.yaml:2:16: 'gateway.max_payload' must be a size like 1048576, 64KiB or 8MB, not '-1'"},
      {"gateway:\n  max_payload: 100MiB\n",
       "gw.yaml:2:16: 'gateway.max_payload' must be between 1 and 67108864 bytes, not '100MiB'"},
      {"gateway:\n  max_payload: 0\n",
       "gw.yaml:2:16: 'gateway.max_payload' must be between 1 and 67108864 bytes, not '0'"},
      {"gateway:\n  max_control_line: 63\n",
       "gw.yaml:2:21: 'gateway.max_control_line' must be between 64 and 1048576 bytes, not '63'"},
      {"gateway:\n  max_pending: 1KiB\n",
       "gw.yaml:2:16: 'gateway.max_pending' must be between 65536 and 17179869184 bytes, not "
       "'1KiB'"},
      {"gateway:\n  max_payload: 16MiB\n",
       "gw.yaml:2:16: 'gateway.max_pending' (8388608) must be at least 'gateway.max_payload' "
       "(16777216)"},
      {"gateway:\n  max_connections: 0\n",
       "gw.yaml:2:20: 'gateway.max_connections' must be a whole number from 1 to 10000000, not "
       "'0'"},
      {"gateway:\n  max_subscriptions: 1KiB\n",
       "gw.yaml:2:22: 'gateway.max_subscriptions' must be a whole number from 0 to 10000000, not "
       "'1KiB'"},
      {"gateway:\n  ping_interval: soon\n",
       "gw.yaml:2:18: 'gateway.ping_interval' must be a duration like 250ms, 30s, 2m or 1h, "
       "not 'soon'"},
      {"gateway:\n  ping_interval: 50ms\n",
       "gw.yaml:2:18: 'gateway.ping_interval' must be at least 100ms, not '50ms'"},
      {"gateway:\n  shutdown_timeout: -1s\n",
       "gw.yaml:2:21: 'gateway.shutdown_timeout' must be a duration like 250ms, 30s, 2m or 1h, "
       "not '-1s'"},
      {"gateway:\n  max_pings_out: 0\n",
       "gw.yaml:2:18: 'gateway.max_pings_out' must be a whole number from 1 to 1000, not '0'"},
      {"gateway:\n  workers: -1\n",
       "gw.yaml:2:12: 'gateway.workers' must be a whole number from 0 to 256, not '-1'"},
      {"gateway:\n  workers: 257\n",
       "gw.yaml:2:12: 'gateway.workers' must be a whole number from 0 to 256, not '257'"},
      {"gateway:\n  listen: localhost\n",
       "gw.yaml:2:11: 'gateway.listen' must be host:port, [ipv6]:port or \"\" (disabled), not "
       "'localhost'"},
      {"gateway:\n  listen: 1.2.3.4:70000\n",
       "gw.yaml:2:11: 'gateway.listen' must be host:port, [ipv6]:port or \"\" (disabled), not "
       "'1.2.3.4:70000'"},
      {"gateway:\n  admin: \"::1:80\"\n",
       "gw.yaml:2:10: 'gateway.admin' must be host:port, [ipv6]:port or \"\" (disabled), not "
       "'::1:80'"},
      {"gateway:\n  name: \"\"\n", "gw.yaml:2:9: 'gateway.name' must not be empty"},
      {"gateway:\n  websocket_path: ws\n",
       "gw.yaml:2:19: 'gateway.websocket_path' must start with '/'"},
      {"gateway:\n  tls:\n    verify_clients: maybe\n",
       "gw.yaml:3:21: 'gateway.tls.verify_clients' must be true or false, not 'maybe'"},
      // tls combinations
      {"gateway:\n  tls:\n    cert_file: /c\n",
       "gw.yaml:3:16: 'gateway.tls' needs both cert_file and key_file"},
      {"gateway:\n  tls:\n    key_file: /k\n",
       "gw.yaml:3:15: 'gateway.tls' needs both cert_file and key_file"},
      {"gateway:\n  tls:\n    ca_file: /ca\n",
       "gw.yaml:3:14: 'gateway.tls.ca_file' needs cert_file and key_file"},
      {"gateway:\n  tls:\n    cert_file: /c\n    key_file: /k\n    verify_clients: true\n",
       "gw.yaml:5:21: 'gateway.tls.verify_clients' needs ca_file"},
      // log
      {"log:\n  level: loud\n",
       "gw.yaml:2:10: 'log.level' must be trace, debug, info, warn, error or off, not 'loud'"},
      {"log:\n  level: INFO\n",
       "gw.yaml:2:10: 'log.level' must be trace, debug, info, warn, error or off, not 'INFO'"},
      {"log:\n  format: xml\n", "gw.yaml:2:11: 'log.format' must be text or json, not 'xml'"},
      // YAML syntax, reported by yaml-cpp at its own position
      {"gateway:\n  name: [unclosed\n", "gw.yaml:3:1: end of sequence flow not found"},
      {"gateway: {name: a\n", "gw.yaml:2:1: end of map flow not found"},
      {"gateway:\n  name: a\n bad: b\n", "gw.yaml:3:2: end of map not found"},
      {"gateway:\n  name: a: b\n", "gw.yaml:2:10: illegal map value"},
      {"gateway:\n\tname: a\n", "gw.yaml:2:6: illegal map value"},
      {"gateway:\n  name: *nowhere\n", "gw.yaml:2:9: the referenced anchor is not defined"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.yaml), c.error) << c.yaml;
}

TEST(ConfigLoad, AllErrorsAreReportedAtOnce) {
  EXPECT_EQ(error_of("gateway:\n  workers: x\n  max_pings_out: 0\n  bogus: 1\nlog:\n  a: 1\n"
                     "wat: 2\n"),
            "gw.yaml:3:18: 'gateway.max_pings_out' must be a whole number from 1 to 1000, not '0'\n"
            "gw.yaml:2:12: 'gateway.workers' must be a whole number from 0 to 256, not 'x'\n"
            "gw.yaml:4:3: unknown key 'bogus' in 'gateway'\n"
            "gw.yaml:6:3: unknown key 'a' in 'log'\n"
            "gw.yaml:7:1: unknown section 'wat' (known: gateway, log, nats, multicast)");
}

TEST(ConfigLoad, DefaultsGivenByTheCallerFillWhatTheFileLeavesOut) {
  Config defaults;
  defaults.gateway.listen = Endpoint{};
  defaults.stdio = true;
  auto c = parse_config("gateway:\n  admin: 127.0.0.1:1\n", "gw.yaml", kAdapters, defaults);
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->gateway.listen.enabled());
  EXPECT_EQ(c->gateway.admin.port, 1);
  EXPECT_TRUE(c->stdio);
  auto empty = parse_config("", "gw.yaml", kAdapters, defaults);
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->gateway.listen.enabled());
}

TEST(ConfigLoad, FileErrorsNameTheFile) {
  auto missing = load_config_file("/nonexistent/psycho.yaml", kAdapters);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            "/nonexistent/psycho.yaml: cannot read the configuration file: No such file or "
            "directory");
  auto dir = load_config_file("/tmp", kAdapters);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error(), "/tmp: cannot read the configuration file: Is a directory");
}

TEST(ConfigLoad, FileContentsAreParsedWithTheFileName) {
  char path[] = "/tmp/psycho-config-test-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "# comment\ngateway:\n  workers: many\n";
  auto c = load_config_file(path, kAdapters);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), std::string(path) +
                           ":3:12: 'gateway.workers' must be a whole number from "
                           "0 to 256, not 'many'");
  std::ofstream(path) << "";
  auto empty = load_config_file(path, kAdapters);
  ASSERT_TRUE(empty) << empty.error();
  expect_defaults(*empty);
  ::unlink(path);
}

}  // namespace
}  // namespace psycho::config

namespace psycho::config {
namespace {

constexpr const char* kHash = "$2b$04$BmCyZuFe2z2HQRE8i/zN6OuI6dyjTjsJeApNd0FJAQWpbyg56/IF2";

TEST(ConfigAuth, NoAuthByDefault) {
  auto c = parse_config("", "gw.yaml", {});
  ASSERT_TRUE(c) << c.error();
  EXPECT_FALSE(c->gateway.auth.required());
  EXPECT_EQ(c->gateway.auth.timeout, std::chrono::seconds(2));
  EXPECT_FALSE(c->gateway.publish_rate.enabled());
}

TEST(ConfigAuth, ReadsEveryKey) {
  auto c = parse_config(std::string(R"(
gateway:
  publish_rate: {messages: 1000, bytes: 1MiB}
  tls: {cert_file: /c.pem, key_file: /k.pem, ca_file: /ca.pem, verify_clients: true}
  auth:
    timeout: 500ms
    token: ${PSYCHO_TEST_TOKEN:-tok}
    hmac_max_skew: 10s
    tls_map: true
    users:
      - user: alice
        password: ')") + kHash +
                            R"('
        permissions:
          publish: {allow: [orders.>], deny: [orders.admin.>]}
          subscribe: {allow: [orders.>, _INBOX.>]}
          allow_responses: true
        max_connections: 2
        max_subscriptions: 10
        max_payload: 64KiB
        publish_rate: {messages: 5}
      - user: bob
)",
                        "gw.yaml", {});
  ASSERT_TRUE(c) << c.error();
  const AuthConfig& a = c->gateway.auth;
  EXPECT_TRUE(a.required());
  EXPECT_EQ(a.timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(a.token, "tok");
  EXPECT_EQ(a.hmac_max_skew, std::chrono::seconds(10));
  EXPECT_TRUE(a.tls_map);
  ASSERT_EQ(a.users.size(), 2u);
  const UserConfig& alice = a.users[0];
  EXPECT_EQ(alice.password, kHash);
  EXPECT_EQ(alice.permissions.publish.deny, (std::vector<std::string>{"orders.admin.>"}));
  EXPECT_EQ(alice.permissions.subscribe.allow.size(), 2u);
  EXPECT_TRUE(alice.permissions.allow_responses);
  EXPECT_EQ(alice.max_connections, 2u);
  EXPECT_EQ(alice.max_payload, 64u * 1024);
  EXPECT_EQ(alice.publish_rate.messages, 5u);
  EXPECT_EQ(a.users[1].password, "");
  EXPECT_EQ(c->gateway.publish_rate.bytes, 1u << 20);
}

TEST(ConfigAuth, MistakesAreNamedWithoutEchoingSecrets) {
  struct Case {
    std::string yaml, error;
  };
  const std::vector<Case> cases = {
      {"gateway:\n  auth:\n    users:\n      - user: a\n        password: plaintext-pw\n",
       "gw.yaml:5:19: 'gateway.auth.users[0].password' must be a bcrypt hash"},
      {"gateway:\n  auth:\n    users:\n      - user: a\n      - user: a\n",
       "user 'a' is listed twice"},
      {"gateway:\n  auth:\n    users:\n      - password: x\n", "must name the user"},
      {"gateway:\n  auth:\n    users:\n      - user: a\n        permissions: {publish: {allow: "
       "['a..b']}}\n",
       "invalid subject pattern 'a..b'"},
      {"gateway:\n  auth:\n    tls_map: true\n", "needs 'gateway.tls.verify_clients: true'"},
      {"gateway:\n  auth:\n    hmac_secret_file: /nonexistent/secret\n",
       "cannot read '/nonexistent/secret'"},
      {"gateway:\n  auth:\n    users: {alice: x}\n", "'gateway.auth.users' must be a list"},
      {"gateway:\n  auth:\n    users:\n      - user: a\n        pasword: x\n",
       "did you mean 'password'"},
  };
  for (const auto& c : cases) {
    auto r = parse_config(c.yaml, "gw.yaml", {});
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_NE(r.error().find(c.error), std::string::npos) << c.yaml << "\n" << r.error();
    EXPECT_EQ(r.error().find("plaintext-pw"), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace psycho::config
