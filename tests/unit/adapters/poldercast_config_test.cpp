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

TEST(PolderCastConfig, DefaultsNeedOnlyAnAddressOthersCanDialAndAnAdmissionPolicy) {
  const auto c = parse("{advertise: 'gw-1.example:4250', admission: {open: true}}");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->listen.to_string(), "0.0.0.0:4250");
  EXPECT_EQ(c->cycle, 1000ms);
  EXPECT_EQ(c->node.fanout, 3u);
  EXPECT_EQ(c->node.cyclon_view, 20u);
  EXPECT_EQ(c->node.vicinity_gossip, 10u);
  EXPECT_TRUE(c->key_file.empty());
  EXPECT_TRUE(c->admission.open);
  EXPECT_FALSE(c->plaintext);
  EXPECT_TRUE(c->subjects.exports("any.thing"));
  // A listen address that is not a wildcard is its own advertised address.
  const auto local = parse("{listen: '127.0.0.1:7000', admission: {plaintext: true}}");
  ASSERT_TRUE(local) << local.error();
  EXPECT_EQ(local->advertise, "127.0.0.1:7000");
}

TEST(PolderCastConfig, BrowserLinksAreOptIn) {
  const auto off = parse("{listen: '127.0.0.1:7000', admission: {plaintext: true}}");
  ASSERT_TRUE(off) << off.error();
  EXPECT_FALSE(off->websocket.enabled());
  const auto on =
      parse("{listen: '127.0.0.1:7000', websocket: '127.0.0.1:0', admission: {plaintext: true}}");
  ASSERT_TRUE(on) << on.error();
  EXPECT_EQ(on->websocket.to_string(), "127.0.0.1:0");
  // A stream frame may carry a whole publication inside a relay envelope for a browser.
  EXPECT_GT(on->transport.max_frame, on->node.max_publication);
  EXPECT_FALSE(
      parse("{listen: '127.0.0.1:7000', websocket: 'nowhere', admission: {plaintext: true}}"));
}

TEST(PolderCastConfig, BrowserLinksPerAddressHaveTheirOwnBound) {
  const auto plain = parse("{listen: '127.0.0.1:7000', admission: {plaintext: true}}");
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->websocket_max_per_address, 64u);  // above the gateways' 16: NATs
  const auto set = parse(
      "{listen: '127.0.0.1:7000', websocket: '127.0.0.1:0', websocket_max_per_address: 3, "
      "admission: {plaintext: true}}");
  ASSERT_TRUE(set) << set.error();
  EXPECT_EQ(set->websocket_max_per_address, 3u);
  const auto zero = parse(
      "{listen: '127.0.0.1:7000', websocket_max_per_address: 0, admission: {plaintext: true}}");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().find("websocket_max_per_address"), std::string::npos) << zero.error();
}

// Browser nodes publish unsigned and prove no key: no admission policy but plaintext lets
// them in, and the error names both keys.
TEST(PolderCastConfig, BrowserLinksOnlyOnAPlaintextOverlay) {
  for (const auto& admission :
       std::vector<std::string>{"{open: true}", "{allow: [" + std::string(64, 'a') + "]}"}) {
    const auto c =
        parse("{listen: '127.0.0.1:7000', websocket: '127.0.0.1:0', admission: " + admission + "}");
    ASSERT_FALSE(c) << admission;
    EXPECT_NE(c.error().find("'poldercast.websocket'"), std::string::npos) << c.error();
    EXPECT_NE(c.error().find("'poldercast.admission.plaintext: true'"), std::string::npos)
        << c.error();
  }
}

TEST(PolderCastConfig, EveryKeyIsRead) {
  const auto c = parse(R"(
listen: '[::1]:7001'
advertise: 'peer.example:7001'
seeds: ['a.example:1', '10.0.0.2:4250']
key_file: /etc/psycho/node.key
state_dir: /var/lib/psycho
admission:
  allow: [0101010101010101010101010101010101010101010101010101010101010101]
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
handshake_timeout: 750ms
)");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->listen.host, "::1");
  EXPECT_EQ(c->seeds.size(), 2u);
  EXPECT_EQ(c->key_file, "/etc/psycho/node.key");
  EXPECT_EQ(c->admission.allow.size(), 1u);
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
  EXPECT_EQ(c->transport.handshake_timeout, 750ms);
  EXPECT_GE(c->transport.max_frame, c->max_payload);
  EXPECT_FALSE(c->subjects.exports("other"));
}

TEST(PolderCastConfig, RejectsWhatIsWrongWithFileAndLine) {
  for (const auto& [yaml, part] : std::vector<std::pair<std::string, std::string>>{
           {"{}", "'poldercast.advertise' is required"},
           {"{listen: '127.0.0.1:1', seeds: [nope]}", "'nope' is not host:port"},
           {"{listen: '127.0.0.1:1', advertise: 'x'}", "must be host:port"},
           {"{listen: '127.0.0.1:1', node_id: 12}", "derives from the node's key"},
           {"{listen: '127.0.0.1:1'}",
            "'secret_file' (a shared overlay secret), 'allow' (a list of node public keys), 'ca' "
            "(a CA key that certifies node keys), or 'open: true'"},
           {"{listen: '127.0.0.1:1', admission: {open: false}}", "must say who may join"},
           {"{listen: '127.0.0.1:1', admission: {plaintext: true, open: true}}", "cannot go with"},
           {"{listen: '127.0.0.1:1', admission: {allow: [abc]}}", "64 hex digits"},
           {"{listen: '127.0.0.1:1', admission: {secret_file: /nonexistent/secret}}",
            "cannot read the key file"},
           {"{listen: '127.0.0.1:1', admission: {opne: true}}", "opne"},
           {"{listen: '127.0.0.1:1', admission: {ca: " + std::string(64, 'a') + "}}",
            "go together"},
           {"{listen: '127.0.0.1:1', admission: {ca: abc, certificate_file: /nonexistent}}",
            "64 hex digits"},
           {"{listen: '127.0.0.1:1', admission: {ca: " + std::string(64, 'a') +
                ", certificate_file: /nonexistent}}",
            "does not hold 'NOT_AFTER SIGNATURE'"},
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
    EXPECT_NE(c.error().find(part), std::string::npos) << yaml << ": " << c.error();
    EXPECT_NE(c.error().find("pc.yaml:"), std::string::npos) << c.error();
  }
}

TEST(PolderCastConfig, ASharedSecretFileBecomesOnePreSharedKeyPerLine) {
  namespace fs = std::filesystem;
  const fs::path file =
      fs::temp_directory_path() / ("psycho-pc-secret-" + std::to_string(getpid()));
  std::ofstream(file) << "2 " << std::string(64, 'b') << "\n1 " << std::string(64, 'a') << "\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  const auto c =
      parse("{listen: '127.0.0.1:1', admission: {secret_file: '" + file.string() + "'}}");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->admission.secrets.size(), 2u);
  EXPECT_EQ(c->admission.secrets[0].first, 2);  // dialled with
  EXPECT_NE(c->admission.secrets[0].second, c->admission.secrets[1].second);
  fs::permissions(file, fs::perms::others_read, fs::perm_options::add);
  const auto readable =
      parse("{listen: '127.0.0.1:1', admission: {secret_file: '" + file.string() + "'}}");
  ASSERT_FALSE(readable);
  EXPECT_NE(readable.error().find("read or written by others"), std::string::npos);
  fs::remove(file);
}

TEST(PolderCastConfig, ACaAndThisNodesCertificateAreRead) {
  namespace fs = std::filesystem;
  const fs::path file = fs::temp_directory_path() / ("psycho-pc-cert-" + std::to_string(getpid()));
  std::ofstream(file) << "1700000000 " << std::string(128, 'c') << "\n";
  const auto c = parse("{listen: '127.0.0.1:1', admission: {ca: " + std::string(64, 'a') +
                       ", certificate_file: '" + file.string() + "'}}");
  ASSERT_TRUE(c) << c.error();
  ASSERT_TRUE(c->admission.ca.has_value());
  EXPECT_EQ((*c->admission.ca)[0], 0xaa);
  ASSERT_TRUE(c->admission.certificate.has_value());
  EXPECT_EQ(c->admission.certificate->not_after, 1700000000u);
  EXPECT_EQ(c->admission.certificate->signature[63], 0xcc);
  fs::remove(file);
}

TEST(PolderCastConfig, AGeneratedNodeKeyIsKeptInTheStateDirectory) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("psycho-pc-config-" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto c = parse("{listen: '127.0.0.1:1', admission: {open: true}, state_dir: '" +
                 (dir / "state").string() + "'}");
  ASSERT_TRUE(c) << c.error();
  const auto first = load_node_key(*c, c->advertise);
  ASSERT_TRUE(first) << first.error();
  const auto again = load_node_key(*c, c->advertise);
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(first.value()->id(), again.value()->id());
  // Another gateway in the same directory (another address) gets a key of its own.
  EXPECT_EQ(node_key_file(c->advertise), "poldercast-127.0.0.1_1.key");
  const auto second = load_node_key(*c, "127.0.0.1:2");
  ASSERT_TRUE(second) << second.error();
  EXPECT_NE(second.value()->id(), first.value()->id());
  // A configured key file wins, and must exist: never a silent new identity.
  c->key_file = (dir / "state" / "poldercast-127.0.0.1_2.key").string();
  EXPECT_EQ(load_node_key(*c, c->advertise).value()->id(), second.value()->id());
  c->key_file = (dir / "missing.key").string();
  EXPECT_FALSE(load_node_key(*c, c->advertise));
  // A damaged file is an error too.
  c->key_file.clear();
  std::ofstream(dir / "state" / node_key_file(c->advertise)) << "not a key\n";
  const auto damaged = load_node_key(*c, c->advertise);
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().find("Ed25519"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace psycho::poldercast
