// What a stranger on the LAN can do to the gateways on a multicast group by sending forged
// datagrams (encoded with the adapter's own codec), between real gateway processes in the
// test's own network namespace (see multicast_test.cpp): forged announcements must not
// silence a gateway, one NACK must not make a gateway resend its window, forged node ids must
// not shut a restarted gateway out (docs/multicast.md#trust).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "adapters/multicast/codec.hpp"
#include "multicast_helpers.hpp"
#include "support/ports.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;
using namespace psycho::multicast;

class MulticastTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!in_own_namespace()) {
      GTEST_SKIP() << "needs a network namespace of its own: run through ctest "
                      "(unshare --net), never on a shared network";
    }
  }

  std::unique_ptr<Gateway> start(int port, const std::string& more = "",
                                 const std::string& repair = "") {
    auto gw = std::make_unique<Gateway>(with_config(multicast_config(port, more, repair)));
    EXPECT_TRUE(eventually([&] { return ready(*gw); })) << gw->process().errors();
    return gw;
  }

  std::unique_ptr<RawClient> subscriber(Gateway& gw) {
    auto c = psycho_client(gw);
    c->send("SUB mc.>\nPING\n");
    EXPECT_EQ(c->line(), "PONG\n");
    return c;
  }
};

std::string announce(std::uint64_t sender, std::uint64_t next_seq, std::uint64_t oldest_seq) {
  std::string d;
  encode_announce(d, sender, {next_seq, oldest_seq});
  return d;
}

// One whole message `subject` with datagram sequence `seq`, as `sender` would send it.
std::string data(std::uint64_t sender, std::uint64_t seq, const std::string& subject) {
  std::string out;
  fragment({subject, "", "", "forged"}, Trace{sender, seq, 0}, sender, seq, 1472,
           [&]() -> std::string& { return out; });
  return out;
}

TEST_F(MulticastTrustTest, ForgedAnnouncementsDoNotSilenceAGateway) {
  const ReservedPort group_port;
  const int port = group_port.port();
  auto victim = start(port);
  auto receiver = start(port);
  auto pub = psycho_client(*victim);
  auto sub = subscriber(*receiver);
  ASSERT_TRUE(eventually([&] { return multicast_metric(*receiver, "peers") == 1; }));
  ASSERT_TRUE(eventually([&] { return hears_wanted(*victim, "mc.>"); }))
      << victim->http_get("/varz");
  pub->send("PUB mc.before 2\nok\n");
  ASSERT_FALSE(sub->expect(frame("mc.before", "ok"), 10s).empty());
  const std::uint64_t id = multicast_node_id(*victim);
  ASSERT_NE(id, 0u) << victim->http_get("/varz");
  const std::uint64_t far = std::uint64_t{1} << 62;

  // From another source: the victim's id is bound to the victim's own.
  GroupSender elsewhere(port);
  elsewhere.send(announce(id, far, 1));
  elsewhere.send(data(id, far, "mc.forged"));
  EXPECT_TRUE(eventually([&] { return dropped(*receiver, "spoofed_sender") >= 2; }))
      << receiver->http_get("/metrics");
  // From the victim's own source address (a forger who can fake it): the jump is refused.
  GroupSender same_source(port, kGroup, port);
  same_source.send(announce(id, far, 1));
  same_source.send(data(id, far, "mc.forged"));
  EXPECT_TRUE(eventually([&] { return dropped(*receiver, "seq_jump") >= 2; }))
      << receiver->http_get("/varz");

  // The victim still reaches the receiver's subscriber, and nothing counts as lost.
  pub->send("PUB mc.after 2\nok\n");
  const std::string got = sub->expect(frame("mc.after", "ok"), 10s);
  EXPECT_FALSE(got.empty()) << receiver->http_get("/varz");
  EXPECT_EQ(occurrences(got, "mc.forged"), 0u);
  EXPECT_EQ(multicast_metric(*receiver, "lost_total"), 0);
  EXPECT_EQ(multicast_metric(*receiver, "gaps_total"), 0);
}

TEST_F(MulticastTrustTest, NacksGetAtMostTheRequestersRepairBudget) {
  const ReservedPort group_port;
  const int port = group_port.port();
  constexpr double kBurst = 64 << 10, kRate = 1 << 10;
  auto gw = start(port, "", "requester_rate: 1KiB, requester_burst: 64KiB");
  // A listener that wants everything: with nobody on the group, the gateway sends nothing.
  GroupSender listener(port);
  std::string wants_all;
  encode_interest(wants_all, 0x4c49'5354'454e'0000, 1, true, {});
  listener.send(wants_all);
  ASSERT_TRUE(eventually([&] { return multicast_metric(*gw, "peers") == 1; }));
  auto pub = psycho_client(*gw);
  // About 600 datagrams (880 KB) in the gateway's repair window.
  const std::string payload = payload_of(4000, 'n');
  for (int i = 0; i < 200; ++i) pub->send("PUB mc.fill 4000\n" + payload + "\n");
  pub->send("PING\n");
  ASSERT_EQ(pub->line(10s), "PONG\n");
  // Every fragment out (three per message) before the bytes are taken: datagrams_total
  // counts announcements too, and could reach 600 with a few fragments still to go.
  ASSERT_TRUE(eventually(
      [&] { return multicast_metric(*gw, "fragments_total", "direction=\"out\"") >= 600; }));
  const std::uint64_t id = multicast_node_id(*gw);
  ASSERT_NE(id, 0u);
  const double bytes_before = multicast_metric(*gw, "datagram_bytes_total", "direction=\"out\"");
  const auto t0 = std::chrono::steady_clock::now();

  // One NACK asking for everything, then more from other ids on the same source address.
  Nack nack;
  nack.target = id;
  nack.range_count = kMaxNackRanges;
  for (auto& r : nack.ranges) r = {0, UINT32_MAX};
  GroupSender requester(port);
  constexpr int kNacks = 10;
  for (std::uint64_t k = 0; k < kNacks; ++k) {
    std::string datagram;
    encode_nack(datagram, 0x5350'4f4f'4600'0000 + k, nack);
    requester.send(datagram);
  }
  ASSERT_TRUE(eventually([&] {
    return multicast_metric(*gw, "nacks_total", "direction=\"in\"") >= kNacks;
  })) << gw->http_get("/metrics");
  const double resent = multicast_metric(*gw, "retransmissions_total");
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double bytes = multicast_metric(*gw, "datagram_bytes_total", "direction=\"out\"");
  // The burst, what refilled meanwhile, and room for the announcements sent meanwhile.
  EXPECT_LE(bytes - bytes_before, kBurst + kRate * elapsed + (8 << 10)) << resent;
  EXPECT_GT(resent, 0);
  EXPECT_GT(multicast_metric(*gw, "repair_refused_total", "reason=\"requester_rate\""), 0);
  EXPECT_GT(multicast_metric(*gw, "repair_refused_total", "reason=\"nack_limit\""), 0);
  // Sequence 0, before the first one sent, is no longer (never was) in the window: one per
  // range of each NACK.
  EXPECT_EQ(multicast_metric(*gw, "repair_refused_total", "reason=\"gone\""),
            static_cast<double>(kNacks * kMaxNackRanges));
  EXPECT_TRUE(gw->process().running());
}

// Sends announcements from made-up node ids from 127.0.0.2 (another host, as the gateways
// see it) every millisecond until stopped or `kMaxRounds` have gone: the same
// `kForgedIds` ids each time, more than the receiver's max_peers, so the forged entries never
// go silent.
class Forger {
 public:
  static constexpr int kForgedIds = 6, kMaxRounds = 30'000;
  explicit Forger(int port) : socket_(port, "127.0.0.2") {
    thread_ = std::thread([this] {
      for (int round = 0; round < kMaxRounds && !stop_.load(); ++round) {
        for (std::uint64_t i = 0; i < kForgedIds; ++i) {
          socket_.send(announce(0xF0F0'0000'0000'0000 + i, 1, 1));
        }
        std::this_thread::sleep_for(1ms);  // pacing a flood, not waiting for anything
      }
    });
  }
  ~Forger() {
    stop_.store(true);
    thread_.join();
  }

 private:
  GroupSender socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(MulticastTrustTest, ForgedIdsDoNotShutOutARestartedGateway) {
  const ReservedPort group_port;
  const int port = group_port.port();
  auto receiver = start(port, "  max_peers: 4\n");
  auto sub = subscriber(*receiver);
  auto first = start(port);
  ASSERT_TRUE(eventually([&] { return multicast_metric(*receiver, "peers") == 1; }));
  Forger forger(port);
  // The table is full: the gateway and three of the forged ids.
  ASSERT_TRUE(eventually([&] { return multicast_metric(*receiver, "peers") == 4; }))
      << receiver->http_get("/varz");

  // The gateway restarts: a new process, so a new node id.
  first.reset();
  auto second = start(port);
  auto pub = psycho_client(*second);
  int sent = 0;
  const bool arrived = eventually(
      [&] {
        pub->send("PUB mc.restarted 2\nok\n");
        ++sent;
        return !sub->expect(frame("mc.restarted", "ok"), 50ms).empty();
      },
      15s);
  EXPECT_TRUE(arrived) << sent << " sent; " << receiver->http_get("/varz");
  EXPECT_GT(dropped(*receiver, "too_many_peers"), 0);  // the other forged ids
  EXPECT_GT(multicast_metric(*receiver, "peers_displaced_total"), 0);
  EXPECT_EQ(multicast_metric(*receiver, "peers"), 4);
}

}  // namespace
}  // namespace psycho::testing
