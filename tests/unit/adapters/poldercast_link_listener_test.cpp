#include "adapters/poldercast/link_listener.hpp"

#include <gtest/gtest.h>

#include "run_until.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace psycho::poldercast {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using test::kWait;
using test::run_until;

// A listener with room for three connections, two from any one address, and the sockets
// it admitted.
struct LinkListenerTest : ::testing::Test {
  asio::io_context io;
  std::vector<std::pair<tcp::socket, asio::ip::address>> admitted;
  std::shared_ptr<LinkListener> listener = std::make_shared<LinkListener>(
      io, "test", ListenerBounds{.max_connections = 3, .max_per_address = 2},
      [this](tcp::socket s, const asio::ip::address& remote) {
        admitted.emplace_back(std::move(s), remote);
      });
  std::uint16_t port = 0;
  std::vector<std::unique_ptr<tcp::socket>> clients;

  void SetUp() override {
    auto bound = listener->listen("127.0.0.1", 0);
    ASSERT_TRUE(bound) << bound.error();
    port = bound.value();
  }

  // Connects from `from` (any address of the loopback network) and waits until the
  // listener has decided: admitted, or refused and counted.
  void connect_from(const std::string& from) {
    auto client = std::make_unique<tcp::socket>(io);
    client->open(tcp::v4());
    client->bind({asio::ip::make_address(from), 0});
    client->connect({asio::ip::make_address("127.0.0.1"), port});
    clients.push_back(std::move(client));
    const auto decided = [&] {
      const auto& c = listener->counters();
      return c.accepted + c.refused_no_slot + c.refused_per_address;
    };
    const auto before = decided();
    ASSERT_TRUE(run_until(io, [&] { return decided() > before; }));
  }
};

TEST_F(LinkListenerTest, OneAddressGetsItsShareAndOthersTheRest) {
  connect_from("127.0.0.1");
  connect_from("127.0.0.1");
  connect_from("127.0.0.1");  // a third from one address: refused
  EXPECT_EQ(listener->counters().refused_per_address, 1u);
  connect_from("127.0.0.2");  // another address still gets in
  EXPECT_EQ(listener->counters().accepted, 3u);
  connect_from("127.0.0.3");  // but not past the bound over all
  EXPECT_EQ(listener->counters().refused_no_slot, 1u);
  EXPECT_EQ(listener->admitted(), 3u);

  // The refused connections were closed: their clients read the end.
  for (std::size_t i : {2u, 4u}) {
    char byte;
    boost::system::error_code ec;
    clients[i]->read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof) << "client " << i;
  }

  // A released slot is free again, for its address and over all.
  listener->release(admitted.front().second);
  connect_from("127.0.0.1");
  EXPECT_EQ(listener->counters().accepted, 4u);
  EXPECT_EQ(listener->admitted(), 3u);
}

TEST_F(LinkListenerTest, ListeningTwiceOrAfterCloseIsAnError) {
  auto again = listener->listen("127.0.0.1", 0);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().find("test: cannot listen on 127.0.0.1:0: already listening"),
            std::string::npos)
      << again.error();
  listener->close();
  auto closed = listener->listen("127.0.0.1", 0);
  ASSERT_FALSE(closed);
  EXPECT_NE(closed.error().find("closed"), std::string::npos) << closed.error();
}

}  // namespace
}  // namespace psycho::poldercast
