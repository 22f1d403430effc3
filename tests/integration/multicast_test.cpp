// The multicast adapter between real gateway processes. These tests send to a multicast
// group, so they run only inside a network namespace of their own: ctest starts this binary
// through `unshare --net` with lo up and a multicast route on it (tests/integration/
// CMakeLists.txt), which sets PSYCHO_MULTICAST_NETNS. Run directly, they skip.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "multicast_helpers.hpp"
#include "support/flood.hpp"
#include "support/ports.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;

// A gateway stopped (SIGSTOP) for as long as this lives.
class Stopped {
 public:
  explicit Stopped(Process& p) : p_(p) { p_.signal(SIGSTOP); }
  ~Stopped() { p_.signal(SIGCONT); }
  Stopped(const Stopped&) = delete;
  Stopped& operator=(const Stopped&) = delete;

 private:
  Process& p_;
};

class MulticastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!in_own_namespace()) {
      GTEST_SKIP() << "needs a network namespace of its own: run through ctest "
                      "(unshare --net), never on a shared network";
    }
  }

  // Three gateways on one group, each with a Psycho client subscribed to `mc.>`, and each
  // hearing the other two.
  void start_three(const std::string& more = "") {
    for (int i = 0; i < 3; ++i) {
      gateways_.push_back(
          std::make_unique<Gateway>(with_config(multicast_config(group_port_.port(), more))));
    }
    for (auto& gw : gateways_) {
      ASSERT_TRUE(eventually([&] { return gw->http_get("/readyz").rfind("HTTP/1.1 200", 0) == 0; }))
          << gw->process().errors();
      auto c = psycho_client(*gw);
      c->send("SUB mc.>\nPING\n");
      ASSERT_EQ(c->line(), "PONG\n");
      clients_.push_back(std::move(c));
    }
    for (auto& gw : gateways_) {
      ASSERT_TRUE(eventually([&] {
        return metric(*gw, "psycho_multicast_peers{adapter=\"multicast\"}") == 2;
      })) << gw->http_get("/varz");
      ASSERT_TRUE(eventually([&] { return hears_wanted(*gw, "mc.>", 2); }))
          << gw->http_get("/varz");
    }
  }

  // Three gateways on one group, each with a Psycho client that subscribes to nothing yet.
  void start_three_unsubscribed() {
    for (int i = 0; i < 3; ++i) {
      gateways_.push_back(
          std::make_unique<Gateway>(with_config(multicast_config(group_port_.port()))));
    }
    for (auto& gw : gateways_) {
      ASSERT_TRUE(eventually([&] { return ready(*gw); })) << gw->process().errors();
      clients_.push_back(psycho_client(*gw));
    }
  }

  // Every client receives every message in `sent` (subject -> payload) exactly once.
  void expect_each_once(const std::map<std::string, std::string>& sent, const std::string& last) {
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      RawClient& c = *clients_[i];
      std::string got = c.expect(frame(last, sent.at(last)), 20s);
      ASSERT_FALSE(got.empty()) << "client " << i << " never received " << last << ": "
                                << headlines(c.pending()) << "\n"
                                << gateways_[i]->process().errors();
      // A repaired message may come after the last one (delivery is unordered): each is
      // waited for, not a fixed time, which a loaded machine's repairs may outlast.
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      for (const auto& [subject, payload] : sent) {
        const std::string f = frame(subject, payload);
        got += c.pending();
        c.discard_pending();
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (occurrences(got, f) == 0 && left > 0ms) got += c.expect(f, left);
      }
      c.drain_for(300ms);  // anything that would come twice comes now
      got += c.pending();
      c.discard_pending();
      for (const auto& [subject, payload] : sent) {
        EXPECT_EQ(occurrences(got, frame(subject, payload)), 1u)
            << "client " << i << ", " << subject << " (" << payload.size() << " bytes)";
      }
    }
  }

  // Every gateway binds the group's port; below the ephemeral range, no socket of theirs
  // (the sender's, say) can have been given it already.
  ReservedPort group_port_;
  std::vector<std::unique_ptr<Gateway>> gateways_;
  std::vector<std::unique_ptr<RawClient>> clients_;
};

TEST_F(MulticastTest, MessagesFromEmptyToOneMebibyteCrossOnceEach) {
  start_three();
  std::map<std::string, std::string> sent;
  const std::vector<std::size_t> sizes = {0, 1, 100, 1400, 1401, 4000, 65536, 1 << 20};
  for (std::size_t g = 0; g < gateways_.size(); ++g) {
    for (const std::size_t size : sizes) {
      const std::string subject = "mc.g" + std::to_string(g) + ".s" + std::to_string(size);
      const std::string payload = payload_of(size, static_cast<char>(g + size));
      clients_[g]->send("PUB " + subject + " " + std::to_string(size) + "\n" + payload + "\n");
      sent.emplace(subject, payload);
    }
  }
  const std::string last = "mc.end";
  clients_[0]->send("PUB " + last + " 4\ndone\n");
  sent.emplace(last, "done");
  expect_each_once(sent, last);
  // The peers are listed with their figures.
  const std::string varz = gateways_[0]->http_get("/varz");
  EXPECT_EQ(occurrences(varz, "\"last_heard_ms\""), 2u) << varz;
  EXPECT_GT(metric(*gateways_[1],
                   "psycho_multicast_fragments_total{adapter=\"multicast\",direction=\"in\"}"),
            700);
}

TEST_F(MulticastTest, InjectedLossIsRepaired) {
  // netem is not available everywhere; the adapter's test-only knob drops received data
  // datagrams at random instead, independently on each gateway.
  start_three("  test_drop_rate: 0.05\n");
  std::map<std::string, std::string> sent;
  for (int i = 0; i < 300; ++i) {
    const std::size_t size = i % 50 == 0 ? 65536 : static_cast<std::size_t>(i * 13 % 3000);
    const std::string subject = "mc.loss." + std::to_string(i);
    const std::string payload = payload_of(size, static_cast<char>(i));
    clients_[static_cast<std::size_t>(i % 3)]->send("PUB " + subject + " " + std::to_string(size) +
                                                    "\n" + payload + "\n");
    sent.emplace(subject, payload);
  }
  // The last message must itself survive: announcements reveal a lost tail, and it is
  // repaired like any other gap.
  clients_[1]->send("PUB mc.loss.end 3\nend\n");
  sent.emplace("mc.loss.end", "end");
  expect_each_once(sent, "mc.loss.end");
  double repaired = 0;
  for (auto& gw : gateways_) {
    EXPECT_GT(dropped(*gw, "test_drop"), 0);
    EXPECT_EQ(metric(*gw, "psycho_multicast_lost_total{adapter=\"multicast\"}"), 0);
    repaired += metric(*gw, "psycho_multicast_repaired_total{adapter=\"multicast\"}");
    // With every multicast family in use, names and units are as Prometheus wants them.
    EXPECT_EQ(promtool_problems(*gw), "");
  }
  EXPECT_GT(repaired, 0);
}

// A publisher as fast as its client can write: every message reaches every other gateway's
// subscriber once. The publisher is paused while the sender's queue is past half (flow
// control), and whatever a receiver's socket buffer overflows with is repaired.
TEST_F(MulticastTest, AnUnthrottledPublisherReachesEveryGatewayWhole) {
  constexpr std::size_t kCount = 100'000;
  start_three();
  auto publisher = gateways_[0]->client();
  publisher->send("CONNECT {\"verbose\":false}\n");
  std::jthread writer([&] { publisher->send(flood("mc.flood", kCount, 16)); });
  // Both subscribers are read at once: one left unread would be cut off as a slow consumer.
  std::vector<FloodTally> tallies(clients_.size(), FloodTally(kCount));
  std::vector<std::thread> readers;
  for (std::size_t i = 1; i < clients_.size(); ++i) {
    readers.emplace_back([&, i] { receive_flood(*clients_[i], tallies[i], 120s); });
  }
  for (auto& r : readers) r.join();
  for (std::size_t i = 1; i < clients_.size(); ++i) {
    EXPECT_TRUE(tallies[i].complete()) << "gateway " << i << ": " << tallies[i].summary();
    EXPECT_EQ(metric(*gateways_[i], "psycho_multicast_lost_total{adapter=\"multicast\"}"), 0);
  }
  writer.join();
  EXPECT_EQ(dropped(*gateways_[0], "queue_full"), 0);
}

// With loopback on, the kernel hands a gateway its own datagrams back; the socket filter has
// them dropped before they are read. What gateway 0 receives is therefore only what the two
// others sent, though it sends thousands itself.
TEST_F(MulticastTest, AGatewayDoesNotReadItsOwnDatagramsBack) {
  constexpr std::size_t kCount = 2'000;
  start_three();
  auto publisher = gateways_[0]->client();
  publisher->send("CONNECT {\"verbose\":false}\n" + flood("mc.own", kCount, 1024));
  FloodTally tally(kCount);
  receive_flood(*clients_[1], tally, 60s);
  ASSERT_TRUE(tally.complete()) << tally.summary();
  const auto datagrams = [&](std::size_t g, const char* direction) {
    return multicast_metric(*gateways_[g], "datagrams_total",
                            std::string("direction=\"") + direction + "\"");
  };
  // Read first: what the others sent, read later, can only have grown.
  const double received = datagrams(0, "in");
  EXPECT_GE(datagrams(0, "out"), static_cast<double>(kCount));
  EXPECT_LE(received, datagrams(1, "out") + datagrams(2, "out"));
}

// A receiver whose socket buffer fills says so before it overflows, and the senders slow
// down (pacer.hpp). Gateway 1 is stopped (SIGSTOP) while gateway 0 floods the group, just
// long enough to fill its buffer, so that when it runs again, with the flood still coming,
// the first thing it sees is a full buffer: it reports, gateway 0 cuts its pace for it, and
// what overflowed meanwhile is repaired. The stop is kept short: what overflows is repaired
// at the repair budgets' pace, and on a loaded machine a long stop makes a long test.
TEST_F(MulticastTest, AReceiverWhoseBufferFillsSlowsTheSenderDown) {
  constexpr std::size_t kCount = 30'000;
  start_three("  receive_buffer: 1MiB\n");
  const auto sent = [&] {
    return multicast_metric(*gateways_[0], "datagrams_total", "direction=\"out\"");
  };
  const double before = sent();
  auto publisher = gateways_[0]->client();
  publisher->send("CONNECT {\"verbose\":false}\n");
  std::vector<FloodTally> tallies(clients_.size(), FloodTally(kCount));
  std::vector<std::thread> readers;
  std::jthread writer;
  {
    const Stopped stopped(gateways_[1]->process());
    writer = std::jthread([&] { publisher->send(flood("mc.backlog", kCount, 1024)); });
    // Both subscribers are read: one left unread would be cut off as a slow consumer.
    for (std::size_t i = 1; i < clients_.size(); ++i) {
      readers.emplace_back([&, i] { receive_flood(*clients_[i], tallies[i], 120s); });
    }
    // What fills gateway 1's socket buffer (1 MiB, which the kernel doubles; a 1 KiB
    // datagram costs it about 2 KiB), and far from all of the flood. On loopback a datagram
    // counted as sent is in every member's buffer already.
    ASSERT_TRUE(eventually([&] { return sent() - before >= 1'500; }, 20s)) << sent() - before;
  }
  for (auto& r : readers) r.join();
  for (std::size_t i = 1; i < clients_.size(); ++i) {
    EXPECT_TRUE(tallies[i].complete()) << "gateway " << i << ": " << tallies[i].summary();
    EXPECT_EQ(multicast_metric(*gateways_[i], "lost_total"), 0);
  }
  EXPECT_GE(multicast_metric(*gateways_[1], "backlog_reports_total", "direction=\"out\""), 1);
  EXPECT_GE(multicast_metric(*gateways_[0], "backlog_reports_total", "direction=\"in\""), 1);
  EXPECT_GE(multicast_metric(*gateways_[0], "pace_cuts_total", "signal=\"backlog\""), 1)
      << gateways_[0]->http_get("/metrics");
  // A report from a full buffer is a valid one (its queued bytes are capped at capacity).
  EXPECT_EQ(dropped(*gateways_[0], "malformed"), 0);
}

// A gateway stopped until its socket has dropped more of a sender's datagrams than
// repair.max_seq_jump takes that sender's stream up again when it runs: its socket said it
// dropped datagrams, so the jump is its own loss, not a forger's. What it missed is counted
// (socket overflows, lost datagrams), and what comes after arrives. It used to refuse the
// sender's every datagram as an implausible jump until it forgot the sender (peer_timeout,
// long here), and lost the rest of the flood and what came after, uncounted.
TEST_F(MulticastTest, AGatewayThatFellFarBehindTakesTheStreamUpAgain) {
  if (IsSkipped()) return;
  constexpr std::size_t kCount = 20'000, kAfter = 200;
  // Gateway 1 alone has a small buffer (about 256 datagrams of 1 KiB) and a short jump
  // limit, and forgets a silent sender only after a minute.
  std::string behind_config = multicast_config(group_port_.port(), "  receive_buffer: 256KiB\n",
                                               "max_missing: 64, max_seq_jump: 64");
  behind_config.replace(behind_config.find("peer_timeout: 2s"), 16, "peer_timeout: 60s");
  for (int i = 0; i < 3; ++i) {
    gateways_.push_back(std::make_unique<Gateway>(
        with_config(i == 1 ? behind_config : multicast_config(group_port_.port()))));
  }
  for (auto& gw : gateways_) {
    ASSERT_TRUE(eventually([&] { return ready(*gw); })) << gw->process().errors();
    auto c = psycho_client(*gw);
    c->send("SUB mc.>\nPING\n");
    ASSERT_EQ(c->line(), "PONG\n");
    clients_.push_back(std::move(c));
  }
  for (auto& gw : gateways_) {
    ASSERT_TRUE(eventually([&] { return hears_wanted(*gw, "mc.>", 2); })) << gw->http_get("/varz");
  }
  const auto sent = [&] {
    return multicast_metric(*gateways_[0], "datagrams_total", "direction=\"out\"");
  };
  auto publisher = gateways_[0]->client();
  publisher->send("CONNECT {\"verbose\":false}\n");
  FloodTally behind(kCount), whole(kCount), after(kAfter);
  std::jthread writer;
  {
    const Stopped stopped(gateways_[1]->process());
    const double before = sent();
    writer = std::jthread([&] { publisher->send(flood("mc.flood", kCount, 1024)); });
    // Far more than the stopped gateway's buffer holds, and than max_seq_jump.
    ASSERT_TRUE(eventually([&] { return sent() - before >= 2'000; }, 20s)) << sent() - before;
  }
  std::jthread reader([&] { receive_flood(*clients_[1], behind, 60s, 3s); });
  receive_flood(*clients_[2], whole, 60s);
  reader.join();
  EXPECT_TRUE(whole.complete()) << whole.summary();
  EXPECT_LT(behind.received(), kCount);
  // What comes next arrives whole.
  publisher->send(flood("mc.after", kAfter, 1024));
  receive_flood(*clients_[1], after, 20s);
  EXPECT_TRUE(after.complete()) << after.summary() << "\n" << gateways_[1]->http_get("/metrics");
  EXPECT_GE(multicast_metric(*gateways_[1], "socket_overflows_total"), 1)
      << gateways_[1]->http_get("/metrics");
  EXPECT_GE(multicast_metric(*gateways_[1], "resyncs_total"), 1);
  // Every message it missed is counted (a 1 KiB message is one datagram).
  EXPECT_LE(static_cast<double>(kCount - behind.received()),
            multicast_metric(*gateways_[1], "lost_total"))
      << behind.summary();
}

TEST_F(MulticastTest, StrangeDatagramsAreDroppedAndCounted) {
  if (IsSkipped()) return;
  const ReservedPort group_port;
  const int port = group_port.port();
  Gateway gw(with_config(multicast_config(port)));
  ASSERT_TRUE(eventually([&] { return gw.http_get("/readyz").rfind("HTTP/1.1 200", 0) == 0; }));
  std::string header = "PSMC";
  header += std::string("\x01\x01\x00\x00", 4) + std::string(8, '\x07');  // data, sender 7
  GroupSender stranger(port);
  stranger.send("hello, anyone there?");                  // foreign
  stranger.send("PSMC\x09" + std::string(40, '\0'));      // version
  stranger.send(header + std::string(10, '\0'));          // truncated
  stranger.send(header + std::string(56, '\0') + "xyz");  // malformed
  for (const char* reason : {"foreign", "version", "truncated", "malformed"}) {
    EXPECT_TRUE(eventually([&] { return dropped(gw, reason) >= 1; })) << reason;
  }
  EXPECT_TRUE(gw.process().running());
}

// A sender sends only what some gateway on the group wants: gateway 1 asks for mc.wanted.>,
// gateway 2 for nothing, so what gateway 0 publishes on mc.unwanted.> never leaves it
// (counted as no_subscriber) until gateway 2 subscribes to it, which it announces at once.
TEST_F(MulticastTest, ASenderSkipsWhatNobodyOnTheGroupWants) {
  ASSERT_NO_FATAL_FAILURE(start_three_unsubscribed());
  clients_[1]->send("SUB mc.wanted.>\nPING\n");
  ASSERT_EQ(clients_[1]->line(), "PONG\n");
  // Gateway 0 has heard both, and what they want.
  ASSERT_TRUE(eventually([&] {
    const std::string varz = gateways_[0]->http_get("/varz");
    return occurrences(varz, "\"wants\":[\"mc.wanted.>\"]") == 1 &&
           occurrences(varz, "\"wants\":[]") == 2;  // gateway 2, and gateway 0 itself
  })) << gateways_[0]->http_get("/varz");

  auto publish = [&](const std::string& subject, int n) {
    std::string burst;
    for (int i = 0; i < n; ++i) burst += "PUB " + subject + " 2\nhi\n";
    clients_[0]->send(burst + "PING\n");
    ASSERT_EQ(clients_[0]->line(), "PONG\n");
  };
  publish("mc.unwanted.x", 100);
  publish("mc.wanted.x", 100);
  for (int i = 0; i < 100; ++i) {
    ASSERT_FALSE(clients_[1]->expect(frame("mc.wanted.x", "hi"), 10s).empty()) << i;
  }
  EXPECT_TRUE(eventually([&] { return dropped(*gateways_[0], "no_subscriber") == 100; }))
      << dropped(*gateways_[0], "no_subscriber");
  clients_[1]->drain_for(200ms);
  EXPECT_EQ(occurrences(clients_[1]->pending(), "mc.unwanted"), 0u);

  // Gateway 2 subscribes: from its announcement on, gateway 0 sends to it.
  clients_[2]->send("SUB mc.unwanted.>\nPING\n");
  ASSERT_EQ(clients_[2]->line(), "PONG\n");
  ASSERT_TRUE(eventually([&] {
    return occurrences(gateways_[0]->http_get("/varz"), "\"wants\":[\"mc.unwanted.>\"]") == 1;
  })) << gateways_[0]->http_get("/varz");
  publish("mc.unwanted.y", 10);
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(clients_[2]->expect(frame("mc.unwanted.y", "hi"), 10s).empty()) << i;
  }
  EXPECT_EQ(dropped(*gateways_[0], "no_subscriber"), 100);
}

// What the group carries for one gateway reaches every other one too (one multicast group):
// a gateway lets go of what it does not want before importing it, a large message at its
// first fragment (neither put together nor routed), and counts it.
TEST_F(MulticastTest, AGatewayLetsGoOfWhatItDoesNotWantBeforeImportingIt) {
  ASSERT_NO_FATAL_FAILURE(start_three_unsubscribed());
  clients_[1]->send("SUB mc.big.>\nPING\n");
  ASSERT_EQ(clients_[1]->line(), "PONG\n");
  clients_[2]->send("SUB mc.small.>\nPING\n");
  ASSERT_EQ(clients_[2]->line(), "PONG\n");
  ASSERT_TRUE(eventually([&] {
    const std::string varz = gateways_[0]->http_get("/varz");
    return occurrences(varz, "\"wants\":[\"mc.big.>\"]") == 1 &&
           occurrences(varz, "\"wants\":[\"mc.small.>\"]") == 1;
  })) << gateways_[0]->http_get("/varz");

  constexpr int kMessages = 20;
  const std::string payload = payload_of(64 << 10, 'b');
  std::string burst;
  for (int i = 0; i < kMessages; ++i) burst += "PUB mc.big.x 65536\n" + payload + "\n";
  clients_[0]->send(burst + "PUB mc.small.x 2\nhi\nPING\n");
  ASSERT_EQ(clients_[0]->line(), "PONG\n");
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_FALSE(clients_[1]->expect(frame("mc.big.x", payload), 20s).empty()) << i;
  }
  ASSERT_FALSE(clients_[2]->expect(frame("mc.small.x", "hi"), 20s).empty());

  const auto in = [](Gateway& gw, const std::string& name) {
    return metric(gw, name + "{adapter=\"multicast\",direction=\"in\"}");
  };
  const std::string unwanted = "psycho_multicast_unwanted_total{adapter=\"multicast\"}";
  EXPECT_TRUE(eventually([&] { return metric(*gateways_[2], unwanted) == kMessages; }))
      << metric(*gateways_[2], unwanted);
  EXPECT_GE(in(*gateways_[2], "psycho_multicast_fragments_total"), kMessages * 40);
  EXPECT_EQ(in(*gateways_[2], "psycho_adapter_messages_total"), 1);  // mc.small.x alone
  EXPECT_EQ(metric(*gateways_[2], "psycho_multicast_reassembly_bytes{adapter=\"multicast\"}"), 0);
  EXPECT_TRUE(eventually([&] { return metric(*gateways_[1], unwanted) == 1; }))  // mc.small.x
      << metric(*gateways_[1], unwanted);
  EXPECT_EQ(in(*gateways_[1], "psycho_adapter_messages_total"), kMessages);
  clients_[2]->drain_for(200ms);
  EXPECT_EQ(occurrences(clients_[2]->pending(), "mc.big"), 0u);
}

// A gateway whose other adapter carries every exported message on (PolderCast here, NATS
// alike) asks the group for all of it, with no subscriber of its own: what it hears goes on.
TEST_F(MulticastTest, AGatewayThatBridgesOnAsksForWhatItCarriesOn) {
  // Its node key goes to a directory of the test's own, not to the working directory.
  const auto state_dir =
      std::filesystem::temp_directory_path() / ("psycho-mc-bridge-" + std::to_string(getpid()));
  struct Remove {
    std::filesystem::path dir;
    ~Remove() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove{state_dir};
  const std::string overlay =
      "poldercast:\n  listen: 127.0.0.1:0\n  state_dir: " + state_dir.string() +
      "\n  admission:\n    open: true\n";
  gateways_.push_back(std::make_unique<Gateway>(with_config(multicast_config(group_port_.port()))));
  gateways_.push_back(
      std::make_unique<Gateway>(with_config(multicast_config(group_port_.port(), overlay))));
  for (auto& gw : gateways_) ASSERT_TRUE(eventually([&] { return ready(*gw); }));
  ASSERT_TRUE(eventually([&] {
    return occurrences(gateways_[0]->http_get("/varz"), "\"wants\":\"everything\"") == 1;
  })) << gateways_[0]->http_get("/varz");
  auto publisher = psycho_client(*gateways_[0]);
  publisher->send("PUB mc.any 2\nhi\nPING\n");
  ASSERT_EQ(publisher->line(), "PONG\n");
  EXPECT_TRUE(eventually([&] {
    return metric(*gateways_[1],
                  "psycho_adapter_messages_total{adapter=\"multicast\","
                  "direction=\"in\"}") >= 1;
  })) << gateways_[1]->http_get("/metrics");
  EXPECT_EQ(dropped(*gateways_[0], "no_subscriber"), 0);
}

}  // namespace
}  // namespace psycho::testing
