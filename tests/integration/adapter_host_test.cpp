// The adapter plumbing of a real Server, in process, with a fake adapter built through the
// registry from its config section: export with split horizon, injection with dedup,
// interest, readiness and metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "adapters/registry.hpp"
#include "net/server.hpp"
#include "support/gateway.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;

class FakeFabric : public Adapter {
 public:
  std::string_view name() const override { return "fake"; }
  Status start(AdapterHost& host) override {
    host_ = &host;
    return Ok{};
  }
  void stop(std::chrono::milliseconds) override { stopped = true; }
  bool exports(std::string_view subject) const override { return subject != "local.only"; }
  void send(const MessagePtr& m) override {
    std::lock_guard lock(mutex_);
    sent_.emplace_back(m->subject());
  }
  void on_interest(std::string_view pattern, bool added) override {
    std::lock_guard lock(mutex_);
    interest_.push_back((added ? "+" : "-") + std::string(pattern));
  }
  AdapterStatus status() const override {
    AdapterStatus st;
    st.ready = ready.load();
    st.state = st.ready ? "connected" : "connecting";
    st.traffic.messages_out = 7;
    st.traffic.dropped["queue_full"] = 2;
    st.samples.push_back({metrics::Sample::Type::gauge, "peers", "Peers heard.", {}, 3});
    st.varz_json = R"({"peers":["a","b"]})";
    return st;
  }

  bool inject(std::string_view subject, std::uint64_t node, std::uint64_t seq) {
    return host_->inject(
        make_message({subject, "", "", "from-fabric"}, origin_id(), Trace{node, seq, 1}));
  }
  std::vector<std::string> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::vector<std::string> interest() {
    std::lock_guard lock(mutex_);
    return interest_;
  }

  std::atomic<bool> ready{false};
  std::atomic<bool> stopped{false};

 private:
  AdapterHost* host_ = nullptr;
  std::mutex mutex_;
  std::vector<std::string> sent_, interest_;
};

class AdapterHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.add({"fake",
                   [this](const config::AdapterSection&) -> Result<std::unique_ptr<Adapter>> {
                     auto a = std::make_unique<FakeFabric>();
                     fabric_ = a.get();
                     return std::unique_ptr<Adapter>(std::move(a));
                   },
                   {}});
    config::Config c;
    c.gateway.listen = {"127.0.0.1", 0};
    c.gateway.websocket = {};
    c.gateway.admin = {"127.0.0.1", 0};
    c.log.level = config::LogLevel::warn;
    c.adapters.push_back({"fake", YAML::Node(), ""});
    server_ = std::make_unique<net::Server>(std::move(c), registry_);
    ASSERT_TRUE(server_->start());
    runner_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    server_->request_stop();
    runner_.join();
    EXPECT_TRUE(fabric_->stopped);
    server_.reset();
  }
  std::unique_ptr<RawClient> client() {
    auto c = std::make_unique<RawClient>(server_->ports().tcp);
    c->line();
    return c;
  }
  std::string http_get(const std::string& path) {
    RawClient c(server_->ports().admin);
    c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.closed_by_peer();
    return c.pending();
  }

  AdapterRegistry registry_;
  FakeFabric* fabric_ = nullptr;
  std::unique_ptr<net::Server> server_;
  std::thread runner_;
};

TEST_F(AdapterHostTest, ClientPublicationsAreExportedThroughTheFilter) {
  auto c = client();
  c->send("CONNECT {\"verbose\":false}\nPUB orders.new 1\nx\nPUB local.only 1\ny\nPING\n");
  ASSERT_EQ(c->line(), "PONG\n");
  EXPECT_TRUE(eventually([&] { return fabric_->sent().size() == 1; }));
  EXPECT_EQ(fabric_->sent(), (std::vector<std::string>{"orders.new"}));
}

TEST_F(AdapterHostTest, InjectedMessagesReachClientsOnceAndNeverGoBack) {
  auto c = client();
  c->send("CONNECT {\"verbose\":false}\nSUB fabric.>\nPING\n");
  ASSERT_EQ(c->line(), "PONG\n");
  EXPECT_TRUE(fabric_->inject("fabric.a", 0xBEEF, 1));
  EXPECT_FALSE(fabric_->inject("fabric.a", 0xBEEF, 1));  // the same message again
  EXPECT_TRUE(fabric_->inject("fabric.b", 0xBEEF, 2));
  EXPECT_EQ(c->expect("from-fabric\n"), "MSG fabric.a 11\nfrom-fabric\n");
  EXPECT_EQ(c->expect("from-fabric\n"), "MSG fabric.b 11\nfrom-fabric\n");
  c->send("PING\n");
  EXPECT_EQ(c->expect("PONG\n"), "PONG\n");
  EXPECT_TRUE(fabric_->sent().empty());  // split horizon
  const std::string metrics = http_get("/metrics");
  EXPECT_NE(metrics.find("psycho_router_dropped_total{reason=\"duplicate\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("psycho_adapter_messages_total{adapter=\"fake\",direction=\"out\"} 7"),
            std::string::npos);
  EXPECT_NE(metrics.find("psycho_adapter_dropped_total{adapter=\"fake\",reason=\"queue_full\"} 2"),
            std::string::npos);
  EXPECT_NE(metrics.find("psycho_fake_peers{adapter=\"fake\"} 3"), std::string::npos);
}

TEST_F(AdapterHostTest, InterestFollowsClientSubscriptions) {
  auto a = client();
  auto b = client();
  a->send("SUB weather.*\n");
  ASSERT_EQ(a->line(), "+OK\n");
  b->send("SUB weather.*\n");
  ASSERT_EQ(b->line(), "+OK\n");
  a.reset();  // one subscriber left: the pattern stays
  b->send("UNSUB weather.*\n");
  ASSERT_EQ(b->line(), "+OK\n");
  EXPECT_TRUE(eventually([&] { return fabric_->interest().size() == 2; }));
  EXPECT_EQ(fabric_->interest(), (std::vector<std::string>{"+weather.*", "-weather.*"}));
}

TEST_F(AdapterHostTest, ReadinessFollowsTheAdapter) {
  client();
  const std::string not_ready = http_get("/readyz");
  EXPECT_EQ(not_ready.rfind("HTTP/1.1 503", 0), 0u) << not_ready;
  EXPECT_NE(not_ready.find("fake: connecting"), std::string::npos);
  fabric_->ready = true;
  EXPECT_EQ(http_get("/readyz").rfind("HTTP/1.1 200", 0), 0u);
  const std::string varz = http_get("/varz");
  EXPECT_NE(varz.find("\"fake\":{\"ready\":true,\"state\":\"connected\""), std::string::npos);
  EXPECT_NE(varz.find("\"details\":{\"peers\":[\"a\",\"b\"]}"), std::string::npos) << varz;
}

}  // namespace
}  // namespace psycho::testing
