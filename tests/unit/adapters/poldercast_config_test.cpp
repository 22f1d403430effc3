#include "adapters/poldercast/poldercast_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace psycho::poldercast {
namespace {

using namespace std::chrono_literals;

Result<PolderCastConfig> parse(const std::string& yaml) {
  return parse_config(config::AdapterSection{"poldercast", YAML::Load(yaml), "pc.yaml"});
}

TEST(PolderCastConfig, DefaultsNeedOnlyAnAddressOthersCanDial) {
  const auto c = parse("{advertise: 'gw-1.example:4250'}");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->listen.to_string(), "0.0.0.0:4250");
  EXPECT_EQ(c->cycle, 1000ms);
  EXPECT_EQ(c->node.fanout, 3u);
  EXPECT_EQ(c->node.cyclon_view, 20u);
  EXPECT_EQ(c->node.vicinity_gossip, 10u);
  EXPECT_FALSE(c->node_id.has_value());
  EXPECT_TRUE(c->subjects.exports("any.thing"));
  // A listen address that is not a wildcard is its own advertised address.
  const auto local = parse("{listen: '127.0.0.1:7000'}");
  ASSERT_TRUE(local) << local.error();
  EXPECT_EQ(local->advertise, "127.0.0.1:7000");
}

TEST(PolderCastConfig, EveryKeyIsRead) {
  const auto c = parse(R"(
listen: '[::1]:7001'
advertise: 'peer.example:7001'
seeds: ['a.example:1', '10.0.0.2:4250']
node_id: 00000000deadbeef
state_dir: /var/lib/psycho
cycle: 200ms
fanout: 4
cyclon_view: 30
cyclon_gossip: 12
vicinity_view: 25
vicinity_gossip: 8
ring_slots: 3
rings_gossip: 16
subjects: [orders.>]
max_payload: 64KiB
queue_size: 1MiB
queue_messages: 100
max_connections: 64
connect_timeout: 1s
idle_timeout: 0s
stall_timeout: 3s
answer_timeout: 2500ms
max_connections_per_address: 5
frame_timeout: 2s
)");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->listen.host, "::1");
  EXPECT_EQ(c->seeds.size(), 2u);
  EXPECT_EQ(c->node_id, 0xdeadbeefULL);
  EXPECT_EQ(c->state_dir, "/var/lib/psycho");
  EXPECT_EQ(c->cycle, 200ms);
  EXPECT_EQ(c->node.fanout, 4u);
  EXPECT_EQ(c->node.ring_slots, 3u);
  EXPECT_EQ(c->node.rings_gossip, 16u);
  EXPECT_EQ(c->max_payload, 64u << 10);
  EXPECT_EQ(c->transport.max_connections, 64u);
  EXPECT_EQ(c->transport.idle_timeout, 0ms);
  EXPECT_EQ(c->transport.stall_timeout, 3s);
  EXPECT_EQ(c->node.answer_timeout_ms, 2500);
  EXPECT_EQ(c->transport.max_connections_per_address, 5u);
  EXPECT_EQ(c->transport.frame_timeout, 2s);
  EXPECT_GE(c->transport.max_frame, c->max_payload);
  EXPECT_FALSE(c->subjects.exports("other"));
}

TEST(PolderCastConfig, RejectsWhatIsWrongWithFileAndLine) {
  for (const auto& [yaml, part] : std::vector<std::pair<std::string, std::string>>{
           {"{}", "'poldercast.advertise' is required"},
           {"{listen: '127.0.0.1:1', seeds: [nope]}", "'nope' is not host:port"},
           {"{listen: '127.0.0.1:1', advertise: 'x'}", "must be host:port"},
           {"{listen: '127.0.0.1:1', node_id: xyz}", "16 hex digits"},
           {"{listen: '127.0.0.1:1', fanout: 0}", "fanout"},
           {"{listen: '127.0.0.1:1', cyclon_view: 5, cyclon_gossip: 6}", "must not exceed"},
           {"{listen: '127.0.0.1:1', bogus: 1}", "bogus"},
           {"{listen: '127.0.0.1:1', max_connections_per_address: 0}",
            "max_connections_per_address"},
           {"{listen: '127.0.0.1:1', frame_timeout: 2h}", "frame_timeout"},
           {"{listen: '127.0.0.1:1', answer_timeout: 1ms}", "answer_timeout"},
       }) {
    const auto c = parse(yaml);
    ASSERT_FALSE(c) << yaml;
    EXPECT_NE(c.error().find(part), std::string::npos) << c.error();
    EXPECT_NE(c.error().find("pc.yaml:"), std::string::npos) << c.error();
  }
}

TEST(PolderCastConfig, AGeneratedNodeIdIsKeptInTheStateDirectory) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("psycho-pc-config-" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto c = parse("{listen: '127.0.0.1:1', state_dir: '" + (dir / "state").string() + "'}");
  ASSERT_TRUE(c) << c.error();
  const auto first = load_node_id(*c, c->advertise);
  ASSERT_TRUE(first) << first.error();
  const auto again = load_node_id(*c, c->advertise);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(first.value(), again.value());
  // A configured id wins; a damaged file is an error, not a silent new identity.
  c->node_id = 42;
  EXPECT_EQ(load_node_id(*c, c->advertise).value(), 42u);
  c->node_id.reset();
  // Another gateway in the same directory (another address) gets an id of its own.
  EXPECT_EQ(node_id_file(c->advertise), "poldercast-127.0.0.1_1.id");
  const auto second = load_node_id(*c, "127.0.0.1:2");
  ASSERT_TRUE(second) << second.error();
  EXPECT_NE(second.value(), first.value());
  std::ofstream(dir / "state" / node_id_file(c->advertise)) << "not hex\n";
  const auto damaged = load_node_id(*c, c->advertise);
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().find("does not hold a node id"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace psycho::poldercast
