// What the multicast integration tests share: the gateway configuration, clients, figures
// from /metrics and /varz, and a socket that sends to the group as a stranger on the LAN
// would. They run only inside a network namespace of their own (multicast_test.cpp).
#pragma once

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "support/gateway.hpp"
#include "support/observe.hpp"

namespace psycho::testing {

inline constexpr const char* kGroup = "239.255.42.42";

inline bool in_own_namespace() { return std::getenv("PSYCHO_MULTICAST_NETNS") != nullptr; }

// `repair`: more keys of the repair section ("requester_burst: 64KiB"); naming max_nacks
// there replaces the tests' 100.
inline std::string multicast_config(int port, const std::string& more = "",
                                    const std::string& repair = "") {
  // Parallel ctest runs and sanitizers can stall a gateway for longer than the default
  // repair horizon (8 NACKs 20 ms apart); most tests are about correctness, not that.
  std::string keys = repair.find("max_nacks") == std::string::npos ? "max_nacks: 100" : "";
  if (!repair.empty()) keys += (keys.empty() ? "" : ", ") + repair;
  return "gateway:\n  max_payload: 1MiB\nmulticast:\n  group: " + std::string(kGroup) + ":" +
         std::to_string(port) +
         "\n  interface: 127.0.0.1\n  announce_interval: 100ms\n  peer_timeout: 2s\n"
         "  repair: {" +
         keys + "}\n" + more;
}

// A fixture for tests that send to the group: skipped unless in a namespace of their own.
class MulticastNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!in_own_namespace()) {
      GTEST_SKIP() << "needs a network namespace of its own: run through ctest "
                      "(unshare --net), never on a shared network";
    }
  }
};

inline std::unique_ptr<RawClient> psycho_client(Gateway& gw) {
  auto c = gw.client();
  c->send("CONNECT {\"verbose\":false,\"echo\":true}\nPING\n");
  EXPECT_EQ(c->line(), "PONG\n");
  return c;
}

inline bool ready(Gateway& gw) { return gw.http_get("/readyz").rfind("HTTP/1.1 200", 0) == 0; }

inline double dropped(Gateway& gw, const std::string& reason) {
  return metric(gw,
                "psycho_adapter_dropped_total{adapter=\"multicast\",reason=\"" + reason + "\"}");
}

// psycho_multicast_<name>{adapter="multicast"<, labels>}.
inline double multicast_metric(Gateway& gw, const std::string& name,
                               const std::string& labels = "") {
  return metric(gw, "psycho_multicast_" + name + "{adapter=\"multicast\"" +
                        (labels.empty() ? "" : "," + labels) + "}");
}

// The gateway's node id as its multicast adapter shows it in /varz (0 when not found).
inline std::uint64_t multicast_node_id(Gateway& gw) {
  const std::string varz = gw.http_get("/varz");
  const std::string key = "\"node_id\":\"";
  const auto group = varz.find("\"group\":\"" + std::string(kGroup));
  const auto at = group == std::string::npos ? group : varz.find(key, group);
  if (at == std::string::npos) return 0;
  return std::strtoull(varz.c_str() + at + key.size(), nullptr, 16);
}

// Whether `sender` has heard `peers` peers on the group want `fabric_pattern` (or
// everything): a gateway sends only what someone wants, and one peer may hear another's
// interest later than the other heard of it. Reads the peers in /varz.
inline bool hears_wanted(Gateway& sender, const std::string& fabric_pattern, int peers = 1) {
  const std::string varz = sender.http_get("/varz");
  const auto list = varz.find("\"peers\":[");
  if (list == std::string::npos) return false;
  int found = 0;
  for (const std::string& needle :
       {"\"" + fabric_pattern + "\"", std::string("\"wants\":\"everything\""),
        std::string("\"wants\":\"unknown\"")}) {
    for (auto at = varz.find(needle, list); at != std::string::npos;
         at = varz.find(needle, at + 1)) {
      ++found;
    }
  }
  return found >= peers;
}

inline std::string payload_of(std::size_t size, char seed) {
  std::string p(size, ' ');
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<char>('a' + (seed + i * 7) % 26);
  return p;
}

// A UDP socket that sends to the group through lo from `local_host`:`local_port` (port 0:
// any), with SO_REUSEADDR. Bound like a gateway's socket (the group's address and port), it
// sends from the very source address the gateways do.
class GroupSender {
 public:
  GroupSender(int group_port, const std::string& local_host = "127.0.0.1", int local_port = 0)
      : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    EXPECT_GE(fd_, 0);
    const int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(static_cast<std::uint16_t>(local_port));
    inet_pton(AF_INET, local_host.c_str(), &local.sin_addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local), 0)
        << local_host << ":" << local_port;
    // By interface index, as the gateways choose it: the source is then the bound address.
    ip_mreqn out{};
    out.imr_ifindex = static_cast<int>(if_nametoindex("lo"));
    setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &out, sizeof out);
    to_.sin_family = AF_INET;
    to_.sin_port = htons(static_cast<std::uint16_t>(group_port));
    inet_pton(AF_INET, kGroup, &to_.sin_addr);
  }
  ~GroupSender() { ::close(fd_); }
  GroupSender(const GroupSender&) = delete;
  GroupSender& operator=(const GroupSender&) = delete;

  void send(const std::string& bytes) {
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to_),
             sizeof to_);
  }

 private:
  int fd_;
  sockaddr_in to_{};
};

}  // namespace psycho::testing
