// The `psycho` CLI against the real gateway, over TCP and WebSocket, as a user runs it.
#include <gtest/gtest.h>

#include "support/flood.hpp"
#include "support/gateway.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;

std::string cli() { return PSYCHO_CLI_BIN; }

class CliTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string url(const Gateway& gw) const {
    return GetParam() == "ws" ? "ws://127.0.0.1:" + std::to_string(gw.websocket_port()) + "/"
                              : "tcp://127.0.0.1:" + std::to_string(gw.port());
  }
};

TEST_P(CliTest, SubPrintsWhatPubSends) {
  Gateway gw;
  RawClient(gw.port());  // listening
  Process sub({cli(), "sub", "--url", url(gw), "greet.*", "--count", "2"});
  // The subscriber is ready once the gateway counts its subscription.
  ASSERT_TRUE(eventually(
      [&] { return gw.http_get("/varz").find("\"subscriptions\":1") != std::string::npos; }));
  Process pub({cli(), "pub", "--url", url(gw), "greet.joe", "hello"});
  EXPECT_EQ(pub.wait(10s), 0) << pub.errors();
  Process pub_lines({cli(), "pub", "--url", url(gw), "greet.ann"}, true);
  pub_lines.write_stdin("from stdin\n");
  pub_lines.close_stdin();
  EXPECT_EQ(pub_lines.wait(10s), 0) << pub_lines.errors();
  EXPECT_EQ(sub.wait(10s), 0) << sub.errors();
  EXPECT_EQ(sub.output(), "[greet.joe] hello\n[greet.ann] from stdin\n");
}

// `psycho sub` into a pipe nobody reads for a while loses nothing: the CLI stops reading its
// socket, and the gateway holds (or slows) the rest. It used to queue up to 65,536 messages
// and drop the others without a word.
TEST_P(CliTest, SubIntoASlowPipeLosesNothing) {
  constexpr int kCount = 100'000;
  Gateway gw;
  RawClient(gw.port());  // listening
  const std::string sub =
      "'" + cli() + "' sub --raw --url '" + url(gw) + "' flood --count " + std::to_string(kCount);
  Process pipeline({"/bin/sh", "-c", sub + " | (sleep 2; wc -l)"});
  ASSERT_TRUE(eventually(
      [&] { return gw.http_get("/varz").find("\"subscriptions\":1") != std::string::npos; }));
  auto publisher = gw.client();
  publisher->send("CONNECT {\"verbose\":false}\n" + flood("flood", kCount, 16) + "PING\n");
  EXPECT_EQ(publisher->line(), "PONG\n");
  EXPECT_EQ(pipeline.wait(60s), 0) << pipeline.errors();
  EXPECT_EQ(pipeline.output(), std::to_string(kCount) + "\n") << pipeline.errors();
}

TEST_P(CliTest, RequestGetsTheReply) {
  Gateway gw;
  auto service = gw.client();
  service->send("CONNECT {\"verbose\":false}\nSUB svc.time\nPING\n");
  ASSERT_EQ(service->line(), "PONG\n");
  Process request({cli(), "request", "--url", url(gw), "svc.time", "now?"});
  const std::string head = service->expect("now?\n");
  // MSG svc.time <inbox> 4
  const auto inbox_start = head.find("svc.time ") + 9;
  const std::string inbox = head.substr(inbox_start, head.find(' ', inbox_start) - inbox_start);
  service->send("PUB " + inbox + " 5\nnoon!\n");
  EXPECT_EQ(request.wait(10s), 0) << request.errors();
  EXPECT_NE(request.output().find("noon!"), std::string::npos) << request.output();
}

TEST_P(CliTest, BenchRunsAndReportsRates) {
  Gateway gw;
  RawClient(gw.port());
  Process bench({cli(), "bench", "--url", url(gw), "--pub", "1", "--sub", "2", "--size", "64",
                 "--msgs", "20000", "--json"});
  EXPECT_EQ(bench.wait(60s), 0) << bench.errors();
  const std::string out = bench.output();
  EXPECT_NE(out.find("\"sub_msgs_per_sec\""), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Transports, CliTest, ::testing::Values("tcp", "ws"));

}  // namespace
}  // namespace psycho::testing
