// Connection life cycle against the real gateway: slow consumers, stale connections,
// connection limits, many clients, stdio mode, signals and configuration checking.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "support/gateway.hpp"
#include "support/ports.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;

// Counts complete "MSG flood" deliveries that have arrived at `c`, consuming them.
std::size_t take_flood_messages(RawClient& c) {
  std::size_t n = 0;
  while (c.expect("MSG flood 1000\n", 0ms) != "") ++n;
  return n;
}

TEST(Lifecycle, SlowConsumerIsCutOffWhileFastOnesKeepReceiving) {
  Gateway gw(with_config("gateway:\n  max_payload: 2KiB\n  max_pending: 128KiB\n"));
  auto slow = gw.client();
  auto fast = gw.client();
  auto pub = gw.client();
  slow->send("CONNECT {\"verbose\":false}\nSUB flood\nPING\n");
  ASSERT_EQ(slow->line(), "PONG\n");
  fast->send("CONNECT {\"verbose\":false}\nSUB flood\nPING\n");
  ASSERT_EQ(fast->line(), "PONG\n");
  pub->send("CONNECT {\"verbose\":false}\n");
  const std::string payload(1000, 'p');
  // 20 KB a round: well inside max_pending for a client that reads, even counting the bytes
  // the gateway has written but not yet seen completed (the client may have them already).
  constexpr int kPerRound = 20;
  std::string batch;
  for (int i = 0; i < kPerRound; ++i) batch += "PUB flood 1000\n" + payload + "\n";
  // The slow client never reads; once the kernel's socket buffers are full its queue in the
  // gateway passes 128 KiB. The fast client takes each round before the next is sent, so it
  // never comes near the limit, however loaded the machine is. Bounded: 2,000 rounds.
  std::size_t published = 0, fast_received = 0;
  bool slow_cut = false;
  for (int round = 0; round < 2000 && !slow_cut; ++round) {
    pub->send(batch);
    published += kPerRound;
    ASSERT_TRUE(eventually(
        [&] {
          fast->drain_for(1ms);
          fast_received += take_flood_messages(*fast);
          return fast_received == published;
        },
        20s))
        << "fast client got " << fast_received << " of " << published << "; gateway log:\n"
        << gw.process().errors();
    if (round % 20 == 19) {
      slow_cut = gw.http_get("/metrics").find("psycho_slow_consumers_total 1") != std::string::npos;
    }
  }
  EXPECT_TRUE(slow_cut);
  EXPECT_EQ(fast_received, published);
  // The slow one is told, once it reads again, and is closed.
  EXPECT_NE(slow->expect("-ERR 'Slow Consumer'\n", 10s), "");
  EXPECT_TRUE(slow->closed_by_peer());
  const std::string metrics = gw.http_get("/metrics");
  EXPECT_NE(metrics.find("psycho_slow_consumers_total 1"), std::string::npos);
  EXPECT_NE(metrics.find("psycho_protocol_errors_total{error=\"Slow Consumer\"} 1"),
            std::string::npos);
}

TEST(Lifecycle, FlowControlSlowsAFastPublisherInsteadOfCuttingOffAReader) {
  // A subscriber that reads steadily, but slower than the publisher writes, with a small
  // max_pending: without flow control it would be a slow consumer within milliseconds.
  Gateway gw(with_config("gateway:\n  max_pending: 1MiB\n"));
  auto sub = gw.client();
  sub->send("CONNECT {\"verbose\":false}\nSUB stream\nPING\n");
  ASSERT_EQ(sub->line(), "PONG\n");
  constexpr int kMessages = 20000;  // 20 MB, bounded
  std::thread publisher([&] {
    auto pub = gw.client();
    pub->send("CONNECT {\"verbose\":false}\n");
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += "PUB stream 1000\n" + std::string(1000, 'x') + "\n";
    for (int i = 0; i < kMessages / 100; ++i) pub->send(batch);
    pub->send("PING\n");
    pub->expect("PONG\n", 60s);
  });
  std::size_t received = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (received < kMessages && std::chrono::steady_clock::now() < deadline) {
    if (sub->expect("MSG stream 1000\n", 1s) == "") break;
    ++received;
  }
  publisher.join();
  EXPECT_EQ(received, static_cast<std::size_t>(kMessages));
  EXPECT_NE(gw.http_get("/metrics").find("psycho_slow_consumers_total 0"), std::string::npos);
}

TEST(Lifecycle, ClientThatStopsAnsweringPingIsClosedAsStale) {
  Gateway gw(with_config("gateway:\n  ping_interval: 1s\n  max_pings_out: 2\n"));
  auto quiet = gw.client();
  auto polite = gw.client();
  // The polite client answers every PING; the quiet one never does.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string quiet_seen;
  while (std::chrono::steady_clock::now() < deadline && !quiet->closed_by_peer(50ms)) {
    if (polite->expect("PING\n", 10ms) != "") polite->send("PONG\n");
  }
  quiet_seen = quiet->pending();
  EXPECT_NE(quiet_seen.find("PING\nPING\n-ERR 'Stale Connection'\n"), std::string::npos)
      << quiet_seen;
  polite->send("PING\n");
  EXPECT_NE(polite->expect("PONG\n"), "");
}

TEST(Lifecycle, ConnectionsBeyondTheLimitAreRefused) {
  Gateway gw(with_config("gateway:\n  max_connections: 2\n"));
  auto a = gw.client();
  auto b = gw.client();
  RawClient c(gw.port());
  EXPECT_EQ(c.line().rfind("INFO {", 0), 0u);  // INFO first, as on every connection
  EXPECT_EQ(c.line(), "-ERR 'Maximum Connections Exceeded'\n");
  EXPECT_TRUE(c.closed_by_peer());
  b.reset();
  EXPECT_TRUE(eventually([&] {
    RawClient d(gw.port());
    return d.line().rfind("INFO ", 0) == 0;
  }));
}

TEST(Lifecycle, ConnectionsStillInTheirHandshakeCountTowardTheLimit) {
  Gateway gw(with_config("gateway:\n  max_connections: 2\n"));
  // Two sockets on the WebSocket port that never send their upgrade request.
  RawClient stalled_a(gw.websocket_port());
  RawClient stalled_b(gw.websocket_port());
  ASSERT_TRUE(stalled_a.connected() && stalled_b.connected());
  ASSERT_TRUE(eventually([&] {
    return gw.http_get("/varz").find("\"connections_in_handshake\":2") != std::string::npos;
  }));
  // A third client finds no slot left.
  RawClient c(gw.port());
  EXPECT_EQ(c.line().rfind("INFO {", 0), 0u);
  EXPECT_EQ(c.line(), "-ERR 'Maximum Connections Exceeded'\n");
}

TEST(Lifecycle, AClientThatSaysNothingIsClosedAfterTheFirstOpTimeout) {
  Gateway gw(with_config("gateway:\n  first_op_timeout: 1s\n"));
  auto silent = gw.client();
  auto talker = gw.client();
  talker->send("PING\n");
  ASSERT_EQ(talker->line(), "PONG\n");
  ASSERT_TRUE(silent->closed_by_peer(5s));
  EXPECT_EQ(silent->pending(), "-ERR 'Stale Connection'\n");
  // The talker has outlived the same timeout.
  talker->send("PING\n");
  EXPECT_EQ(talker->line(), "PONG\n");
}

TEST(Lifecycle, SubscriptionsBeyondTheLimitAreRefusedAndTheClientStays) {
  Gateway gw(with_config("gateway:\n  max_subscriptions: 2\n"));
  auto c = gw.client();
  c->send("SUB a\nSUB b\nSUB a\nSUB c\nPING\n");
  EXPECT_EQ(c->expect("PONG\n"), "+OK\n+OK\n+OK\n-ERR 'Maximum Subscriptions Exceeded'\nPONG\n");
  c->send("UNSUB a\nSUB c\nPUB c 1\nx\nPING\n");
  EXPECT_EQ(c->expect("PONG\n"), "+OK\n+OK\n+OK\nPONG\n");
}

TEST(Lifecycle, ManyConcurrentClientsAllReceive) {
  Gateway gw;
  constexpr int kClients = 200;
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(gw.client());
    clients.back()->send("CONNECT {\"verbose\":false}\nSUB many.>\nPING\n");
  }
  for (auto& c : clients) ASSERT_EQ(c->line(), "PONG\n");
  auto pub = gw.client();
  pub->send("PUB many.hello 2\nhi\n");
  for (auto& c : clients) EXPECT_EQ(c->expect("hi\n"), "MSG many.hello 2\nhi\n");
}

TEST(Lifecycle, StdioModeServesOneClientOnStdinAndStdout) {
  Process gw({gateway_binary(), "--stdio"}, true);
  gw.write_stdin("SUB a\nCONNECT {\"echo\":true}\nPUB a 2\nhi\nPING\n");
  gw.close_stdin();
  EXPECT_EQ(gw.wait(10s), 0) << gw.errors();
  const std::string out = gw.output();
  EXPECT_EQ(out.rfind("INFO {", 0), 0u) << out;
  EXPECT_NE(out.find("\n+OK\n+OK\n+OK\nMSG a 2\nhi\nPONG\n"), std::string::npos) << out;
}

TEST(Lifecycle, StdioModeExitsWhenTheClientIsClosedForAnError) {
  Process gw({gateway_binary(), "--stdio"}, true);
  gw.write_stdin("BOGUS\n");  // and stdin stays open
  EXPECT_EQ(gw.wait(10s), 0) << gw.errors();
  EXPECT_NE(gw.output().find("-ERR 'Unknown Protocol Operation'\n"), std::string::npos);
}

TEST(Lifecycle, StdioModeLosesNothingOfALargeInput) {
  Process gw({gateway_binary(), "--stdio"}, true);
  std::string input = "CONNECT {\"verbose\":false,\"echo\":true}\nSUB big\n";
  for (int i = 0; i < 300; ++i) input += "PUB big 1000\n" + std::string(1000, 'z') + "\n";
  gw.write_stdin(input + "PING\n");  // about 300 KB: several reads of stdin
  gw.close_stdin();
  EXPECT_EQ(gw.wait(20s), 0) << gw.errors();
  const std::string out = gw.output();
  std::size_t messages = 0;
  for (auto p = out.find("MSG big 1000\n"); p != std::string::npos;
       p = out.find("MSG big", p + 1)) {
    ++messages;
  }
  EXPECT_EQ(messages, 300u);
  EXPECT_NE(out.find("PONG\n"), std::string::npos);
}

TEST(Lifecycle, SigtermDrainsAndExitsZero) {
  Gateway gw;
  auto c = gw.client();
  c->send("PING\n");
  ASSERT_EQ(c->line(), "PONG\n");
  gw.process().signal(SIGTERM);
  EXPECT_EQ(gw.process().wait(10s), 0) << gw.process().errors();
  EXPECT_TRUE(c->closed_by_peer());
}

TEST(Lifecycle, CheckConfigNamesFileLineAndColumn) {
  const std::string bad = write_temp_file("bad", "gateway:\n  listne: 1.2.3.4:5\n");
  Process check({gateway_binary(), "--check-config", bad});
  EXPECT_NE(check.wait(10s), 0);
  EXPECT_NE(check.errors().find(bad + ":2:3"), std::string::npos) << check.errors();
  const std::string good = write_temp_file("good", "gateway:\n  name: edge-1\n");
  Process ok({gateway_binary(), "--check-config", good});
  EXPECT_EQ(ok.wait(10s), 0) << ok.errors();
}

// --ports-file: listeners given port 0 report what they bound, whole, while the gateway runs;
// INFO names the bound port too.
TEST(Lifecycle, PortsFileReportsTheBoundPortsWhileRunning) {
  char dir[] = "/tmp/psycho-ports-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/ports.json";
  Process gw({gateway_binary(), "--listen", "127.0.0.1:0", "--websocket", "", "--admin",
              "127.0.0.1:0", "--ports-file", path});
  std::string text;
  gw.wait_until_ready(
      "ports file",
      [&] {
        text = slurp(path);
        return !text.empty();
      },
      10s);
  const int listen = reported_port(text, "listen");
  const int admin = reported_port(text, "admin");
  ASSERT_NE(listen, 0) << text;
  ASSERT_NE(admin, 0) << text;
  EXPECT_EQ(text.find("websocket"), std::string::npos) << "disabled, so not reported: " << text;
  RawClient c(listen);
  EXPECT_NE(c.line().find("\"port\":" + std::to_string(listen) + ","), std::string::npos);
  RawClient http(admin);
  http.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(http.line().rfind("HTTP/1.1 200", 0), 0u);
  gw.signal(SIGTERM);
  EXPECT_EQ(gw.wait(10s), 0) << gw.errors();
  EXPECT_FALSE(std::filesystem::exists(path)) << "removed with the listeners";
  std::filesystem::remove_all(dir);
}

// The harness: a gateway that exits before it listens fails the test with its stderr, at
// once, instead of a timeout somewhere later.
TEST(Lifecycle, AGatewayThatCannotStartShowsItsStderr) {
  const auto started = std::chrono::steady_clock::now();
  try {
    Gateway gw(with_config("gateway:\n  listne: 127.0.0.1:1\n"));
    FAIL() << "the gateway started with a misspelt key";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("exited with code 1"), std::string::npos) << what;
    EXPECT_NE(what.find("unknown key 'listne'"), std::string::npos) << what;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

}  // namespace
}  // namespace psycho::testing
