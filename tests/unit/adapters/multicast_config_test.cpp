#include "adapters/multicast/multicast_config.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace psycho::multicast {
namespace {

using namespace std::chrono_literals;

Result<MulticastConfig> parse(const std::string& yaml) {
  return parse_config(config::AdapterSection{"multicast", YAML::Load(yaml), "gw.yaml"});
}

void expect_error(const std::string& yaml, const std::string& part) {
  const auto c = parse(yaml);
  ASSERT_FALSE(c) << yaml;
  EXPECT_NE(c.error().find(part), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("gw.yaml:"), std::string::npos) << c.error();
}

TEST(MulticastConfig, AnEmptySectionMeansTheDefaults) {
  const auto c = parse("{}");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->group, "239.255.42.42");
  EXPECT_EQ(c->port, 4245);
  EXPECT_FALSE(c->ipv6);
  EXPECT_EQ(c->ttl, 1);
  EXPECT_TRUE(c->loopback);
  EXPECT_EQ(c->max_datagram, 1472u);
  EXPECT_EQ(c->max_message, (1u << 20) + (64u << 10));
  EXPECT_TRUE(c->subjects.exports("any.thing"));
  EXPECT_TRUE(c->subjects.imports("any.thing"));
  EXPECT_EQ(c->test_drop_rate, 0);
  EXPECT_EQ(c->queue.on_full, OnFull::block);  // a fast publisher is slowed, not dropped
}

TEST(MulticastConfig, EveryKeyIsRead) {
  const auto c = parse(R"(
group: '[ff15::42]:5000'
interface: lo
ttl: 4
loopback: false
subjects: [orders.>]
import: [prices.>]
export: [audit.>]
max_datagram: 9000
max_message: 8MiB
reassembly: {memory: 16MiB, timeout: 2s}
repair: {window: 1MiB, nack_delay: 0s, nack_interval: 5ms, max_nacks: 3, max_missing: 1000,
         max_seq_jump: 800, max_nack_datagrams: 64, requester_rate: 1MiB,
         requester_burst: 256KiB, total_rate: 4MiB, total_burst: 1MiB, hold: 2MiB,
         owed_for: 300ms, max_owed: 5s, ordered: true}
announce_interval: 250ms
peer_timeout: 1s
max_peers: 8
queue_size: 1MiB
queue_messages: 1000
on_full: drop
block_timeout: 2s
receive_buffer: 1MiB
send_buffer: 512KiB
test_drop_rate: 0.01
)");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->group, "ff15::42");
  EXPECT_EQ(c->port, 5000);
  EXPECT_TRUE(c->ipv6);
  EXPECT_EQ(c->interface, "lo");
  EXPECT_EQ(c->ttl, 4);
  EXPECT_FALSE(c->loopback);
  EXPECT_FALSE(c->subjects.exports("prices.x"));
  EXPECT_TRUE(c->subjects.imports("prices.x"));
  EXPECT_EQ(c->max_datagram, 9000u);
  EXPECT_EQ(c->max_message, 8u << 20);
  EXPECT_EQ(c->reassembly_memory, 16u << 20);
  EXPECT_EQ(c->reassembly_timeout, 2s);
  EXPECT_EQ(c->repair.window_bytes, 1u << 20);
  EXPECT_EQ(c->repair.nack_delay, 0ms);
  EXPECT_EQ(c->repair.nack_interval, 5ms);
  EXPECT_EQ(c->repair.max_nacks, 3);
  EXPECT_EQ(c->repair.max_missing, 1000u);
  EXPECT_EQ(c->repair.max_seq_jump, 800u);
  EXPECT_EQ(c->repair.max_nack_datagrams, 64u);
  EXPECT_EQ(c->repair.requester_rate, 1u << 20);
  EXPECT_EQ(c->repair.requester_burst, 256u << 10);
  EXPECT_EQ(c->repair.total_rate, 4u << 20);
  EXPECT_EQ(c->repair.total_burst, 1u << 20);
  EXPECT_EQ(c->repair.hold_bytes, 2u << 20);
  EXPECT_EQ(c->repair.owed_for, 300ms);
  EXPECT_EQ(c->repair.max_owed, 5s);
  EXPECT_TRUE(c->repair.ordered);
  EXPECT_EQ(c->announce_interval, 250ms);
  EXPECT_EQ(c->peer_timeout, 1s);
  EXPECT_EQ(c->max_peers, 8u);
  EXPECT_EQ(c->queue.bytes, 1u << 20);
  EXPECT_EQ(c->queue.messages, 1000u);
  EXPECT_EQ(c->queue.on_full, OnFull::drop);
  EXPECT_EQ(c->queue.block_timeout, 2s);
  EXPECT_EQ(c->receive_buffer, 1u << 20);
  EXPECT_EQ(c->send_buffer, 512u << 10);
  EXPECT_DOUBLE_EQ(c->test_drop_rate, 0.01);
}

TEST(MulticastConfig, IPv6GroupsDefaultToASmallerDatagram) {
  const auto c = parse("group: '[ff02::1234]:4245'");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->max_datagram, 1452u);
}

TEST(MulticastConfig, RejectsWhatIsWrongWithFileAndLine) {
  expect_error("group: 10.0.0.1:4245", "not a multicast address");
  expect_error("group: '[fe80::1]:4245'", "not a multicast address");
  expect_error("group: 239.1.1.1", "group");
  expect_error("group: 239.1.1.1:0", "port");
  expect_error("ttl: 300", "ttl");
  expect_error("max_datagram: 100", "max_datagram");
  expect_error("max_datagram: 70000", "max_datagram");
  expect_error("max_message: 8MiB\nreassembly: {memory: 1MiB}", "reassembly.memory");
  expect_error("announce_interval: 5s\npeer_timeout: 5s", "peer_timeout");
  expect_error("test_drop_rate: 1.5", "test_drop_rate");
  expect_error("on_full: wait", "'multicast.on_full' must be 'block' or 'drop', not 'wait'");
  expect_error("block_timeout: 0s", "block_timeout");
  expect_error("test_drop_rate: lots", "test_drop_rate");
  expect_error("subjects: ['a..b']", "invalid subject pattern");
  expect_error("repair: {window: 1KiB}", "window");
  expect_error("repair: {max_seq_jump: 0}", "max_seq_jump");
  expect_error("repair: {max_missing: 100, max_seq_jump: 200}", "must not exceed");
  expect_error("repair: {max_nack_datagrams: 0}", "max_nack_datagrams");
  expect_error("repair: {requester_burst: 1KiB}", "requester_burst");
  expect_error("repair: {total_burst: 1KiB}", "total_burst");
  expect_error("repair: {total_rate: 10}", "total_rate");
  expect_error("grop: 239.1.1.1:1", "grop");
}

TEST(MulticastConfig, KeysComeFromAFileOnlyItsOwnerMayRead) {
  const std::string path = ::testing::TempDir() + "/multicast_config_test.keys";
  std::ofstream(path) << "3 " << std::string(64, 'c') << "\n";
  ::chmod(path.c_str(), 0600);
  auto c = parse("keys: " + path + "\nencrypt: true\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->keys_file, path);
  ASSERT_EQ(c->keys.size(), 1u);
  EXPECT_EQ(c->keys[0].id, 3);
  EXPECT_TRUE(c->encrypt);
  // Only the key file may change while running: the rest of the section is compared as text.
  const auto other_file = parse("keys: /elsewhere\n");
  EXPECT_FALSE(other_file);
  EXPECT_EQ(parse("encrypt: true\nkeys: " + path + "\n")->restart_keys, c->restart_keys);
  EXPECT_NE(parse("keys: " + path + "\n")->restart_keys, c->restart_keys);
  ::chmod(path.c_str(), 0604);
  expect_error("keys: " + path + "\n", "may be read or written by others");
  std::remove(path.c_str());
  expect_error("keys: " + path + "\n", "'multicast.keys': cannot read the key file");
  expect_error("encrypt: true\n", "'multicast.encrypt' needs 'multicast.keys'");
}

}  // namespace
}  // namespace psycho::multicast
