// Keyed multicast groups between real gateway processes, in the test's own network namespace
// (see multicast_test.cpp; docs/multicast.md#keys): keyed gateways deliver to each other; a
// gateway without the key, or with a wrong one, gets nothing through either way and its
// datagrams are counted; a captured datagram sent again is refused as a replay; keys rotate
// by reload, without restart and without a datagram refused.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "adapters/multicast/codec.hpp"
#include "adapters/multicast/datagram_auth.hpp"
#include "multicast_helpers.hpp"
#include "support/ports.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;
using namespace psycho::multicast;

const std::string kOld = "1 " + std::string(64, 'a') + "\n";
const std::string kNew = "2 " + std::string(64, 'b') + "\n";
const std::string kWrongOld = "1 " + std::string(64, 'c') + "\n";  // id 1, another secret

// Joins the group on lo as a gateway would, to see what the gateways send.
class GroupListener {
 public:
  explicit GroupListener(int group_port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    const int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(group_port));
    inet_pton(AF_INET, kGroup, &addr.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ip_mreqn mreq{};
    mreq.imr_multiaddr = addr.sin_addr;
    mreq.imr_ifindex = static_cast<int>(if_nametoindex("lo"));
    EXPECT_EQ(setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq), 0);
  }
  ~GroupListener() { ::close(fd_); }
  GroupListener(const GroupListener&) = delete;
  GroupListener& operator=(const GroupListener&) = delete;

  // The next datagram within `timeout`; "" when none came.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    std::string d(65536, '\0');
    const ssize_t n = ::recv(fd_, d.data(), d.size(), 0);
    d.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return d;
  }

 private:
  int fd_;
};

class MulticastKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!in_own_namespace()) {
      GTEST_SKIP() << "needs a network namespace of its own: run through ctest "
                      "(unshare --net), never on a shared network";
    }
  }
  void TearDown() override {
    for (const auto& f : files_) std::remove(f.c_str());
  }

  // A key file of its own for each gateway, as each host would have.
  std::string key_file(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + "/multicast_keys_" + name + "_" +
                             std::to_string(::getpid()) + ".keys";
    write_keys(path, text);
    files_.push_back(path);
    return path;
  }
  static void write_keys(const std::string& path, const std::string& text) {
    // Replaced whole, as a Kubernetes Secret update does.
    const std::string next = path + ".next";
    std::ofstream(next) << text;
    ::chmod(next.c_str(), 0600);
    ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
  }

  std::unique_ptr<Gateway> start(int port, const std::string& keys = "",
                                 const std::string& more = "") {
    auto gw = std::make_unique<Gateway>(
        with_config(multicast_config(port, (keys.empty() ? "" : "  keys: " + keys + "\n") + more)));
    EXPECT_TRUE(eventually([&] { return ready(*gw); })) << gw->process().errors();
    return gw;
  }

  std::unique_ptr<RawClient> subscriber(Gateway& gw, const std::string& subject = "mc.>") {
    auto c = psycho_client(gw);
    c->send("SUB " + subject + " 1\nPING\n");
    EXPECT_EQ(c->line(), "PONG\n");
    return c;
  }

  std::vector<std::string> files_;
};

double refused(Gateway& gw) {
  return dropped(gw, "unauthenticated") + dropped(gw, "unknown_key") + dropped(gw, "replayed");
}

TEST_F(MulticastKeysTest, OnlyKeyHoldersTalkAndStrangersAreCounted) {
  const ReservedPort group_port;
  const int port = group_port.port();
  auto a = start(port, key_file("a", kOld));
  auto b = start(port, key_file("b", kOld));
  auto keyless = start(port);
  auto wrong = start(port, key_file("wrong", kWrongOld));
  auto sub_a = subscriber(*a), sub_b = subscriber(*b);
  auto sub_keyless = subscriber(*keyless), sub_wrong = subscriber(*wrong);
  // The keyed two hear each other only; the others hear nobody, and count why.
  ASSERT_TRUE(eventually([&] { return multicast_metric(*b, "peers") == 1; }));
  ASSERT_TRUE(eventually([&] { return multicast_metric(*a, "peers") == 1; }));
  ASSERT_TRUE(eventually([&] {
    return dropped(*keyless, "unknown_key") > 0 && dropped(*wrong, "unauthenticated") > 0 &&
           dropped(*a, "unauthenticated") > 0 && dropped(*b, "unauthenticated") > 0;
  })) << a->http_get("/metrics");
  EXPECT_EQ(multicast_metric(*keyless, "peers"), 0);
  EXPECT_EQ(multicast_metric(*wrong, "peers"), 0);

  auto pub_keyless = psycho_client(*keyless);
  auto pub_wrong = psycho_client(*wrong);
  pub_keyless->send("PUB mc.from_keyless 1\nx\nPING\n");
  EXPECT_EQ(pub_keyless->line(), "PONG\n");
  pub_wrong->send("PUB mc.from_wrong 1\nx\nPING\n");
  EXPECT_EQ(pub_wrong->line(), "PONG\n");
  auto pub_a = psycho_client(*a);
  pub_a->send("PUB mc.from_a 2\nok\n");
  // The keyed peer gets a's message, and nothing of the strangers'.
  const std::string got = sub_b->expect(frame("mc.from_a", "ok"), 10s);
  EXPECT_EQ(got, frame("mc.from_a", "ok")) << headlines(got);
  // The strangers get nothing of a's (their own client's, looped back locally, they do).
  const std::string keyless_got = sub_keyless->expect(frame("mc.from_keyless", "x"));
  EXPECT_NE(keyless_got, "");
  sub_keyless->drain_for(300ms);
  sub_wrong->drain_for(300ms);
  EXPECT_EQ(sub_keyless->pending().find("mc.from_a"), std::string::npos);
  EXPECT_EQ(sub_wrong->pending().find("mc.from_a"), std::string::npos);
  sub_a->drain_for(100ms);
  EXPECT_EQ(sub_a->pending().find("from_keyless"), std::string::npos) << sub_a->pending();
  EXPECT_EQ(sub_a->pending().find("from_wrong"), std::string::npos) << sub_a->pending();
  EXPECT_EQ(sub_b->pending().find("from_"), std::string::npos) << sub_b->pending();
  // Nothing the strangers said was believed: no peer entry, no sequence, no delivery.
  EXPECT_EQ(multicast_metric(*a, "peers"), 1);
  EXPECT_EQ(multicast_metric(*b, "gaps_total"), 0);
  EXPECT_EQ(dropped(*a, "replayed") + dropped(*b, "replayed"), 0);
  EXPECT_EQ(dropped(*a, "unknown_key"), 0);  // `wrong` uses id 1: its tags fail instead
}

TEST_F(MulticastKeysTest, ACapturedDatagramSentAgainIsAReplay) {
  const ReservedPort group_port;
  const int port = group_port.port();
  GroupListener listener(port);
  auto a = start(port, key_file("a", kOld));
  auto b = start(port, key_file("b", kOld));
  auto sub_b = subscriber(*b);
  ASSERT_TRUE(eventually([&] { return multicast_metric(*b, "peers") == 1; }));
  ASSERT_TRUE(eventually([&] { return hears_wanted(*a, "mc.>"); })) << a->http_get("/varz");
  auto pub_a = psycho_client(*a);
  pub_a->send("PUB mc.once 4\nonce\n");
  ASSERT_EQ(sub_b->expect(frame("mc.once", "once"), 10s), frame("mc.once", "once"));
  // Find it on the wire: a packed datagram, keyed, carrying the subject in the clear.
  std::string captured;
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       captured.empty() && std::chrono::steady_clock::now() < deadline;) {
    const std::string d = listener.next(100ms);
    if (d.size() > kCommonHeaderSize && d[5] == static_cast<char>(Type::packed) &&
        d.find("mc.once") != std::string::npos) {
      captured = d;
    }
  }
  ASSERT_FALSE(captured.empty());
  EXPECT_EQ(captured[kKeyIdOffset], 1);
  // Sent again from a's own source address: the window refuses it before anything else.
  GroupSender again(port, "127.0.0.1", port);
  again.send(captured);
  ASSERT_TRUE(eventually([&] { return dropped(*b, "replayed") >= 1; })) << b->http_get("/metrics");
  // With a counter never seen and one bit of the message changed, it is a forgery instead.
  std::string forged = captured;
  forged[forged.size() - kTagSize - 1] ^= 0x40;
  forged[forged.size() - kTrailerSize - 1] ^= 1;
  again.send(forged);
  ASSERT_TRUE(eventually([&] { return dropped(*b, "unauthenticated") >= 1; }));
  pub_a->send("PUB mc.after 5\nafter\n");
  const std::string got = sub_b->expect(frame("mc.after", "after"), 10s);
  EXPECT_EQ(got, frame("mc.after", "after")) << headlines(got);  // nothing twice
}

TEST_F(MulticastKeysTest, KeysRotateByReloadWithoutLosingADatagram) {
  const ReservedPort group_port;
  const int port = group_port.port();
  const std::string file_a = key_file("a", kOld), file_b = key_file("b", kOld);
  auto a = start(port, file_a);
  auto b = start(port, file_b);
  auto sub_b = subscriber(*b, "mc.rot");
  ASSERT_TRUE(eventually([&] { return multicast_metric(*b, "peers") == 1; }));
  ASSERT_TRUE(eventually([&] { return hears_wanted(*a, "mc.rot"); })) << a->http_get("/varz");

  // a publishes all along; each batch waits for its PONG, so a is never far ahead.
  std::atomic<bool> stop{false};
  std::atomic<int> published{0};
  std::thread publisher([&] {
    auto pub = psycho_client(*a);
    while (!stop.load()) {
      std::string batch;
      for (int i = 0; i < 20; ++i) batch += "PUB mc.rot 1\nx\n";
      pub->send(batch + "PING\n");
      if (pub->expect("PONG\n").empty()) return;
      published += 20;
    }
  });
  const auto keys_are = [&](Gateway& gw, const std::string& send, const std::string& accepted) {
    return eventually([&] {
      const std::string varz = gw.http_get("/varz");
      return varz.find("\"send\":" + send + ",\"accepted\":[" + accepted + "]") !=
             std::string::npos;
    });
  };
  const auto step = [&](const std::string& text, const std::string& send,
                        const std::string& accepted) {
    write_keys(file_a, text);
    write_keys(file_b, text);
    a->process().signal(SIGHUP);
    b->process().signal(SIGHUP);
    EXPECT_TRUE(keys_are(*a, send, accepted)) << a->process().errors();
    EXPECT_TRUE(keys_are(*b, send, accepted)) << b->process().errors();
    const int before = published.load();
    EXPECT_TRUE(eventually([&] { return published.load() > before + 100; }));
    // b has read everything sealed before this step, so that the next step may forget a
    // key without b finding datagrams under it still in its socket buffer (a receiver slow
    // on a loaded machine): an operator forgets an old key once traffic under it is over.
    const auto sent = static_cast<std::size_t>(published.load());
    EXPECT_TRUE(eventually(
        [&] {
          sub_b->drain_for(10ms);
          return occurrences(sub_b->pending(), "MSG mc.rot ") >= sent;
        },
        20s));
  };
  ASSERT_TRUE(keys_are(*a, "1", "1"));
  step(kOld + kNew, "1", "1,2");  // accept the new key everywhere
  step(kNew + kOld, "2", "2,1");  // send with it, still accept the old
  step(kNew, "2", "2");           // forget the old one
  stop = true;
  publisher.join();
  const int total = published.load();
  ASSERT_GT(total, 300);
  ASSERT_TRUE(eventually(
      [&] {
        sub_b->drain_for(50ms);
        return occurrences(sub_b->pending(), "MSG mc.rot ") >= static_cast<std::size_t>(total);
      },
      20s));
  EXPECT_EQ(occurrences(sub_b->pending(), "MSG mc.rot "), static_cast<std::size_t>(total));
  // Not a datagram refused, so none needed repair for it; and no restart: the same process.
  EXPECT_EQ(refused(*a), 0) << a->http_get("/metrics");
  EXPECT_EQ(refused(*b), 0) << b->http_get("/metrics");
  EXPECT_EQ(multicast_metric(*b, "lost_total"), 0);
  EXPECT_NE(a->process().errors().find("multicast: keys reloaded"), std::string::npos);
  EXPECT_EQ(a->process().errors().find(std::string(64, 'b')), std::string::npos);  // no secret
}

TEST_F(MulticastKeysTest, AReloadThatWouldUnkeyTheGroupOrBreakTheFileIsRefused) {
  const ReservedPort group_port;
  const int port = group_port.port();
  const std::string file = key_file("a", kOld);
  auto a = start(port, file);
  write_keys(file, "1 short\n");
  a->process().signal(SIGHUP);
  EXPECT_TRUE(eventually([&] {
    return a->process().errors().find("configuration not reloaded") != std::string::npos;
  }));
  EXPECT_EQ(a->process().errors().find(std::string("1 short")), std::string::npos);
  {
    std::ofstream(a->config_path()) << multicast_config(port);  // no keys at all
  }
  a->process().signal(SIGHUP);
  EXPECT_TRUE(eventually([&] {
    return a->process().errors().find("keying an unkeyed group or the reverse") !=
           std::string::npos;
  })) << a->process().errors();
  EXPECT_NE(a->http_get("/varz").find("\"send\":1,\"accepted\":[1]"), std::string::npos);
}

}  // namespace
}  // namespace psycho::testing
