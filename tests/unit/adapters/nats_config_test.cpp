#include "adapters/nats/nats_config.hpp"

#include <gtest/gtest.h>

namespace psycho::nats {
namespace {

Result<NatsConfig> parse(const std::string& yaml) {
  return parse_config(config::AdapterSection{"nats", YAML::Load(yaml), "gw.yaml"});
}

TEST(NatsConfig, ServersAloneMeanEverythingBothWaysWithDefaults) {
  const auto c = parse("servers: nats://127.0.0.1:4222");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->servers, (std::vector<std::string>{"nats://127.0.0.1:4222"}));
  EXPECT_TRUE(c->subjects.exports("any.thing"));
  EXPECT_TRUE(c->subjects.imports("any.thing"));
  EXPECT_EQ(c->reconnect.max_attempts, -1);  // forever
  EXPECT_EQ(c->trace_headers, TraceHeaders::automatic);
  EXPECT_FALSE(c->jetstream.enabled());
}

TEST(NatsConfig, TheFlagsCommaListIsACluster) {
  const auto c = parse("servers: 'nats://a:1, nats://b:2,tls://c:3'");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->servers, (std::vector<std::string>{"nats://a:1", "nats://b:2", "tls://c:3"}));
}

TEST(NatsConfig, EveryKeyIsRead) {
  const auto c = parse(R"(
servers: [nats://a:1, nats://b:2]
name: edge-7
user: alice
password: secret
reconnect: {wait: 250ms, jitter: 0s, max_attempts: 5, buffer_size: 1MiB}
connect_timeout: 1s
subjects: [orders.>]
import: [prices.>]
export: [audit.>]
export_prefix: edge7
import_prefix: edge7
trace_headers: false
bus: east
queue_size: 4MiB
pending_messages: 1000
pending_bytes: 8MiB
jetstream: {export: [audit.>], ack_timeout: 2s, max_pending: 100, retries: 1}
)");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->name, "edge-7");
  EXPECT_EQ(c->reconnect.wait, std::chrono::milliseconds(250));
  EXPECT_EQ(c->reconnect.max_attempts, 5);
  EXPECT_EQ(c->reconnect.buffer_size, 1u << 20);
  EXPECT_EQ(c->trace_headers, TraceHeaders::off);
  EXPECT_EQ(c->bus, "east");
  EXPECT_EQ(c->queue.bytes, 4u << 20);
  EXPECT_EQ(c->pending_messages, 1000);
  EXPECT_EQ(c->jetstream.exports, (std::vector<std::string>{"audit.>"}));
  EXPECT_EQ(c->jetstream.retries, 1);
  EXPECT_FALSE(c->subjects.exports("prices.x"));
}

TEST(NatsConfig, TraceHeadersAreAutoOrABool) {
  const std::pair<const char*, TraceHeaders> cases[] = {{"auto", TraceHeaders::automatic},
                                                        {"true", TraceHeaders::on},
                                                        {"on", TraceHeaders::on},
                                                        {"false", TraceHeaders::off},
                                                        {"no", TraceHeaders::off}};
  for (const auto& [value, expected] : cases) {
    const auto c = parse(std::string("servers: nats://a:1\ntrace_headers: ") + value);
    ASSERT_TRUE(c) << value << ": " << c.error();
    EXPECT_EQ(c->trace_headers, expected) << value;
  }
  const auto bad = parse("servers: nats://a:1\ntrace_headers: sometimes");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("gw.yaml:2:16: 'nats.trace_headers' must be auto, true or false, "
                             "not 'sometimes'"),
            std::string::npos)
      << bad.error();
}

TEST(NatsConfig, MistakesAreNamedWithTheirPlace) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"name: x", "'nats.servers' needs at least one server URL"},
      {"servers: 127.0.0.1:4222", "is not a NATS URL"},
      {"servers: nats://a:1\nsubjects: ['a.>.b']", "invalid subject pattern 'a.>.b'"},
      {"servers: nats://a:1\ncreds_file: /nonexistent/x.creds",
       "cannot read '/nonexistent/x.creds'"},
      {"servers: nats://a:1\nuser: a\ntoken: t", "choose one of"},
      {"servers: nats://a:1\npassword: p", "'nats.password' needs 'user'"},
      {"servers: nats://a:1\nnkey_seed_file: /etc/hostname", "go together"},
      {"servers: nats://a:1\ntls: {cert_file: /etc/hostname}", "go together"},
      {"servers: nats://a:1\nreconect: {}", "did you mean 'reconnect'"},
      {"servers: nats://a:1\njetstream: {export: ['']}", "invalid subject pattern"},
      {"servers: nats://a:1\nreconnect: {max_attempts: -2}", "max_attempts"},
  };
  for (const auto& c : cases) {
    const auto r = parse(c.yaml);
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_NE(r.error().find(c.error), std::string::npos) << c.yaml << "\n" << r.error();
    EXPECT_NE(r.error().find("gw.yaml:"), std::string::npos) << r.error();
  }
}

TEST(NatsConfig, BusIdsAreStableAndNeverZero) {
  EXPECT_EQ(bus_id("nats"), bus_id("nats"));
  EXPECT_NE(bus_id("east"), bus_id("west"));
  EXPECT_NE(bus_id(""), 0u);
}

TEST(NatsConfig, OnlyTheSubjectListsChangeWithoutARestart) {
  const auto running = parse("{servers: nats://a:1, subjects: [a.>]}");
  ASSERT_TRUE(running) << running.error();
  const auto live = parse("{servers: nats://a:1, subjects: [b.>], import_prefix: hub}");
  ASSERT_TRUE(live) << live.error();
  EXPECT_EQ(restart_keys(*running, *live), "");
  const auto restart = parse(
      "{servers: nats://b:1, subjects: [b.>], user: u, password: p, reconnect: {wait: 1s}, "
      "pending_messages: 64, jetstream: {export: [j.>]}}");
  ASSERT_TRUE(restart) << restart.error();
  EXPECT_EQ(restart_keys(*running, *restart),
            "servers, credentials, reconnect, queue_size/pending_*, jetstream");
}

TEST(NatsConfig, AnyFieldOfASettingsGroupNeedsARestart) {
  const auto running = parse("servers: nats://a:1");
  ASSERT_TRUE(running) << running.error();
  NatsConfig next = *running;
  next.tls.verify = !next.tls.verify;
  EXPECT_EQ(restart_keys(*running, next), "tls");
}

}  // namespace
}  // namespace psycho::nats
