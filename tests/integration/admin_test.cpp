// The admin endpoint of the real gateway: health, readiness, /varz and /metrics, the
// latter checked by Prometheus' own promtool.
#include <gtest/gtest.h>

#include "support/gateway.hpp"
#include "support/observe.hpp"

namespace psycho::testing {
namespace {

std::string body_of(const std::string& response) {
  const auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

TEST(Admin, HealthAndReadiness) {
  Gateway gw;
  auto c = gw.client();  // the gateway is up once a client got INFO
  EXPECT_EQ(gw.http_get("/healthz").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(gw.http_get("/readyz").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(gw.http_get("/nope").rfind("HTTP/1.1 404", 0), 0u);
}

TEST(Admin, VarzCountsTraffic) {
  Gateway gw;
  auto c = gw.client();
  c->send("CONNECT {\"verbose\":false,\"echo\":true}\nSUB v\nPUB v 3\nabc\nPING\n");
  ASSERT_EQ(c->expect("PONG\n"), "MSG v 3\nabc\nPONG\n");
  const std::string varz = body_of(gw.http_get("/varz"));
  for (const char* field : {"\"connections\":1", "\"subscriptions\":1", "\"in_msgs\":1",
                            "\"in_bytes\":3", "\"out_msgs\":1", "\"uptime_seconds\""}) {
    EXPECT_NE(varz.find(field), std::string::npos) << field << " in " << varz;
  }
}

TEST(Admin, MetricsPassPromtool) {
  Gateway gw;
  auto c = gw.client();
  c->send("SUB m\nPUB m 1\nx\nFOO\n");  // traffic and one protocol error
  c->closed_by_peer();
  const std::string body = body_of(gw.http_get("/metrics"));
  for (const char* metric :
       {"psycho_connections_total{transport=\"tcp\"} 1", "psycho_messages_received_total 1",
        "psycho_protocol_errors_total{error=\"Unknown Protocol Operation\"} 1",
        "psycho_router_dropped_total{reason=\"duplicate\"} 0", "psycho_build_info{"}) {
    EXPECT_NE(body.find(metric), std::string::npos) << metric << " in\n" << body;
  }
  EXPECT_EQ(promtool_problems(gw), "");
}

}  // namespace
}  // namespace psycho::testing
