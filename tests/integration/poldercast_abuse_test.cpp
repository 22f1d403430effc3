// Hostile peers on the PolderCast overlay port of a real gateway: connections that announce
// large frames and never send them, too many connections from one address, a frame that
// never completes, and a taken overlay port. The gateway stays small and keeps serving its
// clients. Bounded in count and time. The overlay runs in plaintext here (chosen with
// admission.plaintext), so that raw frames reach the decoder; what a secure overlay's handshake
// refuses is in poldercast_security_test.cpp.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/gateway.hpp"
#include "support/observe.hpp"

namespace psycho::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kListening = "poldercast: listening address=127.0.0.1:";

std::string prefix(std::uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

// The gateway's resident memory, from /proc/<pid>/status (0 when unreadable).
std::size_t rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // in kB
  }
  return 0;
}

double dropped(Gateway& gw, const std::string& reason) {
  return metric(gw,
                "psycho_adapter_dropped_total{adapter=\"poldercast\",reason=\"" + reason + "\"}");
}

double connections_in(Gateway& gw) {
  return metric(gw, "psycho_poldercast_connections{adapter=\"poldercast\",direction=\"in\"}");
}

// Frames the overlay refused to decode, over every reason.
double decode_errors(Gateway& gw) {
  const std::string text = gw.http_get("/metrics");
  const std::string family =
      "\npsycho_adapter_dropped_total{adapter=\"poldercast\",reason=\"decode_";
  double sum = 0;
  for (auto at = text.find(family); at != std::string::npos; at = text.find(family, at + 1)) {
    sum += std::strtod(text.c_str() + text.find("} ", at) + 2, nullptr);
  }
  return sum;
}

void expect_healthy(Gateway& gw) {
  auto c = gw.client();
  c->send("CONNECT {\"verbose\":false,\"echo\":true}\nSUB health\nPUB health 2\nok\nPING\n");
  EXPECT_EQ(c->expect("PONG\n"), "MSG health 2\nok\nPONG\n");
}

class PolderCastAbuse : public ::testing::Test {
 protected:
  void TearDown() override {
    gateway_.reset();
    std::error_code ignored;  // best effort: a temp directory
    fs::remove_all(state_dir_, ignored);
  }

  // A gateway whose overlay listens on an ephemeral port, which it reports in its log.
  void start(const std::string& extra_yaml) {
    gateway_ = std::make_unique<Gateway>(
        with_config("poldercast:\n  listen: 127.0.0.1:0\n  state_dir: " + state_dir_ +
                    "\n  admission:\n    plaintext: true\n" + extra_yaml));
    ASSERT_TRUE(eventually(
        [&] { return gateway_->http_get("/readyz").rfind("HTTP/1.1 200", 0) == 0; }, 10s))
        << gateway_->process().errors();
    std::string log;
    ASSERT_TRUE(eventually([&] {
      log = gateway_->process().errors();
      return log.find(kListening) != std::string::npos;
    })) << log;
    overlay_port_ = std::stoi(log.substr(log.find(kListening) + kListening.size()));
  }

  Gateway& gw() { return *gateway_; }

  std::string state_dir_ =
      (fs::temp_directory_path() / ("psycho-pc-abuse-" + std::to_string(getpid()))).string();
  std::unique_ptr<Gateway> gateway_;
  int overlay_port_ = 0;
};

TEST_F(PolderCastAbuse, AnnouncedFramesCostOnlyTheBytesThatArrived) {
  // The address limit out of the way: here every connection must be accepted and read.
  start("  max_connections_per_address: 1000\n  frame_timeout: 60s\n  idle_timeout: 60s\n");
  const std::size_t before = rss_bytes(gw().process().pid());
  ASSERT_GT(before, 0u);
  constexpr int kConnections = 300;
  std::vector<std::unique_ptr<RawClient>> liars;
  for (int i = 0; i < kConnections; ++i) {
    liars.push_back(std::make_unique<RawClient>(overlay_port_));
    ASSERT_TRUE(liars.back()->connected());
    // A whole frame the overlay cannot decode (counted when read: proof the bytes were
    // read), then a megabyte announced and never sent.
    liars.back()->send(prefix(1) + "?" + prefix(1 << 20));
  }
  ASSERT_TRUE(eventually([&] { return decode_errors(gw()) >= kConnections; }, 10s))
      << decode_errors(gw());
  EXPECT_EQ(connections_in(gw()), kConnections);
  const std::size_t peak = rss_bytes(gw().process().pid());
  EXPECT_LT(peak, before + (40 << 20)) << "RSS went from " << before << " to " << peak;
  expect_healthy(gw());
}

TEST_F(PolderCastAbuse, ConnectionsPastThePerAddressLimitAreRefused) {
  start("  max_connections_per_address: 4\n");
  std::vector<std::unique_ptr<RawClient>> kept;
  for (int i = 0; i < 4; ++i) kept.push_back(std::make_unique<RawClient>(overlay_port_));
  ASSERT_TRUE(eventually([&] { return connections_in(gw()) == 4; }, 10s));
  for (int i = 0; i < 6; ++i) {
    RawClient extra(overlay_port_);
    EXPECT_TRUE(extra.closed_by_peer()) << i;
  }
  EXPECT_EQ(dropped(gw(), "link_address_limit"), 6);
  EXPECT_EQ(connections_in(gw()), 4);
  expect_healthy(gw());
}

TEST_F(PolderCastAbuse, AFrameThatNeverCompletesIsCut) {
  start("  frame_timeout: 300ms\n");
  RawClient stalled(overlay_port_);
  stalled.send(prefix(1000) + "only the start");
  EXPECT_TRUE(stalled.closed_by_peer(10s));
  EXPECT_EQ(dropped(gw(), "link_frame_timeout"), 1);
  expect_healthy(gw());
}

// A listening socket on 127.0.0.1, port chosen by the kernel, held for the test's life.
struct HeldPort {
  HeldPort() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd, 1) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) != 0) {
      return;
    }
    port = ntohs(a.sin_port);
  }
  ~HeldPort() {
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
  int port = 0;
};

TEST_F(PolderCastAbuse, ATakenOverlayPortIsExplainedOnce) {
  HeldPort held;
  ASSERT_GT(held.port, 0);
  const std::string where = "127.0.0.1:" + std::to_string(held.port);
  // The harness throws when the gateway exits before it reports its ports, with the exit
  // code and the gateway's stderr.
  std::string log;
  try {
    Gateway doomed(with_config("poldercast:\n  listen: " + where + "\n  state_dir: " + state_dir_ +
                               "\n  admission:\n    open: true\n"));
    FAIL() << "the gateway started on a taken overlay port";
  } catch (const std::runtime_error& e) {
    log = e.what();
  }
  EXPECT_NE(log.find("exited with code 1"), std::string::npos) << log;
  const auto at = log.find("cannot start");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("poldercast: cannot listen on " + where + ": Address already in use"),
            std::string::npos)
      << line;
  EXPECT_EQ(occurrences(line, "poldercast"), 1u) << line;
  EXPECT_EQ(occurrences(line, "cannot listen"), 1u) << line;
  EXPECT_EQ(occurrences(line, where), 1u) << line;
}

}  // namespace
}  // namespace psycho::testing
