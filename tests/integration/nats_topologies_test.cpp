// Which topologies need the trace header on what the NATS bridge exports, shown with real
// processes (docs/nats.md, "Loops"). Gateways that share only NATS need none: that case is
// NatsClusterTest.TwoGatewaysOnOneClusterDeliverEachMessageOnce, which runs with the default
// (`auto`, off there). Gateways that share NATS *and* an overlay reach each other by two
// paths: here the default turns the header on, each message arrives once, and turning it
// off shows why it is needed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "support/gateway.hpp"
#include "support/nats.hpp"
#include "support/observe.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kMessages = 20;

// Two gateways on one nats-server and in one PolderCast overlay; a client on `b` subscribes
// to `chat`, a client on `a` publishes.
class NatsAndOverlayTest : public ::testing::Test {
 protected:
  void start(const std::string& nats_keys = "") {
    a_ = std::make_unique<Gateway>(with_config(config("a", nats_keys, "")));
    const int seed = a_->reported_port("poldercast");
    ASSERT_NE(seed, 0) << a_->process().errors();
    b_ = std::make_unique<Gateway>(
        with_config(config("b", nats_keys, "127.0.0.1:" + std::to_string(seed))));
    for (Gateway* gw : {a_.get(), b_.get()}) {
      ASSERT_TRUE(eventually([&] { return gw->http_get("/readyz").rfind("HTTP/1.1 200", 0) == 0; }))
          << gw->http_get("/readyz");
    }
    publisher_ = connect(*a_);
    subscriber_ = connect(*b_);
    subscriber_->send("SUB chat\nPING\n");
    ASSERT_EQ(subscriber_->line(), "PONG\n");
    nats_ = std::make_unique<NatsClient>(server_.url());
    nats_->subscribe("chat");
    ASSERT_TRUE(nats_->flush());
  }

  void TearDown() override {
    publisher_.reset();
    subscriber_.reset();
    a_.reset();
    b_.reset();
    std::error_code ec;
    fs::remove_all(state_dir_, ec);
  }

  std::string config(const std::string& name, const std::string& nats_keys,
                     const std::string& seed) const {
    return "nats:\n  servers: " + server_.url() + "\n" + nats_keys +
           "poldercast:\n  listen: 127.0.0.1:0\n  seeds: [" + seed +
           "]\n  state_dir: " + (state_dir_ / name).string() +
           "\n  cycle: 150ms\n  admission:\n    open: true\n";
  }

  static std::unique_ptr<RawClient> connect(Gateway& gw) {
    auto c = gw.client();
    c->send("CONNECT {\"verbose\":false}\nPING\n");
    EXPECT_EQ(c->line(), "PONG\n");
    return c;
  }

  double overlay_in(Gateway& gw) {
    return metric(gw, "psycho_adapter_messages_total{adapter=\"poldercast\",direction=\"in\"}");
  }

  // Probes from `a` until one has reached `b` over the overlay and one through NATS: both
  // paths are up. Then the probes still on their way are thrown away.
  void await_both_paths() {
    ASSERT_TRUE(eventually(
        [&] {
          publisher_->send("PUB chat 5\nprobe\n");
          subscriber_->drain_for(50ms);
          return overlay_in(*b_) > 0 && !nats_->take_all().empty();
        },
        15s))
        << "overlay in: " << overlay_in(*b_);
    subscriber_->drain_for(500ms);
    subscriber_->discard_pending();
  }

  // Publishes kMessages from `a`; returns how often `b`'s client got each, once every one
  // has arrived `at_least` times and nothing more came for half a second.
  std::vector<std::size_t> publish_and_count(std::size_t at_least) {
    for (int i = 0; i < kMessages; ++i) {
      const std::string payload = "m-" + std::to_string(i);
      publisher_->send("PUB chat " + std::to_string(payload.size()) + "\n" + payload + "\n");
    }
    auto counts = [&] {
      std::vector<std::size_t> n;
      for (int i = 0; i < kMessages; ++i) {
        n.push_back(occurrences(subscriber_->pending(), frame("chat", "m-" + std::to_string(i))));
      }
      return n;
    };
    EXPECT_TRUE(eventually(
        [&] {
          subscriber_->drain_for(20ms);
          const auto n = counts();
          return std::all_of(n.begin(), n.end(), [&](std::size_t k) { return k >= at_least; });
        },
        15s))
        << headlines(subscriber_->pending());
    subscriber_->drain_for(500ms);
    return counts();
  }

  NatsServer server_;
  fs::path state_dir_ = fs::temp_directory_path() / ("psycho-topo-" + std::to_string(getpid()));
  std::unique_ptr<Gateway> a_, b_;
  std::unique_ptr<RawClient> publisher_, subscriber_;
  std::unique_ptr<NatsClient> nats_;
};

TEST_F(NatsAndOverlayTest, TheDefaultCarriesTheTraceAndEachMessageArrivesOnce) {
  start();
  EXPECT_EQ(varz_field(*a_, "trace_headers"), "true");
  await_both_paths();
  const double duplicates_before = metric(*b_, "psycho_router_dropped_total{reason=\"duplicate\"}");
  const auto counts = publish_and_count(1);
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(counts[i], 1u) << "m-" << i;
  // Both paths delivered, and the trace made the second copy a known one.
  EXPECT_TRUE(eventually([&] {
    return metric(*b_, "psycho_router_dropped_total{reason=\"duplicate\"}") - duplicates_before >=
           kMessages;
  })) << metric(*b_, "psycho_router_dropped_total{reason=\"duplicate\"}") - duplicates_before;
  // What a NATS client sees carries the one trace header.
  const auto seen = nats_->take_all();
  ASSERT_FALSE(seen.empty());
  EXPECT_NE(seen.back().header("Psycho-Trace"), "");

  // A plain NATS publication enters both gateways: b takes it from NATS, and drops any copy
  // a relays over the overlay, which it knows by its bus.
  subscriber_->discard_pending();
  nats_->publish("chat", "native");
  ASSERT_FALSE(subscriber_->expect(frame("chat", "native"), 10s).empty());  // takes it
  subscriber_->drain_for(500ms);
  EXPECT_EQ(occurrences(subscriber_->pending(), frame("chat", "native")), 0u) << "a second copy";
}

// The proof that the header is needed there: without it, the copy through NATS is a new
// message to b, and its client gets everything at least twice.
TEST_F(NatsAndOverlayTest, WithoutTheTraceTwoPathsDeliverTwice) {
  start("  trace_headers: false\n");
  EXPECT_EQ(varz_field(*a_, "trace_headers"), "false");
  await_both_paths();
  const auto counts = publish_and_count(2);
  for (int i = 0; i < kMessages; ++i) EXPECT_GE(counts[i], 2u) << "m-" << i;
}

}  // namespace
}  // namespace psycho::testing
