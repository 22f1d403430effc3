#include "clients/stream.hpp"

#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace psycho::client::detail {
namespace {

namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Resolves and connects `socket`; shared by both stream kinds. The resolver lives in the
// stream so that close() in the middle of resolving is safe.
void resolve_and_connect(tcp::resolver& resolver, tcp::socket& socket, const Url& url,
                         OpenHandler done) {
  resolver.async_resolve(
      url.host, std::to_string(url.port),
      [&socket, done = std::move(done)](error_code ec, tcp::resolver::results_type results) {
        if (ec) return done(ec);
        asio::async_connect(socket, results, [&socket, done](error_code cec, const tcp::endpoint&) {
          // Small messages must leave at once: the writer already batches, Nagle would only
          // add latency to request/reply.
          if (!cec) socket.set_option(tcp::no_delay(true), cec);
          done(cec);
        });
      });
}

class TcpStream final : public Stream {
 public:
  explicit TcpStream(asio::io_context& ioc) : resolver_(ioc), socket_(ioc) {}

  void async_open(const Url& url, OpenHandler done) override {
    resolve_and_connect(resolver_, socket_, url, std::move(done));
  }
  void async_read_some(asio::mutable_buffer buffer, IoHandler done) override {
    socket_.async_read_some(buffer, std::move(done));
  }
  void async_write(asio::const_buffer buffer, IoHandler done) override {
    asio::async_write(socket_, buffer, std::move(done));
  }
  void close() override {
    error_code ignored;  // closing twice or an already reset socket is not an error here
    resolver_.cancel();
    socket_.close(ignored);
  }

 private:
  tcp::resolver resolver_;
  tcp::socket socket_;
};

class WsStream final : public Stream {
 public:
  explicit WsStream(asio::io_context& ioc) : resolver_(ioc), ws_(ioc) {}

  void async_open(const Url& url, OpenHandler done) override {
    auto host = url.authority();
    auto path = url.path;
    resolve_and_connect(resolver_, ws_.next_layer(), url,
                        [this, host, path, done = std::move(done)](error_code ec) {
                          if (ec) return done(ec);
                          ws_.async_handshake(host, path, [this, done](error_code hec) {
                            configure();
                            done(hec);
                          });
                        });
  }
  void async_read_some(asio::mutable_buffer buffer, IoHandler done) override {
    ws_.async_read_some(buffer, std::move(done));
  }
  void async_write(asio::const_buffer buffer, IoHandler done) override {
    ws_.async_write(buffer, std::move(done));
  }
  void close() override {
    error_code ignored;
    resolver_.cancel();
    boost::beast::get_lowest_layer(ws_).close(ignored);
  }

 private:
  void configure() {
    ws_.binary(true);
    // One batch = one frame: the server reassembles the byte stream across frames anyway.
    ws_.auto_fragment(false);
    // Messages are consumed piecewise by read_some, so their total size costs no memory.
    ws_.read_message_max(0);
  }

  tcp::resolver resolver_;
  websocket::stream<tcp::socket> ws_;
};

}  // namespace

std::unique_ptr<Stream> make_stream(asio::io_context& ioc, Scheme scheme) {
  if (scheme == Scheme::ws) return std::make_unique<WsStream>(ioc);
  return std::make_unique<TcpStream>(ioc);
}

}  // namespace psycho::client::detail
