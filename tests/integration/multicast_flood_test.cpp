// Faithfulness under load on a keyed group, in the test's own network namespace (see
// multicast_test.cpp): an unthrottled publisher of 64 KiB messages, with the repair
// defaults and receivers whose socket buffers are small enough to overflow, gets every
// message to every other gateway's subscriber once and in order; the publisher is slowed,
// never dropped (docs/multicast.md#pacing).
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "multicast_helpers.hpp"
#include "support/flood.hpp"
#include "support/ports.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;

class MulticastFloodTest : public MulticastNamespaceTest {
 protected:
  void TearDown() override {
    for (const auto& f : files_) std::remove(f.c_str());
  }

  std::string key_file(int i) {
    const std::string path = ::testing::TempDir() + "/multicast_flood_" + std::to_string(i) + "_" +
                             std::to_string(::getpid()) + ".keys";
    std::ofstream(path) << "1 " << std::string(64, 'f') << "\n";
    ::chmod(path.c_str(), 0600);
    files_.push_back(path);
    return path;
  }

  void flood_keyed(bool encrypt);

  std::vector<std::string> files_;
};

void MulticastFloodTest::flood_keyed(bool encrypt) {
  constexpr std::size_t kCount = 2000, kSize = 65536;
  const ReservedPort group_port;
  std::vector<std::unique_ptr<Gateway>> gateways;
  std::vector<std::unique_ptr<RawClient>> subscribers;
  for (int i = 0; i < 3; ++i) {
    // A small receive buffer (the kernel doubles it) overflows under this flood for sure;
    // max_nacks as shipped, not the other tests' patience; in order (repair.ordered).
    const std::string more = "  keys: " + key_file(i) +
                             "\n  encrypt: " + (encrypt ? "true" : "false") +
                             "\n  receive_buffer: 1MiB\n";
    std::string config = multicast_config(group_port.port(), more, "max_nacks: 8, ordered: true");
    // The test's reader is no match for a gateway: room for it to fall behind a second,
    // so that what is measured is the group, not a Slow Consumer.
    config.replace(config.find("max_payload"), 0, "max_pending: 256MiB\n  ");
    gateways.push_back(std::make_unique<Gateway>(with_config(config)));
    ASSERT_TRUE(eventually([&] { return ready(*gateways.back()); }))
        << gateways.back()->process().errors();
  }
  for (int i = 1; i < 3; ++i) {
    auto c = psycho_client(*gateways[i]);
    c->send("SUB mc.flood 1\nPING\n");
    ASSERT_EQ(c->line(), "PONG\n");
    subscribers.push_back(std::move(c));
  }
  // The publisher's gateway knows both others want the subject, or it would skip them.
  ASSERT_TRUE(eventually([&] {
    return occurrences(gateways[0]->http_get("/varz"), "\"mc.flood\"") == 2;
  })) << gateways[0]->http_get("/varz");

  auto publisher = gateways[0]->client();
  publisher->send("CONNECT {\"verbose\":false}\n");
  std::jthread writer([&] { publisher->send(flood("mc.flood", kCount, kSize)); });
  // Both subscribers are read at once: one left unread would be cut off as a slow consumer.
  std::vector<FloodTally> tallies(subscribers.size(), FloodTally(kCount));
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    readers.emplace_back([&, i] { receive_flood(*subscribers[i], tallies[i], 25s, 5s); });
  }
  for (auto& r : readers) r.join();
  for (std::size_t i = 0; i < subscribers.size(); ++i) {
    Gateway& gw = *gateways[i + 1];
    EXPECT_TRUE(tallies[i].complete())
        << "gateway " << i + 1 << ": " << tallies[i].summary() << "\n"
        << gw.http_get("/metrics");
    EXPECT_EQ(tallies[i].out_of_order(), 0u) << "gateway " << i + 1 << ": " << tallies[i].summary();
    // With the publisher's side too: whether it heard the NACKs, answered or refused them,
    // and gave up on (announced as gone) what it no longer held.
    EXPECT_EQ(multicast_metric(gw, "lost_total"), 0)
        << gw.http_get("/metrics") << "\nthe publisher's gateway:\n"
        << gateways[0]->http_get("/metrics");
    EXPECT_EQ(dropped(gw, "unauthenticated") + dropped(gw, "replayed"), 0);
    EXPECT_EQ(metric(gw, "psycho_slow_consumers_total"), 0);
    // How hard it was (the receive buffers overflow, or the test proves little).
    RecordProperty("gateway" + std::to_string(i + 1) + "_repaired",
                   std::to_string(multicast_metric(gw, "repaired_total")));
  }
  writer.join();
  EXPECT_EQ(dropped(*gateways[0], "queue_full"), 0);
  RecordProperty("publisher_waited_s",
                 std::to_string(multicast_metric(*gateways[0], "repair_wait_seconds_total")));
}

TEST_F(MulticastFloodTest, AnUnthrottledFloodOf64KiBMessagesCrossesAnHmacGroupWholeAndInOrder) {
  flood_keyed(false);
}

TEST_F(MulticastFloodTest, AnUnthrottledFloodOf64KiBMessagesCrossesAnAesGcmGroupWholeAndInOrder) {
  flood_keyed(true);
}

// A subscriber that keeps reading is followed, not cut, at the default max_pending (8 MiB,
// 128 of these messages): the receiving gateway waits for it before its next datagram, and
// the group's pacing and the publisher's pause carry that back (docs/architecture.md, "Flow
// control"). Before that wait, on this 2-core machine, the receiving gateway queued 64 KiB
// messages faster than it wrote them to a reader that kept up on average, and cut it.
TEST_F(MulticastFloodTest, ASubscriberThatKeepsReadingIsFollowedNotCutAtDefaultLimits) {
  constexpr std::size_t kCount = 2000, kSize = 65536;
  const ReservedPort group_port;
  Gateway sender(with_config(multicast_config(group_port.port())));
  Gateway receiver(with_config(multicast_config(group_port.port())));
  for (Gateway* gw : {&sender, &receiver}) {
    ASSERT_TRUE(eventually([&] { return ready(*gw); })) << gw->process().errors();
  }
  auto subscriber = psycho_client(receiver);
  subscriber->send("SUB mc.follow\nPING\n");
  ASSERT_EQ(subscriber->line(), "PONG\n");
  ASSERT_TRUE(eventually([&] {
    return occurrences(sender.http_get("/varz"), "\"mc.follow\"") == 1;
  })) << sender.http_get("/varz");

  auto publisher = sender.client();
  publisher->send("CONNECT {\"verbose\":false}\n");
  std::jthread writer([&] { publisher->send(flood("mc.follow", kCount, kSize)); });
  FloodTally tally(kCount);
  receive_flood(*subscriber, tally, 25s, 5s);
  EXPECT_TRUE(tally.complete()) << tally.summary() << "\n"
                                << receiver.http_get("/metrics") << "\nthe sender's gateway:\n"
                                << sender.http_get("/metrics");
  EXPECT_EQ(metric(receiver, "psycho_slow_consumers_total"), 0);
  EXPECT_EQ(multicast_metric(receiver, "lost_total"), 0);
  writer.join();
  EXPECT_EQ(dropped(sender, "queue_full"), 0);
  RecordProperty("read_pauses", std::to_string(multicast_metric(receiver, "read_pauses_total")));
}

}  // namespace
}  // namespace psycho::testing
