// A secure PolderCast overlay between real gateways (docs/poldercast.md#admission): members
// share a secret; a gateway without it, or with another one, or open to anyone, cannot
// complete a handshake with them. Each refusal is counted on both sides, and nothing is
// delivered to or from the outsider, while the members keep talking. An admitted but
// hostile node (psycho-pc-hostile, built from the production protocol library) that forges
// or alters publications has them dropped by every honest gateway, and one that floods is
// cut off while the others keep every message.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/gateway.hpp"
#include "support/observe.hpp"
#include "support/process.hpp"
#include "support/secret_file.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

double refusals(Gateway& gw, const std::string& reason) {
  return metric(gw, "psycho_poldercast_link_refusals_total{adapter=\"poldercast\",reason=\"" +
                        reason + "\"}");
}

// A figure summed over gateways.
template <class Gateways>
double total(const Gateways& gateways, const std::string& name) {
  double sum = 0;
  for (const auto& gw : gateways) sum += std::max(0.0, metric(*gw, name));
  return sum;
}

double handshakes(Gateway& gw) {
  return metric(gw, "psycho_poldercast_handshakes_total{adapter=\"poldercast\"}");
}

class PolderCastSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_);
    write_secret(secret("members"));
    write_secret(secret("others"));
  }
  void TearDown() override {
    clients_.clear();
    gateways_.clear();
    std::error_code ignored;  // best effort: a temp directory
    fs::remove_all(dir_, ignored);
  }

  std::string secret(const std::string& name) const { return (dir_ / (name + ".secret")).string(); }

  // A gateway seeded by the first one, with `admission` as its admission section, and a
  // client subscribed to `sec.news`.
  Gateway& start(const std::string& admission) {
    const std::string seeds =
        gateways_.empty()
            ? ""
            : "127.0.0.1:" + std::to_string(gateways_[0]->reported_port("poldercast"));
    const std::string name = std::to_string(gateways_.size());
    gateways_.push_back(std::make_unique<Gateway>(
        with_config("poldercast:\n  listen: 127.0.0.1:0\n  seeds: [" + seeds + "]\n  state_dir: " +
                    (dir_ / name).string() + "\n  cycle: 100ms\n  admission:\n" + admission)));
    Gateway& gw = *gateways_.back();
    EXPECT_TRUE(eventually([&] { return gw.http_get("/readyz").rfind("HTTP/1.1 200", 0) == 0; }))
        << gw.process().errors();
    auto c = gw.client();
    c->send("CONNECT {\"verbose\":false}\nSUB sec.news\nPING\n");
    EXPECT_EQ(c->line(), "PONG\n");
    clients_.push_back(std::move(c));
    return gw;
  }

  void publish(std::size_t from, const std::string& payload) {
    auto c = gateways_[from]->client();
    c->send("CONNECT {\"verbose\":false}\nPUB sec.news " + std::to_string(payload.size()) + "\n" +
            payload + "\nPING\n");
    EXPECT_EQ(c->line(), "PONG\n");
  }

  // Four members, each with a subscriber on sec.news, and an overlay that carries a probe
  // from the first to all of them.
  void start_members() {
    for (int i = 0; i < 4; ++i) start("    secret_file: " + secret("members") + "\n");
    for (int attempt = 0; attempt < 100; ++attempt) {
      const std::string probe = "probe-" + std::to_string(attempt);
      publish(0, probe);
      bool all = true;
      for (auto& c : clients_) all = !c->expect(frame("sec.news", probe), 300ms).empty() && all;
      if (all) break;
    }
    for (auto& c : clients_) {
      c->drain_for(300ms);
      c->discard_pending();
    }
  }

  // The hostile node, admitted with the members' secret, seeded by the first gateway.
  std::unique_ptr<Process> hostile(const std::string& mode, int seconds,
                                   const std::string& victim = "") {
    std::vector<std::string> argv = {
        PSYCHO_HOSTILE_BIN,
        mode,
        "127.0.0.1:" + std::to_string(gateways_[0]->reported_port("poldercast")),
        secret("members"),
        "sec.news",
        std::to_string(seconds)};
    if (!victim.empty()) argv.push_back(victim);
    auto p = std::make_unique<Process>(argv);
    EXPECT_TRUE(eventually([&] { return p->output().find("joined") != std::string::npos; }, 10s))
        << p->errors();
    return p;
  }

  // Every member's client gets each of `payloads` exactly once, and nothing with `foreign`.
  void everyone_got_exactly(const std::vector<std::string>& payloads, const std::string& foreign) {
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      RawClient& c = *clients_[i];
      std::string all = c.expect(frame("sec.news", payloads.back()), 10s);
      c.drain_for(1s);  // anything that would come twice, or forged, comes now
      all += c.pending();
      for (const auto& p : payloads) {
        EXPECT_EQ(occurrences(all, frame("sec.news", p)), 1u) << "gateway " << i << ": " << p;
      }
      EXPECT_EQ(occurrences(all, foreign), 0u) << "gateway " << i << ": " << headlines(all);
      c.discard_pending();
    }
  }

  const fs::path dir_ = fs::temp_directory_path() / ("psycho-pc-sec-" + std::to_string(getpid()));
  std::vector<std::unique_ptr<Gateway>> gateways_;
  std::vector<std::unique_ptr<RawClient>> clients_;  // clients_[i] on gateways_[i]
};

TEST_F(PolderCastSecurity, AGatewayWithoutTheSecretCannotJoin) {
  Gateway& a = start("    secret_file: " + secret("members") + "\n");
  Gateway& b = start("    secret_file: " + secret("members") + "\n");
  Gateway& wrong = start("    secret_file: " + secret("others") + "\n");
  Gateway& open = start("    open: true\n");
  // The members find each other; the outsiders keep trying and are refused every time.
  ASSERT_TRUE(eventually(
      [&] {
        return refusals(a, "bad_secret") >= 4 && refusals(wrong, "closed") >= 2 &&
               refusals(open, "closed") >= 2 && handshakes(b) >= 2;
      },
      10s))
      << a.http_get("/metrics");
  EXPECT_EQ(handshakes(wrong), 0);
  EXPECT_EQ(handshakes(open), 0);
  // Members deliver to each other (probing until the overlay has joined), and to nobody else.
  bool joined = false;
  for (int attempt = 0; attempt < 50 && !joined; ++attempt) {
    const std::string probe = "member-" + std::to_string(attempt);
    publish(0, probe);
    joined = !clients_[1]->expect(frame("sec.news", probe), 200ms).empty();
  }
  ASSERT_TRUE(joined) << b.http_get("/varz");
  publish(1, "from-b");
  EXPECT_FALSE(clients_[0]->expect(frame("sec.news", "from-b"), 5s).empty());
  // The outsiders publish too: nothing of theirs reaches a member.
  publish(2, "from-wrong");
  publish(3, "from-open");
  for (std::size_t i : {0u, 1u}) {
    clients_[i]->drain_for(1500ms);
    const std::string got = clients_[i]->pending();
    EXPECT_EQ(occurrences(got, "from-wrong"), 0u) << i;
    EXPECT_EQ(occurrences(got, "from-open"), 0u) << i;
  }
  for (std::size_t i : {2u, 3u}) {
    clients_[i]->drain_for(200ms);
    const std::string got = clients_[i]->pending();
    EXPECT_EQ(occurrences(got, "member-"), 0u) << i << ": " << headlines(got);
    EXPECT_EQ(occurrences(got, "from-b"), 0u) << i;
  }
  // Nor do the members know the outsiders.
  const std::string varz = a.http_get("/varz");
  for (Gateway* outsider : {&wrong, &open}) {
    const std::string port = std::to_string(outsider->reported_port("poldercast"));
    EXPECT_EQ(varz.find("127.0.0.1:" + port), std::string::npos) << varz;
  }
}

TEST_F(PolderCastSecurity, ForgedAndAlteredPublicationsAreDroppedByEveryHonestGateway) {
  start_members();
  const std::string victim = varz_field(*gateways_[1], "node_key");
  ASSERT_EQ(victim.size(), 64u);
  auto forger = hostile("forge", 5, victim);
  // Genuine traffic while the forger is in the ring: it receives it, alters it, and sends it
  // on, and sends publications in gateway 1's name besides.
  std::vector<std::string> genuine;
  for (int i = 0; i < 20; ++i) {
    genuine.push_back("genuine-" + std::to_string(i));
    publish(i % 2, genuine.back());
    std::this_thread::sleep_for(100ms);  // pacing the publisher over the forger's life
  }
  const std::string bad =
      "psycho_poldercast_signatures_total{adapter=\"poldercast\",result=\"bad\"}";
  EXPECT_TRUE(eventually([&] { return total(gateways_, bad) >= 10; }, 10s))
      << gateways_[0]->http_get("/metrics");
  everyone_got_exactly(genuine, "ed-");  // neither "forged-" nor "altered-"
  forger->wait(10s);
  EXPECT_NE(forger->output().find("sent "), std::string::npos);
  EXPECT_EQ(total(gateways_,
                  "psycho_adapter_dropped_total{adapter=\"poldercast\",reason=\"bad_"
                  "signature\"}"),
            total(gateways_, bad));
}

TEST_F(PolderCastSecurity, AFloodingPeerIsCutOffWhileTheOthersKeepEveryMessage) {
  start_members();
  auto flooder = hostile("flood", 4);
  const std::string cut = "psycho_poldercast_peers_cut_total{adapter=\"poldercast\"}";
  ASSERT_TRUE(eventually([&] { return total(gateways_, cut) >= 1; }, 10s))
      << gateways_[0]->http_get("/metrics");
  std::vector<std::string> genuine;
  for (int i = 0; i < 40; ++i) {
    genuine.push_back("during-flood-" + std::to_string(i));
    publish(i % 4, genuine.back());
  }
  everyone_got_exactly(genuine, "nothing-foreign");
  EXPECT_GT(total(gateways_,
                  "psycho_poldercast_throttled_total{adapter=\"poldercast\",kind=\"request\"}"),
            0);
  EXPECT_GT(total(gateways_,
                  "psycho_poldercast_throttled_total{adapter=\"poldercast\",kind=\"descriptor\"}"),
            0);
  // Cut off, it dials again and is refused while its ban lasts.
  EXPECT_TRUE(eventually(
      [&] {
        return total(gateways_,
                     "psycho_poldercast_link_refusals_total{"
                     "adapter=\"poldercast\",reason=\"banned\"}") >= 1;
      },
      10s));
  flooder->wait(10s);
}

}  // namespace
}  // namespace psycho::testing
