// WebSocket and TLS transports of the real gateway, driven by Beast/Asio clients so that
// frame boundaries are under the test's control.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <cstdlib>

#include "support/gateway.hpp"
#include "support/tls_files.hpp"

namespace psycho::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class WsClient {
 public:
  explicit WsClient(int port, const std::string& path = "/") : ws_(io_) {
    tcp::resolver resolver(io_);
    asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.handshake("127.0.0.1", path);
  }
  void send_frame(const std::string& data, bool binary = false) {
    ws_.binary(binary);
    ws_.write(asio::buffer(data));
  }
  // Reads frames until `needle` has arrived; returns all text up to and including it.
  std::string expect(const std::string& needle) {
    while (received_.find(needle) == std::string::npos) {
      beast::flat_buffer b;
      ws_.read(b);
      received_ += beast::buffers_to_string(b.data());
    }
    const auto end = received_.find(needle) + needle.size();
    std::string got = received_.substr(0, end);
    received_.erase(0, end);
    return got;
  }
  websocket::stream<tcp::socket>& ws() { return ws_; }

 private:
  asio::io_context io_;
  websocket::stream<tcp::socket> ws_;
  std::string received_;
};

TEST(WebSocket, SpeaksPsychoAndInteroperatesWithTcpClients) {
  Gateway gw;
  RawClient(gw.port());  // wait until the gateway listens
  WsClient ws(gw.websocket_port());
  EXPECT_EQ(ws.expect("\n").rfind("INFO {", 0), 0u);
  // Several ops in one frame.
  ws.send_frame("CONNECT {\"verbose\":false}\nSUB ws.test\nPING\n");
  EXPECT_EQ(ws.expect("PONG\n"), "PONG\n");
  EXPECT_TRUE(ws.ws().got_binary());
  auto tcp_client = gw.client();
  tcp_client->send("PUB ws.test 5\nhello\n");
  EXPECT_EQ(ws.expect("hello\n"), "MSG ws.test 5\nhello\n");
  // One op split across three frames, text and binary mixed.
  tcp_client->send("SUB back.to.tcp\n");
  ASSERT_EQ(tcp_client->expect("+OK\n+OK\n"), "+OK\n+OK\n");
  ws.send_frame("PUB back.to");
  ws.send_frame(".tcp 3\nab", true);
  ws.send_frame("c\n");
  EXPECT_EQ(tcp_client->expect("abc\n"), "MSG back.to.tcp 3\nabc\n");
}

TEST(WebSocket, WrongPathIsRefused) {
  Gateway gw;
  RawClient(gw.port());
  EXPECT_THROW(WsClient(gw.websocket_port(), "/elsewhere"), boost::system::system_error);
}

TEST(WebSocket, StalledUpgradeIsClosedAfterTheHandshakeTimeout) {
  Gateway gw(with_config("gateway:\n  handshake_timeout: 300ms\n"));
  RawClient(gw.port());
  RawClient stalled(gw.websocket_port());
  stalled.send("GET / HTTP/1.1\r\nHost: x\r\n");  // and never the rest
  EXPECT_TRUE(stalled.closed_by_peer(std::chrono::seconds(5)));
}

TEST(WebSocket, ProtocolErrorsCloseTheSocketWithAnError) {
  Gateway gw;
  RawClient(gw.port());
  WsClient ws(gw.websocket_port());
  ws.expect("\n");
  ws.send_frame("BOGUS\n");
  EXPECT_EQ(ws.expect("\n"), "-ERR 'Unknown Protocol Operation'\n");
  beast::flat_buffer b;
  boost::system::error_code ec;
  ws.ws().read(b, ec);
  EXPECT_EQ(ec, websocket::error::closed);
}

TEST(Tls, TcpAndWebSocketSpeakTlsWhenConfigured) {
  TlsFiles files;
  Gateway gw(with_config("gateway:\n  tls:\n    cert_file: " + files.cert +
                         "\n    key_file: " + files.key + "\n  handshake_timeout: 3s\n"));
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(files.cert);
  ctx.set_verify_mode(asio::ssl::verify_peer);

  asio::ssl::stream<tcp::socket> tls(io, ctx);
  ASSERT_TRUE(eventually([&] {
    boost::system::error_code ec;
    tls.next_layer().connect(
        {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(gw.port())}, ec);
    return !ec;
  }));
  tls.handshake(asio::ssl::stream_base::client);
  asio::streambuf in;
  asio::read_until(tls, in, "\n");
  std::string info(asio::buffers_begin(in.data()), asio::buffers_end(in.data()));
  EXPECT_NE(info.find("\"tls_required\":true"), std::string::npos) << info;
  in.consume(in.size());
  asio::write(tls, asio::buffer(std::string("SUB secure\nPING\n")));
  asio::read_until(tls, in, "PONG\n");
  EXPECT_EQ(std::string(asio::buffers_begin(in.data()), asio::buffers_end(in.data())),
            "+OK\nPONG\n");

  websocket::stream<asio::ssl::stream<tcp::socket>> wss(io, ctx);
  wss.next_layer().next_layer().connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(gw.websocket_port())});
  wss.next_layer().handshake(asio::ssl::stream_base::client);
  wss.handshake("127.0.0.1", "/");
  beast::flat_buffer b;
  wss.read(b);
  EXPECT_EQ(beast::buffers_to_string(b.data()).rfind("INFO {", 0), 0u);

  // A client that never starts its TLS handshake is closed after the timeout.
  RawClient silent(gw.port());
  EXPECT_TRUE(silent.closed_by_peer(std::chrono::seconds(10)));
  // A plain-text client gets nowhere.
  RawClient plain(gw.port());
  plain.send("PING\n");
  EXPECT_EQ(plain.expect("PONG\n", std::chrono::milliseconds(500)), "");
}

}  // namespace
}  // namespace psycho::testing
