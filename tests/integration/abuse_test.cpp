// Hostile and broken peers against the real gateway: whatever they send, the gateway stays
// up for everybody else. Bounded in count and time.
#include <gtest/gtest.h>

#include <random>

#include "support/gateway.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;

// A well-behaved client that must keep working while the others misbehave.
void expect_healthy(Gateway& gw) {
  auto c = gw.client();
  c->send("CONNECT {\"verbose\":false,\"echo\":true}\nSUB health\nPUB health 2\nok\nPING\n");
  EXPECT_EQ(c->expect("PONG\n"), "MSG health 2\nok\nPONG\n");
}

TEST(Abuse, RandomBytesFromManyClientsNeverHurtOthers) {
  Gateway gw;
  std::mt19937 rng(12345);  // fixed seed: a failure can be replayed
  const std::string alphabet = "PUBSMGHNCTIOKRE +-\r\n\t0123456789.*>{}\"':abc";
  for (int round = 0; round < 20; ++round) {
    std::vector<std::unique_ptr<RawClient>> vandals;
    for (int i = 0; i < 10; ++i) {
      vandals.push_back(std::make_unique<RawClient>(gw.port()));
      std::string junk(1 + rng() % 3000, ' ');
      for (char& ch : junk) {
        ch = rng() % 4 == 0 ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
      }
      vandals.back()->send(junk);
    }
    for (auto& v : vandals) v->drain_for(1ms);
  }
  expect_healthy(gw);
  EXPECT_TRUE(gw.process().running());
}

TEST(Abuse, HalfOpenAndAbandonedConnectionsAreCleanedUp) {
  Gateway gw;
  for (int i = 0; i < 50; ++i) {
    RawClient c(gw.port());
    c.send("PUB a 100\nonly part of the pay");  // then vanish mid-payload
  }
  for (int i = 0; i < 50; ++i) {
    RawClient c(gw.port());
    c.send("SUB x\nSUB y.>\n");  // subscribe, then vanish
  }
  EXPECT_TRUE(eventually([&] {
    const std::string varz = gw.http_get("/varz");
    return varz.find("\"connections\":0") != std::string::npos &&
           varz.find("\"subscriptions\":0") != std::string::npos;
  }));
  expect_healthy(gw);
}

TEST(Abuse, OversizedAndMalformedWebSocketUpgradesAreRefused) {
  Gateway gw;
  RawClient(gw.port());
  {
    RawClient c(gw.websocket_port());
    c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    RawClient c(gw.websocket_port());
    c.send("NOT HTTP AT ALL\r\n\r\n");
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    RawClient c(gw.websocket_port());
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");  // plain HTTP, no upgrade
    EXPECT_NE(c.expect("404", 5s), "");
  }
  expect_healthy(gw);
}

TEST(Abuse, AdminEndpointSurvivesJunk) {
  Gateway gw;
  RawClient(gw.port());
  {
    RawClient c(gw.admin_port());
    c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    c.closed_by_peer();
  }
  {
    RawClient c(gw.admin_port());
    c.send(std::string(10000, 'G') + "\r\n\r\n");
    EXPECT_TRUE(c.closed_by_peer());
  }
  EXPECT_EQ(gw.http_get("/healthz").rfind("HTTP/1.1 200", 0), 0u);
}

}  // namespace
}  // namespace psycho::testing
